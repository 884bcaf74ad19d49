"""The per-checklist trend chart: inline SVG, no script, readable on paper.

One bar per run (oldest left), height = completion, and the outcome shown three ways:
colour, fill pattern (solid go, hatched no-go, outline incomplete) and a letter.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from generator.site.runs import RunView

WIDTH, HEIGHT, TOP, BOTTOM, LEFT = 640, 180, 12, 34, 44
MAX_RUNS = 30
_LETTER = {"go": "G", "no-go": "N", "incomplete": "I"}


def trend_svg(views: list[RunView], relative: dict[str, str]) -> Markup:
    """SVG for the latest runs of one checklist (``views`` newest first)."""
    runs = list(reversed(views[:MAX_RUNS]))
    if not runs:
        return Markup("")
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - 8) / max(len(runs), 1)
    bar = max(4.0, min(28.0, slot * 0.7))
    parts = [
        f'<svg class="trend" viewBox="0 0 {WIDTH} {HEIGHT}" aria-labelledby="trend-title trend-desc" '
        f'xmlns="http://www.w3.org/2000/svg">',
        '<title id="trend-title">Completion and outcome of the latest runs</title>',
        f'<desc id="trend-desc">{len(runs)} runs, oldest on the left. Bar height is the percentage of applicable '
        "items done; G = go (solid), N = no-go (hatched), I = incomplete (outline).</desc>",
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="6" height="6" class="hatch-bg"/><line x1="0" y1="0" x2="0" y2="6" class="hatch-line"/>'
        "</pattern></defs>",
    ]
    for pct in (0, 50, 100):
        y = TOP + plot_h * (1 - pct / 100)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - 4}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{pct}%</text>')
    for index, view in enumerate(runs):
        outcome = view.summary.outcome.value
        height = max(plot_h * view.summary.completion / 100, 1.5)
        x = LEFT + slot * index + (slot - bar) / 2
        y = TOP + plot_h - height
        label = escape(f"{view.record.release} ({view.record.started_at[:10]}): {outcome}, "
                       f"{view.summary.completion:.1f}% done")
        href = escape(relative[view.record.id])
        parts.append(
            f'<a href="{href}" aria-label="{label}"><rect class="bar {outcome}" x="{x:.1f}" y="{y:.1f}" '
            f'width="{bar:.1f}" height="{height:.1f}"><title>{label}</title></rect>'
            f'<text class="letter" x="{x + bar / 2:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">'
            f"{_LETTER[outcome]}</text></a>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
