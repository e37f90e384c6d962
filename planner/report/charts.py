"""Horizontal bar charts as SVG geometry: rows of stacked segments on one linear scale.

Pure layout, no drawing: :func:`layout` turns a :class:`Chart` (values in the
chart's unit: USD per month, or percent) into :class:`SvgChart`, whose every
coordinate is a string with one decimal, so the same chart always gives the
same bytes. ``templates/report.html.j2`` draws it as inline SVG.

The picture is ``WIDTH`` user units wide: a label column, the plot, then a
column for the value text. One row is ``ROW_H`` high. Segments may be negative
(a diff's decreases): the zero line then sits inside the plot. A row may carry
a *track* (a grey bar behind the segments: a pool's capacity, a limit) and
*marks* (thin vertical lines: a budget, its 80 % warning).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH = 900
LABEL_W = 270
PLOT_W = 380
VALUE_GAP = 10
ROW_H = 26
BAR_H = 16
LEGEND_H = 24
LABEL_CHARS = 38
ZERO = Decimal(0)

# Okabe & Ito's colour-blind-safe palette (#F5C710 for #F0E442, too pale on white).
BLUE, ORANGE, GREEN, SKY, VERMILLION, PURPLE, YELLOW = (
    "#0072B2", "#E69F00", "#009E73", "#56B4E9", "#D55E00", "#CC79A7", "#F5C710")
GREY = "#999999"
PALETTE = (BLUE, ORANGE, GREEN, SKY, VERMILLION, PURPLE, YELLOW)


@dataclass(frozen=True)
class Segment:
    """One coloured piece of a bar, from ``start`` to ``end`` on the chart's scale."""

    series: str
    start: Decimal
    end: Decimal
    color: str


@dataclass(frozen=True)
class Mark:
    at: Decimal
    label: str


@dataclass(frozen=True)
class Row:
    label: str
    segments: tuple[Segment, ...]
    value: str
    track: Decimal | None = None
    marks: tuple[Mark, ...] = ()


@dataclass(frozen=True)
class Chart:
    """What to draw: ``rows`` in order, a ``legend`` of (series, colour), and the scale's
    least upper end ``hi`` (it grows to fit every segment, track and mark)."""

    key: str
    rows: tuple[Row, ...]
    legend: tuple[tuple[str, str], ...] = ()
    hi: Decimal = ZERO


@dataclass(frozen=True)
class SvgRect:
    x: str
    width: str
    color: str
    title: str


@dataclass(frozen=True)
class SvgMark:
    x: str
    label: str


@dataclass(frozen=True)
class SvgRow:
    y: str
    text_y: str
    label: str
    full_label: str
    value: str
    segments: tuple[SvgRect, ...]
    track: SvgRect | None
    marks: tuple[SvgMark, ...]


@dataclass(frozen=True)
class SvgLegend:
    x: str
    text_x: str
    color: str
    label: str


@dataclass(frozen=True)
class SvgChart:
    key: str
    width: int
    height: str
    zero_x: str
    plot_top: str
    plot_bottom: str
    label_x: str
    value_x: str
    bar_h: int
    legend: tuple[SvgLegend, ...]
    rows: tuple[SvgRow, ...]


def fmt(value: float) -> str:
    """One decimal place, no negative zero: the only number format in the SVG."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def short(label: str, limit: int = LABEL_CHARS) -> str:
    """``label`` cut to ``limit`` characters with an ellipsis (the full text is in a title)."""
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _domain(chart: Chart) -> tuple[Decimal, Decimal]:
    values = [ZERO, chart.hi]
    for row in chart.rows:
        values.extend(v for s in row.segments for v in (s.start, s.end))
        values.extend(m.at for m in row.marks)
        if row.track is not None:
            values.append(row.track)
    lo, hi = min(values), max(values)
    return (lo, hi) if hi > lo else (lo, lo + 1)


def layout(chart: Chart) -> SvgChart:
    """Place every row, segment, track and mark of ``chart``."""
    lo, hi = _domain(chart)
    span = float(hi - lo)

    def x(v: Decimal) -> float:
        return LABEL_W + float(v - lo) / span * PLOT_W

    top = LEGEND_H if chart.legend else 4
    rows = []
    for i, row in enumerate(chart.rows):
        y = top + i * ROW_H + (ROW_H - BAR_H) / 2
        rows.append(SvgRow(
            y=fmt(y), text_y=fmt(y + BAR_H - 4), label=short(row.label), full_label=row.label,
            value=row.value,
            segments=tuple(_rect(x(min(s.start, s.end)), x(max(s.start, s.end)), s.color,
                                 f"{row.label}: {s.series}") for s in row.segments),
            track=None if row.track is None else _rect(x(ZERO), x(row.track), "", row.label),
            marks=tuple(SvgMark(x=fmt(x(m.at)), label=m.label) for m in row.marks)))
    bottom = top + len(chart.rows) * ROW_H
    return SvgChart(
        key=chart.key, width=WIDTH, height=fmt(bottom + 4), zero_x=fmt(x(ZERO)),
        plot_top=fmt(top), plot_bottom=fmt(bottom), label_x=fmt(LABEL_W - 8),
        value_x=fmt(LABEL_W + PLOT_W + VALUE_GAP), bar_h=BAR_H,
        legend=_legend(chart.legend), rows=tuple(rows))


def _rect(x0: float, x1: float, color: str, title: str) -> SvgRect:
    return SvgRect(x=fmt(x0), width=fmt(x1 - x0), color=color, title=title)


def _legend(items: Sequence[tuple[str, str]]) -> tuple[SvgLegend, ...]:
    """Swatches left to right from the plot's start, each followed by its name."""
    out = []
    pos = float(LABEL_W)
    for label, color in items:
        out.append(SvgLegend(x=fmt(pos), text_x=fmt(pos + 16), color=color, label=label))
        pos += 16 + 7.5 * len(label) + 18
    return tuple(out)
