"""Server-side SVG charts for the KPI pages: vertical bars per day and horizontal bars per category.

Output is markup with presentation attributes only (no style attributes, no script), so the page's
CSP holds; every label is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

__all__ = ["bar_chart", "hbar_chart"]

_W, _H, _PAD_L, _PAD_B, _PAD_T = 760, 220, 44, 36, 12


def _fmt(value: float, percent: bool) -> str:
    return f"{value * 100:.0f}%" if percent else f"{value:,.0f}"


def bar_chart(
    series: Sequence[tuple[str, float | None]], title: str, *, percent: bool = False, label_every: int = 0
) -> Markup:
    """Vertical bars, one per (label, value); None draws no bar. Labels thin out to fit."""
    values = [v for _, v in series if v is not None]
    top = max(values, default=0) or 1.0
    if percent:
        top = max(top, 0.1)
    n = max(len(series), 1)
    width = (_W - _PAD_L - 8) / n
    every = label_every or max(1, n // 10)
    plot_h = _H - _PAD_B - _PAD_T
    parts = [
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line x1="{_PAD_L}" y1="{_H - _PAD_B}" x2="{_W - 4}" y2="{_H - _PAD_B}" stroke="#555"/>',
        f'<text x="{_PAD_L - 4}" y="{_PAD_T + 10}" text-anchor="end" font-size="11" fill="#333">'
        f"{_fmt(top, percent)}</text>",
        f'<text x="{_PAD_L - 4}" y="{_H - _PAD_B}" text-anchor="end" font-size="11" fill="#333">0</text>',
    ]
    for index, (label, value) in enumerate(series):
        x = _PAD_L + index * width
        if value is not None:
            h = plot_h * value / top
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{_H - _PAD_B - h:.1f}" width="{max(width - 2, 1):.1f}" '
                f'height="{h:.1f}" fill="#2f6db5"><title>{escape(label)}: {_fmt(value, percent)}</title></rect>'
            )
        if index % every == 0:
            parts.append(
                f'<text x="{x + width / 2:.1f}" y="{_H - _PAD_B + 14}" text-anchor="middle" font-size="10" '
                f'fill="#333">{escape(label[-5:])}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label above is escaped


def hbar_chart(series: Sequence[tuple[str, float]], title: str) -> Markup:
    """Horizontal bars with their labels and values, largest first as given."""
    row_h = 22
    height = max(len(series), 1) * row_h + 8
    top = max((v for _, v in series), default=0) or 1.0
    parts = [
        f'<svg class="chart" viewBox="0 0 {_W} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for index, (label, value) in enumerate(series):
        y = 4 + index * row_h
        w = (_W - 320) * value / top
        parts.append(
            f'<text x="200" y="{y + 15}" text-anchor="end" font-size="12" fill="#222">{escape(label)}</text>'
            f'<rect x="210" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="#2f6db5"/>'
            f'<text x="{216 + w:.1f}" y="{y + 15}" font-size="12" fill="#222">{value:,.0f}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label above is escaped
