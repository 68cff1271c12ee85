"""Charts as inline SVG, drawn from published figures only: no script, no fonts to fetch.

Each chart is an ``<svg role="img">`` with a ``<title>`` and ``<desc>`` a screen
reader announces; the figures themselves are always in a table beside the chart
(the renderer's job), so nothing is only in a picture. A hidden figure (``<5`` or
``x``) is drawn as a small hatched mark at the baseline, never as a bar: its
size is exactly what must not be shown. Colours keep at least 3:1 contrast with
the white background and the text 4.5:1 or more.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from polls.analysis import Figure

PALETTE = (
    "#0b5ea8",  # blue
    "#b34700",  # dark orange
    "#1d7a3a",  # green
    "#7b3fa0",  # purple
    "#a3224f",  # crimson
    "#00707a",  # teal
    "#7a6400",  # olive
    "#555f6b",  # slate
)
INK = "#1b1b1b"
MUTED = "#4a4a4a"
GRID = "#d0d0d0"
INTERVAL = "#1b1b1b"
WEIGHTED = "#b34700"
INTERVAL_KEY = "interval"
"""A legend entry drawn as the interval's line, not as a swatch."""
WEIGHTED_KEY = "weighted"
"""A legend entry drawn as the weighted percentage's diamond."""
HIDDEN_KEY = "hidden"
"""A legend entry drawn as the hatched mark of a hidden figure."""
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', Arial, sans-serif"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Figure]


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: a percentage, its interval, and the text written beside it."""

    label: str
    percent: float | None
    """None when the figure is hidden: a hatched mark is drawn instead."""
    beside: str
    low: float | None = None
    high: float | None = None
    weighted: float | None = None


def _attr(text: str) -> str:
    return escape(text, quote=True)


def _open(chart_id: str, width: float, height: float, title: str, description: str) -> list[str]:
    return [
        f'<svg role="img" class="chart" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family="{_attr(FONT)}" font-size="12" fill="{INK}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
        "<defs>",
        f'<pattern id="{chart_id}-hatch" width="4" height="4" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)">'
        f'<rect width="4" height="4" fill="#ffffff"/><rect width="2" height="4" fill="{MUTED}"/>'
        "</pattern>",
        "</defs>",
    ]


def _text(x: float, y: float, text: str, anchor: str = "start", **attrs: str) -> str:
    extra = "".join(f' {name.replace("_", "-")}="{_attr(value)}"' for name, value in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{escape(text)}</text>'


def nice_ceiling(value: float) -> tuple[float, float]:
    """A round top for a count axis at or above ``value``, and a whole step between ticks."""
    if value <= 0:
        return 5.0, 1.0
    rough = value / 5
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    step = max(step, 1)
    return float(math.ceil(value / step) * step), float(step)


def wrap(text: str, width: int, lines: int = 2) -> list[str]:
    """``text`` in at most ``lines`` lines of about ``width`` characters, cut with an ellipsis."""
    words = text.split()
    result: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if len(candidate) <= width or not current:
            current = candidate
            continue
        result.append(current)
        current = word
    if current:
        result.append(current)
    if len(result) > lines:
        kept = result[:lines]
        kept[-1] = kept[-1][: max(width - 1, 1)].rstrip() + "…"
        return kept
    return [line if len(line) <= width + 8 else line[: width + 7] + "…" for line in result]


def _legend(
    chart_id: str, entries: Sequence[tuple[str, str]], x: float, y: float, width: float
) -> tuple[list[str], float]:
    """Swatches with names, wrapped to ``width``; returns the parts and the height used."""
    parts: list[str] = []
    cursor_x, cursor_y = x, y
    for name, fill in entries:
        span = 18 + 7 * len(name) + 16
        if cursor_x + span > x + width and cursor_x > x:
            cursor_x, cursor_y = x, cursor_y + 18
        if fill == INTERVAL_KEY:
            middle = cursor_y - 4
            parts.append(
                f'<path d="M{cursor_x:.1f} {middle:.1f}H{cursor_x + 12:.1f}'
                f"M{cursor_x:.1f} {middle - 5:.1f}V{middle + 5:.1f}"
                f'M{cursor_x + 12:.1f} {middle - 5:.1f}V{middle + 5:.1f}" '
                f'stroke="{INTERVAL}" stroke-width="1.5" fill="none"/>'
            )
        elif fill == WEIGHTED_KEY:
            middle, left = cursor_y - 4, cursor_x + 6
            parts.append(
                f'<path d="M{left:.1f} {middle - 7:.1f}L{left + 6:.1f} {middle:.1f}L{left:.1f} '
                f'{middle + 7:.1f}L{left - 6:.1f} {middle:.1f}Z" fill="{WEIGHTED}"/>'
            )
        else:
            swatch = f"url(#{chart_id}-hatch)" if fill == HIDDEN_KEY else fill
            parts.append(
                f'<rect x="{cursor_x:.1f}" y="{cursor_y - 10:.1f}" width="12" height="12" '
                f'fill="{swatch}" stroke="{INK}" stroke-width="0.5"/>'
            )
        parts.append(_text(cursor_x + 17, cursor_y, name))
        cursor_x += span
    return parts, cursor_y - y + 18


def column_chart(
    chart_id: str,
    *,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    hidden_label: str,
    axis_label: str = "",
) -> str:
    """Grouped vertical bars: one group per category (a day, a week), one bar per series."""
    bar = 9 if len(series) <= 2 else 8
    longest = max((len(c) for c in categories), default=1)
    group = max(len(series) * bar + 6, 7 * longest + 8, 18)
    if categories and group * len(categories) < 420:
        group = 420 / len(categories)  # a few wide groups rather than a narrow strip
    left, right, top = 48, 12, 10
    plot_width = round(group * len(categories))
    width = max(left + plot_width + right, 360)
    entries = [(s.name, PALETTE[i % len(PALETTE)]) for i, s in enumerate(series)]
    entries.append((hidden_label, HIDDEN_KEY))
    legend, legend_height = _legend(chart_id, entries, left, top + 12, width - left - right)
    plot_top = top + legend_height + 12
    plot_height = 180
    bottom = plot_top + plot_height
    height = bottom + 24 + (18 if axis_label else 0) + 8
    shown = [f.count for s in series for f in s.values if f.shown]
    ceiling, step = nice_ceiling(max(shown, default=0))
    parts = _open(chart_id, width, height, title, description)
    parts += legend
    ticks = round(ceiling / step)
    for index in range(ticks + 1):
        value = step * index
        y = bottom - plot_height * value / ceiling
        parts.append(
            f'<line x1="{left}" x2="{left + plot_width}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(_text(left - 6, y + 4, f"{value:g}", "end", fill=MUTED))
    for c, category in enumerate(categories):
        x0 = left + c * group + (group - len(series) * bar) / 2
        for s, one in enumerate(series):
            figure = one.values[c]
            x = x0 + s * bar
            label = f"{one.name}, {category}: {figure.text}"
            if figure.shown:
                h = plot_height * figure.count / ceiling
                parts.append(
                    f'<rect x="{x:.1f}" y="{bottom - h:.1f}" width="{bar - 1}" height="{h:.1f}" '
                    f'fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(label)}</title></rect>'
                )
            else:
                parts.append(
                    f'<rect x="{x:.1f}" y="{bottom - 7:.1f}" width="{bar - 1}" height="7" '
                    f'fill="url(#{chart_id}-hatch)" stroke="{MUTED}" stroke-width="0.5">'
                    f"<title>{escape(label)}</title></rect>"
                )
        parts.append(_text(left + c * group + group / 2, bottom + 16, category, "middle"))
    parts.append(
        f'<line x1="{left}" x2="{left + plot_width}" y1="{bottom}" y2="{bottom}" '
        f'stroke="{INK}" stroke-width="1"/>'
    )
    if axis_label:
        parts.append(_text(left + plot_width / 2, bottom + 36, axis_label, "middle", fill=MUTED))
    parts.append("</svg>")
    return "\n".join(parts)


def bar_chart(
    chart_id: str,
    *,
    title: str,
    description: str,
    bars: Sequence[Bar],
    scale: float = 100.0,
    percent_axis: bool = True,
    legend: Sequence[tuple[str, str]] = (),
) -> str:
    """Horizontal bars of percentages (or counts on ``scale``), with 95% intervals if given.

    The interval is a line with end caps over the bar; a weighted percentage is a
    diamond. The text beside each bar says the percentage and the count.
    """
    label_width, plot_width, beside_width = 230, 330, 150
    left = 8 + label_width
    width = left + plot_width + beside_width
    top = 10
    legend_parts: list[str] = []
    legend_height = 0.0
    if legend:
        legend_parts, legend_height = _legend(chart_id, legend, 8, top + 12, width - 16)
        legend_height += 6
    axis_y = top + legend_height + 14
    row_height = 34
    height = axis_y + 8 + row_height * len(bars) + 8
    parts = _open(chart_id, width, height, title, description)
    parts += legend_parts
    for tick in range(5):
        value = scale * tick / 4
        x = left + plot_width * tick / 4
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{axis_y + 4:.1f}" y2="{height - 8:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        shown = f"{value:g}%" if percent_axis else f"{value:g}"
        parts.append(_text(x, axis_y, shown, "middle", fill=MUTED))
    for index, bar in enumerate(bars):
        y = axis_y + 8 + index * row_height
        middle = y + row_height / 2
        lines = wrap(bar.label, 34)
        first = middle + 4 - 7 * (len(lines) - 1)
        for n, line in enumerate(lines):
            parts.append(_text(left - 8, first + 14 * n, line, "end"))
        if bar.percent is not None:
            w = plot_width * min(bar.percent, scale) / scale
            parts.append(
                f'<rect x="{left}" y="{middle - 9:.1f}" width="{w:.1f}" height="18" '
                f'fill="{PALETTE[0]}"><title>{escape(bar.label)}: {escape(bar.beside)}</title>'
                "</rect>"
            )
        else:
            parts.append(
                f'<rect x="{left}" y="{middle - 9:.1f}" width="10" height="18" '
                f'fill="url(#{chart_id}-hatch)" stroke="{MUTED}" stroke-width="0.5">'
                f"<title>{escape(bar.label)}: {escape(bar.beside)}</title></rect>"
            )
        if bar.low is not None and bar.high is not None:
            x1 = left + plot_width * bar.low / scale
            x2 = left + plot_width * bar.high / scale
            parts.append(
                f'<path d="M{x1:.1f} {middle:.1f}H{x2:.1f}M{x1:.1f} {middle - 6:.1f}'
                f"V{middle + 6:.1f}M{x2:.1f} {middle - 6:.1f}V{middle + 6:.1f}"
                f'" stroke="{INTERVAL}" stroke-width="1.5" fill="none"/>'
            )
        if bar.weighted is not None:
            x = left + plot_width * min(bar.weighted, scale) / scale
            parts.append(
                f'<path d="M{x:.1f} {middle - 7:.1f}L{x + 6:.1f} {middle:.1f}L{x:.1f} '
                f'{middle + 7:.1f}L{x - 6:.1f} {middle:.1f}Z" fill="{WEIGHTED}" '
                f'stroke="#ffffff" stroke-width="1"/>'
            )
        parts.append(_text(left + plot_width + 8, middle + 4, bar.beside))
    parts.append(
        f'<line x1="{left}" x2="{left}" y1="{axis_y + 4:.1f}" y2="{height - 8:.1f}" '
        f'stroke="{INK}" stroke-width="1"/>'
    )
    parts.append("</svg>")
    return "\n".join(parts)
