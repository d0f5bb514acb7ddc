"""Small server-rendered SVG charts (no JavaScript, no CDN): bars a person can read at a glance.

Labels and values are escaped; the result is safe to put into a template as is.
"""

from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 960
BAR = 18
GAP = 8
LABEL_W = 220


def _num(value) -> float:
    return float(value or 0)


def _top_label(top: float):
    return top if top % 1 else int(top)


def _fmt(value) -> str:
    if isinstance(value, Decimal | float):
        return f"{value:,.2f}"
    return f"{value:,}"


def hbar_chart(
    rows: list[dict],
    *,
    label: str,
    series: list[tuple[str, str]],
    marker: str = "",
    title: str = "",
) -> SafeString:
    """Horizontal grouped bars: one group per row, one bar per (key, css class) of `series`;
    `marker` names a key drawn as a dashed line across the group (e.g. the budget)."""
    if not rows:
        return mark_safe("")
    keys = [k for k, _ in series] + ([marker] if marker else [])
    top = max((_num(r.get(k)) for r in rows for k in keys), default=0) or 1
    group_h = len(series) * BAR + GAP * 2
    height = len(rows) * group_h + 30
    plot_w = WIDTH - LABEL_W - 90
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{LABEL_W}" y1="0" x2="{LABEL_W}" y2="{height - 20}"/>',
    ]
    for i, row in enumerate(rows):
        y0 = i * group_h + GAP
        name = str(row.get(label, ""))
        short = name if len(name) <= 16 else name[:15] + "…"
        parts.append(
            f'<text x="{LABEL_W - 6}" y="{y0 + group_h / 2}" text-anchor="end" '
            f'dominant-baseline="middle"><title>{escape(name)}</title>{escape(short)}</text>'
        )
        for j, (key, css) in enumerate(series):
            value = row.get(key) or 0
            w = max(0.0, _num(value) / top * plot_w)
            y = y0 + j * BAR
            parts.append(
                f'<rect class="{css}" x="{LABEL_W}" y="{y}" width="{w:.1f}" height="{BAR - 3}">'
                f"<title>{escape(name)}: {escape(_fmt(value))}</title></rect>"
            )
            parts.append(
                f'<text class="value" x="{LABEL_W + w + 4:.1f}" y="{y + BAR / 2}" '
                f'dominant-baseline="middle">{escape(_fmt(value))}</text>'
            )
        if marker and row.get(marker) is not None:
            x = LABEL_W + _num(row[marker]) / top * plot_w
            parts.append(
                f'<line class="budget" x1="{x:.1f}" y1="{y0 - 2}" x2="{x:.1f}" '
                f'y2="{y0 + len(series) * BAR}"><title>{escape(_fmt(row[marker]))}</title></line>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def column_chart(
    points: list[tuple[str, float]], *, title: str = "", css: str = "bar"
) -> SafeString:
    """Vertical bars over time (days or months), every label under its bar when they fit."""
    if not points:
        return mark_safe("")
    height, bottom, left = 220, 40, 50
    plot_h = height - bottom - 10
    top = max(_num(v) for _, v in points) or 1
    step = (WIDTH - left - 10) / len(points)
    every = max(1, int(len(points) / 20) + (len(points) % 20 > 0))
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{left}" y1="{height - bottom}" x2="{WIDTH - 10}" '
        f'y2="{height - bottom}"/>',
        f'<text x="{left - 6}" y="14" text-anchor="end">{escape(_fmt(_top_label(top)))}</text>',
        f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end">0</text>',
    ]
    for i, (name, value) in enumerate(points):
        h = _num(value) / top * plot_h
        x = left + i * step + step * 0.15
        parts.append(
            f'<rect class="{css}" x="{x:.1f}" y="{height - bottom - h:.1f}" '
            f'width="{step * 0.7:.1f}" height="{h:.1f}"><title>{escape(name)}: '
            f"{escape(_fmt(value))}</title></rect>"
        )
        if i % every == 0:
            parts.append(
                f'<text x="{x + step * 0.35:.1f}" y="{height - bottom + 14}" '
                f'text-anchor="middle">{escape(name)}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))
