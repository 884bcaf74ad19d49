"""A run -> its go-live report: PDF/A-3b with the record and evidence embedded.

The same record always renders to the same bytes: document dates, attachment dates and
the PDF identifier come from the record, fonts are the bundled DejaVu and Noto Emoji files, and every
attachment goes through WeasyPrint's ``attachments`` option only (once each).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from generator import __version__
from generator.core.errors import BuildError, SourceError
from generator.core.files import read_regular
from generator.core.templating import default_theme_dir, make_environment
from generator.report.glyphs import emoji_font, fonts_dir, printable
from generator.runs.codec import safe_evidence_path
from generator.runs.drift import Drift
from generator.runs.evidence import safe_name
from generator.runs.outcome import RunSummary, latest_signoffs
from generator.runs.record import Entry, Evidence, RunRecord, SnapshotItem, Status, canonical_json, parse_time

PX_TO_PT = 0.75  # CSS px (1/96 in) -> PDF points (1/72 in)
RECORD_NAME = "run-record.json"
MANIFEST_NAME = "evidence-manifest.json"


@dataclass(frozen=True, slots=True)
class RenderedReport:
    """A rendered (unsigned) report."""

    pdf: bytes
    """PDF/A-3b bytes."""
    pages: int
    """Number of pages."""
    signature_page: int
    """0-based page holding the signature box."""
    signature_box: tuple[int, int, int, int]
    """Signature box in PDF points, (x1, y1, x2, y2) from the bottom-left corner."""


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One piece of evidence, as listed in the report's appendix and manifest."""

    item: str
    """Item ID it is attached to."""
    at: str
    """When the entry carrying it was recorded."""
    evidence: Evidence
    """The evidence itself."""
    attachment: str = ""
    """Name of the file embedded in the PDF (flat: no folders), or empty for a URL."""

    def data(self) -> dict[str, Any]:
        attachment = {"attachment": self.attachment} if self.attachment else {}
        original = {"name": self.evidence.original_name} if self.evidence.file else {}
        return {"item": self.item, "at": self.at, **self.evidence.to_data(), **original, **attachment}


def attachment_names(files: list[str]) -> dict[str, str]:
    """Evidence path -> embedded file name: flat (``evidence/a/b.txt`` -> ``evidence-a-b.txt``) and in safe
    characters, so ``pdfdetach -saveall`` and every other tool can save them; never one of the report's own
    names, never twice."""
    taken = {RECORD_NAME, MANIFEST_NAME}
    names: dict[str, str] = {}
    for file in files:
        if file in names:
            continue
        flat = safe_name("-".join(PurePosixPath(file).parts))
        stem, dot, suffix = flat.rpartition(".") if "." in flat else (flat, "", "")
        candidate, counter = flat, 1
        while candidate in taken:
            counter += 1
            candidate = f"{stem}-{counter}{dot}{suffix}"
        taken.add(candidate)
        names[file] = candidate
    return names


def evidence_manifest(record: RunRecord) -> list[ManifestEntry]:
    """Every evidence reference of the run (current and earlier entries), in item order."""
    found = record.evidence()
    names = attachment_names([evidence.file for _, _, evidence in found if evidence.file])
    return [ManifestEntry(item, at, evidence, names.get(evidence.file, "")) for item, at, evidence in found]


def manifest_json(manifest: list[ManifestEntry]) -> bytes:
    return canonical_json([m.data() for m in manifest])


Row = tuple[SnapshotItem, Entry | None, tuple[Entry, ...]]
"""An item, its latest entry and its earlier ones."""


def _sections(record: RunRecord) -> Iterator[tuple[tuple[str, ...], list[Row]]]:
    current: tuple[str, ...] | None = None
    rows: list[tuple[SnapshotItem, Entry | None, tuple[Entry, ...]]] = []
    for item in record.snapshot.items:
        if item.section != current and rows:
            yield current or (), rows
            rows = []
        current = item.section
        result = record.results.get(item.id)
        rows.append((item, result.current if result else None, result.history if result else ()))
    if rows:
        yield current or (), rows


def exceptions(record: RunRecord) -> list[tuple[SnapshotItem, Entry | None]]:
    """The exceptions page: every failed, blocked, skipped and n/a item and, once the run is closed, every
    required item left open (``None``: it never had a result), in checklist order."""
    found: list[tuple[SnapshotItem, Entry | None]] = []
    for item in record.snapshot.items:
        result = record.results.get(item.id)
        if result is not None and result.current.status.needs_reason:
            found.append((item, result.current))
        elif record.finished_at and not item.optional and record.status_of(item.id) is Status.OPEN:
            found.append((item, result.current if result else None))
    return found


def _pdf_date(value: str) -> str:
    return parse_time(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def report_title(record: RunRecord) -> str:
    return f"Go-live report: {record.snapshot.title}, {record.release}"


def render_html(record: RunRecord, summary: RunSummary, drift: Drift | None, *, draft: bool,
                themes: list[Path] | None = None) -> str:
    """The report as HTML (for WeasyPrint, and for debugging templates)."""
    env = make_environment(themes or [default_theme_dir()], "report", {"printable": printable})
    sealed = record.sealed or {}
    context: dict[str, Any] = {
        "record": record,
        "summary": summary,
        "drift": drift,
        "draft": draft,
        "sealed": sealed,
        "title": report_title(record),
        "sections": list(_sections(record)),
        "exceptions": exceptions(record),
        "decisions": latest_signoffs(record.signoffs),
        "manifest": evidence_manifest(record),
        "record_sha256": record.digest(),
        "fonts_url": fonts_dir().as_uri(),
        "emoji_font_url": emoji_font().as_uri(),
        "sealed_later": sealed.get("recorded_at") or "",
        "version": __version__,
        "created": _pdf_date(record.started_at),
        "modified": _pdf_date(sealed.get("closed_at") or record.finished_at or record.started_at),
    }
    try:
        return env.get_template("report.html").render(**context)
    except Exception as exc:  # template errors name the template
        raise BuildError(f"report template: {exc}") from None


def _attachments(record: RunRecord, manifest: list[ManifestEntry], run_folder: Path, *, draft: bool,
                 shown: str | None = None) -> list[Any]:
    from weasyprint import Attachment

    moment = parse_time((record.sealed or {}).get("closed_at") or record.finished_at or record.started_at)
    files = [
        Attachment(string=canonical_json(record.archived_data()), name=RECORD_NAME, created=moment, modified=moment,
                   relationship="Data", description="The run record (canonical JSON: sorted keys, UTF-8, no spaces)"),
        Attachment(string=manifest_json(manifest), name=MANIFEST_NAME, created=moment, modified=moment,
                   relationship="Data", description="Evidence manifest: item, time, URL or file (original name, stored "
                   "path, embedded attachment name, sha256, size)"),
    ]
    seen: set[str] = set()
    for entry in manifest:
        evidence = entry.evidence
        if not evidence.file or evidence.file in seen or not safe_evidence_path(evidence.file):
            continue
        seen.add(evidence.file)
        path = run_folder / evidence.file
        if not os.path.lexists(path):
            if draft:
                continue
            raise BuildError(f"evidence file missing: {evidence.file}", run_folder)
        try:  # never a link: a planted one would embed (and sign) a file from elsewhere
            data = read_regular(path, run_folder)
        except SourceError as exc:
            raise SourceError(f"evidence file {evidence.file} {exc.reason}", shown or run_folder.with_suffix(".yml"),
                              evidence.line or None) from None
        if hashlib.sha256(data).hexdigest() != evidence.sha256:
            if draft:
                continue
            raise BuildError(f"evidence file changed since it was attached (sha256 differs): {evidence.file}",
                             run_folder)
        at = parse_time(entry.at)
        files.append(Attachment(string=data, name=entry.attachment, created=at, modified=at, relationship="Source",
                                description=f"Evidence for item {entry.item}: {evidence.original_name}"))
    return files


def _dedupe_associated_files(_document: Any, pdf: Any) -> None:
    """WeasyPrint 70 lists each PDF/A-3 associated file twice in the catalog's /AF; keep one."""
    files = pdf.catalog.get("AF")
    if files is None:
        return
    unique: dict[str, Any] = {}
    for reference in files:
        key = reference.decode() if isinstance(reference, bytes) else str(reference)
        unique.setdefault(key, reference)
    del files[:]
    files.extend(unique.values())


def render_report(record: RunRecord, summary: RunSummary, drift: Drift | None, run_folder: Path, *,
                  draft: bool = False, themes: list[Path] | None = None, shown: str | None = None) -> RenderedReport:
    """Render the report PDF (PDF/A-3b, record and evidence embedded); ``shown`` names the
    record file in messages."""
    from weasyprint import HTML

    manifest = evidence_manifest(record)
    attachments = _attachments(record, manifest, run_folder, draft=draft, shown=shown)  # checked before the slow part

    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)  # "FFTM NOT subset" is harmless noise
    html = render_html(record, summary, drift, draft=draft, themes=themes)
    document = HTML(string=html, base_url=str(run_folder)).render()
    identifier = hashlib.sha256(record.id.encode("utf-8")).hexdigest()[:32].encode("ascii")
    pdf = document.write_pdf(
        pdf_variant="pdf/a-3b",
        attachments=attachments,
        pdf_identifier=identifier,
        finisher=_dedupe_associated_files,
    )
    for index, page in enumerate(document.pages):
        if "signature-box" in page.anchors:
            x1, y1, x2, y2 = page.anchors["signature-box"]
            height = page.height
            box = (round(x1 * PX_TO_PT), round((height - y2) * PX_TO_PT),
                   round(x2 * PX_TO_PT), round((height - y1) * PX_TO_PT))
            return RenderedReport(pdf, len(document.pages), index, box)
    raise BuildError("report template has no element with id 'signature-box'")


def embedded_json(name: str, data: bytes) -> Any:
    """Parse one of the report's JSON attachments (used by verification)."""
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BuildError(f"embedded {name} is not valid JSON: {exc}") from None

