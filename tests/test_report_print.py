"""How the signed report prints: the outline, long words, emoji, the seal stamp, and the
finish and seal times of a back-filled close. Read back with pikepdf and poppler
(pdftotext, pdffonts, pdftoppm), as a reader's tools see it."""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from generator.cli import cli

pikepdf = pytest.importorskip("pikepdf")
pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")

CHECKLIST = """
    ---
    title: Deploy the API 🚀
    id: deploy
    ---
    # Deploy the API 🚀

    Unassigned items first.

    - [ ] Page the on-call {#page}

    ## 🔐 Security

    - [ ] Rotate the ✅ credentials 🔑 {#rotate}
    - [ ] Check the certificate chain for every public endpoint and partner gateway {#chain}

    ## Before

    - [ ] Announce the window {#announce}
    - [ ] Freeze merges 𓀀 {#freeze}

    ## Sign-off

    | Role | Name | Signature | Date |
    |------|------|-----------|------|
    | Release Manager | | | |
"""
URL = ("https://grafana.example.com/d/abcdef0123456789/api-latency?orgId=1&from=1717228800000&to=1717232400000"
       "&viewPanel=42")
HASH = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
IDENTIFIER = "release_train_" + "x" * 66  # 80 characters, no break opportunity
CHAIN_ITEM = "Check the certificate chain for every public endpoint and partner gateway"
MM = 72 / 25.4


@dataclass(frozen=True)
class Sealed:
    """Two sealed runs of one project: one closed with --at (back-filled), one closed now."""

    project: Path
    back_filled: str
    closed_now: str
    certificate: Path

    def pdf(self, run_id: str) -> Path:
        return self.project / f"content/runs/deploy/{run_id}.pdf"


def _cli(*args: Any) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory, signing_key: Any) -> Iterator[Sealed]:
    project = tmp_path_factory.mktemp("print")
    (project / "content").mkdir()
    (project / "content/deploy.md").write_text(textwrap.dedent(CHECKLIST).lstrip("\n"), encoding="utf-8")
    ids = []
    for release, at in (("v2.0 🚀", "2026-06-01T09:10:00Z"), ("v2.1", None)):
        run_id = _cli("run", "start", "deploy", "--release", release, "--operator", "Olga 👩‍💻", "--change", "CHG-9",
                      "--at", "2026-06-01T08:00:00Z", "-C", project).stdout.strip()
        for item, status, note in (("page", "done", ""), ("rotate", "done", f"done ✅ see {URL}"),
                                   ("chain", "failed", f"{HASH} {IDENTIFIER}"), ("announce", "skipped", URL),
                                   ("freeze", "done", "")):
            _cli("run", "mark", run_id, item, "--status", status, "--by", "Ari 🛠", "--at", "2026-06-01T08:30:00Z",
                 *(["--note", note] if note else []), "-C", project)
        _cli("run", "signoff", run_id, "--role", "Release Manager", "--name", "Rhea 🙂", "--decision", "approve",
             "--at", "2026-06-01T09:00:00Z", "-C", project)
        _cli("run", "close", run_id, "--key", signing_key.pkcs12, "--force", *(["--at", at] if at else []),
             "-C", project)
        ids.append(run_id)
    yield Sealed(project, ids[0], ids[1], signing_key.certificate)


def pdftext(pdf: Path, *pages: int) -> str:
    first_last = ["-f", str(pages[0]), "-l", str(pages[-1])] if pages else []
    return subprocess.run(["pdftotext", "-layout", *first_last, str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


@dataclass(frozen=True)
class Word:
    page: int
    x_min: float
    x_max: float
    y_min: float
    text: str


def words(pdf: Path) -> tuple[float, list[Word]]:
    """Every word poppler finds, with its box in points; and the page width."""
    html = subprocess.run(["pdftotext", "-enc", "UTF-8", "-bbox", str(pdf), "-"], capture_output=True,
                          check=True).stdout.decode("utf-8", "replace")
    width = float(re.search(r'<page width="([\d.]+)"', html).group(1))  # type: ignore[union-attr]
    found = []
    for number, page in enumerate(html.split("<page ")[1:], start=1):
        for x_min, y_min, x_max, text in re.findall(
                r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', page):
            found.append(Word(number, float(x_min), float(x_max), float(y_min), unescape(text)))
    return width, found


def outline(pdf: Path) -> list[tuple[str, list[str]]]:
    with pikepdf.open(pdf) as document, document.open_outline() as tree:
        return [(item.title, [child.title for child in item.children]) for item in tree.root]


def test_outline_has_an_items_level_beside_exceptions(sealed: Sealed) -> None:
    tree = outline(sealed.pdf(sealed.back_filled))
    assert [title for title, _ in tree] == ["Cover", "Exceptions", "Items", "Sign-off", "Appendix: evidence manifest"]
    children = dict(tree)
    assert children["Exceptions"] == []
    assert children["Items"] == ["🔐 Security", "Before"]  # items before any heading sit under Items itself


def test_long_words_wrap_and_leave_the_item_column_its_width(sealed: Sealed) -> None:
    width, found = words(sealed.pdf(sealed.back_filled))
    right_margin = width - 16 * MM  # @page margin: 16 mm
    outside = [w for w in found if w.x_max > right_margin + 1 or w.x_min < 16 * MM - 1]
    assert not outside, [(w.page, w.text) for w in outside]
    item_words = set(CHAIN_ITEM.split()) - {"chain"}  # also the item's ID, on a line of its own
    for page in sorted({w.page for w in found if w.text == "gateway"}):  # the exceptions and the items pages
        on_page = [w for w in found if w.page == page and w.text in item_words
                   and any(o.page == page and o.text == "partner" and abs(o.y_min - w.y_min) < 40 for o in found)]
        lines = {round(w.y_min) for w in on_page}
        assert len(lines) <= 3, f"page {page}: the item wraps over {len(lines)} lines"


def test_emoji_are_drawn_with_the_embedded_emoji_font(sealed: Sealed) -> None:
    pdf = sealed.pdf(sealed.back_filled)
    text = pdftext(pdf)
    assert "Deploy the API 🚀" in text and "Release v2.0 🚀" in text
    assert "🔐 Security" in text and "Rotate the ✅ credentials" in text and "🔑" in text
    assert "Rhea 🙂" in text and "Ari 🛠" in text and "done ✅ see" in text
    assert "Freeze merges [egyptian" in text and "hieroglyph a001]" in text  # in neither font: its name
    body = pdftext(pdf, 1, 3)
    assert "[rocket]" not in body and "[closed lock with key]" not in body
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    emoji = [line for line in fonts if "LB-Emoji" in line]
    assert emoji and all(re.search(r"\byes\s+yes\s+yes\b", line) for line in emoji), fonts  # embedded, subset, ToUnicode
    with pikepdf.open(pdf) as document, document.open_metadata() as xmp:
        assert (xmp.get("pdfaid:part"), xmp.get("pdfaid:conformance")) == ("3", "B")
        assert str(document.docinfo["/Title"]) == "Go-live report: Deploy the API 🚀, v2.0 🚀"


def test_the_report_draws_emoji_with_the_font_the_site_serves() -> None:
    """The report's TrueType Noto Emoji is the site's WOFF2 decompressed, byte for byte (WeasyPrint
    would otherwise rebuild it from the WOFF2 on every report, 1.5 s of a close)."""
    from fontTools.ttLib import woff2

    from generator.report.glyphs import emoji_font, emoji_woff2

    served = BytesIO()
    woff2.decompress(BytesIO(emoji_woff2().read_bytes()), served)
    assert emoji_font().suffix == ".ttf" and emoji_font().read_bytes() == served.getvalue()
    assert (emoji_font().parent / "LICENSE-NotoEmoji.txt").read_bytes() == (emoji_woff2().parent / "OFL.txt").read_bytes()


def test_a_report_with_emoji_renders_the_same_bytes_twice(sealed: Sealed) -> None:
    from generator.report.render import render_report
    from generator.runs.operations import show_run
    from generator.runs.outcome import summarize

    run, record = show_run(sealed.project, sealed.back_filled)
    first = render_report(record, summarize(record), None, run.folder).pdf
    with pikepdf.open(BytesIO(first)) as document:
        fonts = {str(font.BaseFont) for page in document.pages for font in page.Resources.Font.values()}
    assert any("LB-Emoji" in name for name in fonts), fonts
    assert render_report(record, summarize(record), None, run.folder).pdf == first


def test_fonts_cover_emoji_and_the_stamp_keeps_names() -> None:
    from generator.report.glyphs import printable, stamp_printable

    assert printable("🚀 Launch ✅ ⬜") == "🚀 Launch ✅ ⬜"
    assert printable("Go \U00013000") == "Go [egyptian hieroglyph a001]"
    assert stamp_printable("Ops 🔐 Team") == "Ops [closed lock with key] Team"


def _gray(pdf: Path, page: int, box: tuple[float, float, float, float], height: float, dpi: int,
          *flags: str) -> tuple[int, int, bytes]:
    """The box (x1, y1, x2, y2 in points from the bottom left) rendered to 8-bit gray pixels."""
    scale = dpi / 72
    x, y = round(box[0] * scale), round((height - box[3]) * scale)
    w, h = round((box[2] - box[0]) * scale), round((box[3] - box[1]) * scale)
    data = subprocess.run(["pdftoppm", "-gray", "-r", str(dpi), "-f", str(page), "-l", str(page), "-x", str(x),
                           "-y", str(y), "-W", str(w), "-H", str(h), *flags, str(pdf)],
                          capture_output=True, check=True).stdout
    header = re.match(rb"P5\s+(\d+)\s+(\d+)\s+255\s", data)
    assert header
    return int(header.group(1)), int(header.group(2)), data[header.end():]


def _seal(pdf: Path) -> tuple[int, tuple[float, float, float, float], float]:
    with pikepdf.open(pdf) as document:
        for number, page in enumerate(document.pages, start=1):
            for annot in page.get("/Annots", []):
                if str(annot.get("/T", "")) == "LaunchbookSeal":
                    return number, tuple(float(v) for v in annot.Rect), float(page.MediaBox[3])  # type: ignore[return-value]
    raise AssertionError("no seal")


def test_the_seal_stamp_is_framed_once_and_its_lines_are_centred(sealed: Sealed) -> None:
    pdf = sealed.pdf(sealed.back_filled)
    page, box, height = _seal(pdf)
    # Under the stamp the page itself draws nothing: no second (dashed) outline beside the stamp's own frame.
    margin = (box[0] - 3, box[1] - 3, box[2] + 3, box[3] + 3)
    w, h, pixels = _gray(pdf, page, margin, height, 100, "-hide-annotations")
    assert min(pixels) > 240, "the page draws an outline under the seal"
    w, h, pixels = _gray(pdf, page, box, height, 150)
    rows = [pixels[r * w:(r + 1) * w] for r in range(h)]
    edge = 12  # px: the double frame lies within ~8 px of the edge at 150 dpi
    assert all(min(rows[r][c] for r in range(0, 5)) < 128 for c in range(edge, w - edge)), "top frame has gaps"
    assert all(min(row[c] for c in range(0, 5)) < 128 for row in rows[edge:h - edge]), "left frame has gaps"
    inked = [r for r in range(edge, h - edge) if min(rows[r][edge:w - edge]) < 128]
    assert inked, "no text in the seal"
    top, bottom = inked[0] - edge, h - edge - 1 - inked[-1]
    assert abs(top - bottom) <= 6, f"text block off-centre vertically: {top} px above, {bottom} px below"
    bands: list[list[int]] = []
    for r in inked:
        if bands and r == bands[-1][-1] + 1:
            bands[-1].append(r)
        else:
            bands.append([r])
    assert len(bands) >= 6, "who, when, what and the certificate each on their own line"
    for band in bands:
        dark = [c for c in range(edge, w - edge) if any(rows[r][c] < 128 for r in band)]
        left, right = dark[0] - edge, w - edge - 1 - dark[-1]
        assert abs(left - right) <= 4, f"line at row {band[0]} is off-centre: {left} px left, {right} px right"


def test_finish_and_seal_times_are_labelled_apart_when_the_close_was_back_filled(sealed: Sealed) -> None:
    from generator.runs.operations import show_run

    _, record = show_run(sealed.project, sealed.back_filled)
    recorded = record.sealed["recorded_at"]  # type: ignore[index]
    signed = record.extra["report"]["signed_at"]
    cover = pdftext(sealed.pdf(sealed.back_filled), 1)
    assert re.search(r"Finished\s+2026-06-01 09:10:00 UTC\s+BACK-FILLED", cover), cover
    assert re.search(r"Sealed\s+" + re.escape(recorded.replace("T", " ").replace("Z", " UTC")), cover), cover
    stamp_page = pdftext(sealed.pdf(sealed.back_filled), _seal(sealed.pdf(sealed.back_filled))[0])
    assert "Sealed " + signed[:16].replace("T", " ") in stamp_page  # the signature's own time, to the minute
    assert "Finished 2026-06-01 09:10:00 UTC (back-filled)" in stamp_page
    appendix = pdftext(sealed.pdf(sealed.back_filled))
    assert "Closed at" not in appendix and re.search(r"Finished\s+2026-06-01T09:10:00Z \(back-filled\)", appendix)
    verify = _cli("verify", sealed.pdf(sealed.back_filled), "--trust", sealed.certificate, "-C", sealed.project)
    assert f"embedded record of run {sealed.back_filled} (finished 2026-06-01T09:10:00Z, back-filled: sealed later)" \
        in verify.stdout
    _cli("build", "-q", "-C", sealed.project)
    page = next((sealed.project / "output").rglob(f"{sealed.back_filled}*.html")).read_text(encoding="utf-8")
    assert re.search(r"<dt>Finished</dt><dd><time[^>]*>2026-06-01 09:10:00 UTC</time> \(back-filled: sealed later\)",
                     page)


def test_a_run_closed_at_the_time_it_finished_shows_one_time(sealed: Sealed) -> None:
    pdf = sealed.pdf(sealed.closed_now)
    text = pdftext(pdf)
    assert "back-filled" not in text.lower() and "Sealed" not in pdftext(pdf, 1)
    assert re.search(r"Sealed \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", text)  # the stamp's one time, labelled
    verify = _cli("verify", pdf, "--trust", sealed.certificate, "-C", sealed.project)
    assert "back-filled" not in verify.stdout


def test_the_stamp_shows_the_signing_time_in_utc_whatever_the_machine_zone() -> None:
    """pyHanko hands the stamp the signing time in the machine's zone; the stamp says UTC and means it."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from generator.report.stamp import seal_lines

    tokyo = datetime(2026, 6, 1, 10, 0, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    texts = [line.text for line in seal_lines("Ops 🔐", tokyo, "GO go-live report for v1 (run r)", "", "AB:CD")]
    assert "Sealed 2026-06-01 01:00:00 UTC" in texts and "Ops [closed lock with key]" in texts
    assert not any("Finished" in text for text in texts)  # not back-filled: one time only
