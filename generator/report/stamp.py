"""The visible seal: a pyHanko stamp that reads like a seal.

A double frame in one colour, balanced padding, and centred lines from most to least
important: what kind of seal, who sealed, when, what was sealed, then the certificate
fingerprint for those who check it by hand. The time is the signature's own signing time
(pyHanko's), shown in UTC. One embedded font (LBStampSans, DejaVu Sans rescaled to 1000
units per em) at several sizes, the order of importance told by size and colour. The stamp has no font
fallback: characters LBStampSans lacks are written as their names (:func:`stamp_printable`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from generator.report.glyphs import stamp_font_file, stamp_printable

INK = (0.09, 0.22, 0.42)
"""The seal's one colour (frame, title and name), a dark blue."""
MUTED = (0.33, 0.33, 0.36)
"""Secondary lines (time, subject, fingerprint)."""
PADDING = 9.0
"""Least space between the stamp's edge and any line, in points (lines are centred; a long one shrinks)."""
LEADING = 1.25
"""Line height, in multiples of the font size."""
MIN_SIZE = 5.0
"""Smallest font size a line is shrunk to before it is cut short."""
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
"""How pyHanko hands the signing time to the stamp (parsed back and shown in UTC)."""


@dataclass(frozen=True, slots=True)
class StampLine:
    """One centred line of the stamp."""

    text: str
    """What it says (already reduced to what the stamp font can draw)."""
    size: float
    """Font size in points."""
    colour: tuple[float, float, float]
    """Fill colour (RGB, 0-1)."""
    gap: float = 0.0
    """Extra space above the line, in points."""


def seal_lines(signer: str, sealed_at: datetime, what: str, finished: str, fingerprint: str) -> list[StampLine]:
    """The stamp's lines, top to bottom: ``what`` was sealed (the signature's reason); ``finished`` is when the
    run finished, given only when the close was back-filled (it then differs from the seal time)."""
    half = len(fingerprint) // 2 + 1
    moment = sealed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [
        StampLine("ELECTRONIC SEAL  ·  PAdES", 6.5, INK),
        StampLine(stamp_printable(signer), 12.0, INK, gap=3.0),
        StampLine(f"Sealed {moment}", 8.0, (0.1, 0.1, 0.1), gap=2.0),
        StampLine(stamp_printable(what), 7.0, MUTED, gap=2.0),
    ]
    if finished:
        lines.append(StampLine(f"Finished {finished} (back-filled)", 7.0, MUTED))
    lines += [
        StampLine("Certificate SHA-256 " + fingerprint[:half], 5.5, MUTED, gap=2.5),
        StampLine(fingerprint[half:], 5.5, MUTED),
    ]
    return lines


def fit_line(engine: Any, line: StampLine, room: float) -> tuple[StampLine, float]:
    """``line`` made to fit ``room`` points: smaller down to :data:`MIN_SIZE`, then cut short with an
    ellipsis; with its advance in ems."""
    advance = float(engine.shape(line.text, with_actual_text=False).x_advance)
    if advance * line.size <= room:
        return line, advance
    if advance * MIN_SIZE <= room:
        return replace(line, size=room / advance), advance
    text = line.text
    while text and advance * MIN_SIZE > room:
        text = text[:-1]
        advance = float(engine.shape(text.rstrip() + "…", with_actual_text=False).x_advance)
    return replace(line, text=text.rstrip() + "…", size=MIN_SIZE), advance


def seal_style(signer: str, what: str, finished: str, fingerprint: str) -> Any:
    """A pyHanko stamp style drawing the seal (pyHanko imported here: it is heavy)."""
    from pyhanko.pdf_utils.content import ResourceType
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.stamp import TextStampStyle
    from pyhanko.stamp.base import BaseStamp

    class SealStamp(BaseStamp):
        def __init__(self, writer: Any, style: Any, text_params: dict[str, Any], box: Any) -> None:
            super().__init__(writer=writer, style=style, box=box)
            self.sealed_at = datetime.strptime(text_params["ts"], TIME_FORMAT)

        def _render_inner_content(self) -> list[bytes]:
            assert self.writer is not None  # pyHanko hands every stamp the writer it signs with
            engine = GlyphAccumulatorFactory(str(stamp_font_file()), font_size=10).create_font_engine(self.writer)
            self.set_resource(category=ResourceType.FONT, name=pdf_name("/FS"), value=engine.as_resource())
            width, height = self.box.width, self.box.height
            fitted = [fit_line(engine, line, width - 2 * PADDING)
                      for line in seal_lines(signer, self.sealed_at, what, finished, fingerprint)]
            block = sum(line.size * LEADING + line.gap for line, _ in fitted)
            top = (height + block) / 2  # the block centred vertically, each line horizontally
            ops = [b"q", b"%g %g %g RG 1.2 w 1.1 1.1 %g %g re S" % (*INK, width - 2.2, height - 2.2),
                   b"0.45 w 3.6 3.6 %g %g re S" % (width - 7.2, height - 7.2)]
            for line, advance in fitted:
                top -= line.gap + line.size * LEADING
                engine.font_size = line.size  # type: ignore[assignment]  # annotated int; any size works
                shaped = engine.shape(line.text)
                x = (width - advance * line.size) / 2
                ops.append(b"BT /FS %g Tf %g %g %g rg 1 0 0 1 %g %g Tm %s ET" % (
                    line.size, *line.colour, x, top + line.size * 0.25, shaped.graphics_ops))
            ops.append(b"Q")
            return ops

    @dataclass(frozen=True)
    class SealStampStyle(TextStampStyle):  # a TextStampStyle so pyHanko hands over the signing time as "ts"
        def create_stamp(self, writer: Any, box: Any, text_params: dict[str, Any]) -> Any:
            return SealStamp(writer, self, text_params, box)

    return SealStampStyle(border_width=0, timestamp_format=TIME_FORMAT)

