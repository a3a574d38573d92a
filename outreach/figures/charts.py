"""Bar charts drawn on the server as SVG: no script, no CDN, readable in print.

A chart is a picture for those who would rather look than read; the page puts the same figures
in a table beside it (screen readers read the table, the SVG is marked as an image with a
summary). Colours are paired with patterns of position and text, never colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

WIDTH = 720
BAR_GAP = 4


@dataclass(frozen=True)
class Series:
    """One row of bars: its name and one value per category."""

    name: str
    values: list[float]
    colour: str


def columns(title: str, categories: list[str], series: list[Series], height: int = 220) -> str:
    """Return vertical bars, one group per category (months, weeks), one bar per series."""
    top = max([v for s in series for v in s.values] + [1])
    left, bottom, plot_h = 44, 36, height - 36 - 28
    plot_w = WIDTH - left - 8
    group_w = plot_w / max(1, len(categories))
    bar_w = max(2.0, (group_w - BAR_GAP * 2) / max(1, len(series)))
    parts = [_frame(title, height), _axis(left, plot_h, top)]
    for c, category in enumerate(categories):
        x0 = left + c * group_w + BAR_GAP
        for s, row in enumerate(series):
            value = row.values[c]
            h = plot_h * value / top
            parts.append(f'<rect x="{x0 + s * bar_w:.1f}" y="{28 + plot_h - h:.1f}" '
                         f'width="{bar_w - 1:.1f}" height="{h:.1f}" fill="{row.colour}">'
                         f"<title>{escape(category)} — {escape(row.name)} : {_n(value)}</title>"
                         "</rect>")
        if len(categories) <= 16 or c % max(1, len(categories) // 12) == 0:
            parts.append(f'<text x="{x0 + group_w / 2 - BAR_GAP:.1f}" y="{height - bottom + 16}" '
                         f'text-anchor="middle" font-size="11">{escape(category)}</text>')
    parts.append(_legend(series))
    parts.append("</svg>")
    return "".join(parts)


def bars(title: str, labels: list[str], values: list[float], colour: str = "#0b4f8a") -> str:
    """Return horizontal bars, one per label (prestations by kind), longest first as given."""
    row_h, label_w = 24, 230
    height = 28 + row_h * max(1, len(labels)) + 8
    top = max(values + [1])
    plot_w = WIDTH - label_w - 60
    parts = [_frame(title, height)]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 28 + i * row_h
        w = plot_w * value / top
        parts.append(f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end" font-size="12">'
                     f"{escape(label)}</text>")
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" '
                     f'fill="{colour}"><title>{escape(label)} : {_n(value)}</title></rect>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" font-size="12">{_n(value)}'
                     "</text>")
    parts.append("</svg>")
    return "".join(parts)


def _frame(title: str, height: int) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
            f'width="100%" role="img" aria-label="{escape(title)} (les chiffres sont dans le '
            f'tableau qui suit)" font-family="system-ui, sans-serif" class="chart">'
            f'<text x="0" y="16" font-size="14" font-weight="700">{escape(title)}</text>')


def _axis(left: int, plot_h: float, top: float) -> str:
    lines = []
    for step in range(5):
        value = top * step / 4
        y = 28 + plot_h - plot_h * step / 4
        lines.append(f'<line x1="{left}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#ccc" stroke-width="1"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
                     f"{_n(round(value))}</text>")
    return "".join(lines)


def _legend(series: list[Series]) -> str:
    """Name each series at the top right, a swatch before each name."""
    widths = [20 + 7 * len(row.name) for row in series]
    parts, x = [], WIDTH - sum(widths)
    for row, width in zip(series, widths, strict=True):
        parts.append(f'<rect x="{x}" y="6" width="10" height="10" fill="{row.colour}"/>'
                     f'<text x="{x + 14}" y="15" font-size="11">{escape(row.name)}</text>')
        x += width
    return "".join(parts)


def _n(value: float) -> str:
    return f"{value:g}".replace(".", ",")
