"""Components beside the composite: one row per measure, estimate as a dot, interval as a bar.

Each measure's name is written above its row, across the plot's whole width, so the chart is
no wider than a phone's column (names beside the rows made it twice as wide, and a phone
scaled its text down to 5.5 px).

Drawn as SVG directly (:mod:`tryg.charts.draw`); the plot's geometry depends only on the
numbers and is cached (:func:`components_geometry`), the labels are written per language.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from html import escape
from typing import Any, Final

from tryg.charts import draw
from tryg.charts.labels import format_number, label, normalise_language
from tryg.charts.palette import SERIES
from tryg.charts.values import Table, as_number, interval_text, records, require_columns

COMPONENT_COLUMNS: Final = ("measure_label", "estimate", "ci_low", "ci_high")
#: The plot's width (px): with its margins the chart is drawn at 95 % or more on a phone's
#: 358 px column (tests/browser/test_browser_phones.py).
WIDTH: Final = 330
#: A row: its name's line(s) of text, then the interval at :data:`RULE_OFFSET` below them.
LINE_HEIGHT: Final = 13
RULE_OFFSET: Final = 12
ROW_GAP: Final = 10
POINT_AREA: Final = 80.0
RULE_WIDTH: Final = 3
RULE_OPACITY: Final = 0.45


def component_rows(frame: Table, language: str) -> list[dict[str, Any]]:
    """The chart's data rows, in the frame's order."""
    rows: list[dict[str, Any]] = []
    for rec in records(frame, COMPONENT_COLUMNS):
        estimate = as_number(rec["estimate"])
        low, high = as_number(rec["ci_low"]), as_number(rec["ci_high"])
        name = str(rec["measure_label"])
        value = "–" if estimate is None else format_number(estimate, language)
        rows.append({"measure_label": name, "estimate": estimate, "ci_low": low,
                     "ci_high": high,
                     "description": f"{name}: {value}{interval_text(low, high, language)}"})
    return rows


@dataclass(frozen=True)
class ComponentsGeometry:
    """The language-independent drawing, in plot coordinates (0,0 = the plot's top left)."""

    height: float
    domain: tuple[float, float]
    ticks: tuple[tuple[float, float], ...]   # tick value and its x
    step: float
    body: str                                  # gridlines and interval rules (aria-hidden)
    points: tuple[tuple[float, float] | None, ...]  # each row's estimate (x, y), or None

    def x(self, value: float) -> float:
        return draw.linear(self.domain, (0.0, float(WIDTH)))(value)


def row_height(lines: int) -> float:
    """The height of a row whose name takes ``lines`` lines."""
    return float(LINE_HEIGHT * lines + RULE_OFFSET + ROW_GAP)


def rule_y(index: int, lines: int = 1) -> float:
    """The plot y of row ``index``'s interval and dot, below its name's ``lines`` lines."""
    return row_height(lines) * index + LINE_HEIGHT * lines + RULE_OFFSET - 4


@lru_cache(maxsize=2048)
def components_geometry(values: tuple[tuple[float | None, float | None, float | None], ...],
                        lines: int = 1) -> ComponentsGeometry:
    """Scale, gridlines, interval rules and point positions of (estimate, low, high) rows
    whose names take ``lines`` lines each (the longest name decides, so rows line up)."""
    numbers = [v for row in values for v in row if v is not None]
    low_end, high_end, tick_values = draw.nice_domain(numbers, count=5)
    x = draw.linear((low_end, high_end), (0.0, float(WIDTH)))
    row = row_height(lines)
    height = row * len(values)
    step = tick_values[1] - tick_values[0] if len(tick_values) > 1 else 1.0
    parts = ['<g aria-hidden="true">']
    for value in tick_values:
        parts.append(f'<path d="M{draw.num(x(value))},0V{draw.num(height)}" '
                     f'stroke="{draw.GRID}"/>')
    parts.append(f'<path d="M0,{draw.num(height)}h{WIDTH}" stroke="{draw.AXIS}"/>')
    points: list[tuple[float, float] | None] = []
    for i, (estimate, low, high) in enumerate(values):
        cy = rule_y(i, lines)
        if low is not None and high is not None:
            parts.append(f'<path d="M{draw.num(x(low))},{draw.num(cy)}H{draw.num(x(high))}" '
                         f'stroke="{SERIES[0]}" stroke-width="{RULE_WIDTH}" '
                         f'stroke-opacity="{RULE_OPACITY}"/>')
        points.append(None if estimate is None else (x(estimate), cy))
    parts.append("</g>")
    return ComponentsGeometry(height, (low_end, high_end),
                              tuple((v, x(v)) for v in tick_values), step, "".join(parts),
                              tuple(points))


def components_svg(frame: Table, *, title: str, language: str) -> str:
    """An SVG dot-and-interval chart of ``frame`` (measure_label, estimate, ci_low, ci_high).

    Rows are drawn top to bottom in the frame's order, so put the composite first.
    """
    require_columns(frame, COMPONENT_COLUMNS, "a components chart")
    lang = normalise_language(language)
    title = str(title)
    rows = component_rows(frame, lang)
    names = [draw.two_lines(r["measure_label"], draw.TICK_SIZE, WIDTH) for r in rows]
    lines = max((len(n) for n in names), default=1)
    geo = components_geometry(tuple((r["estimate"], r["ci_low"], r["ci_high"]) for r in rows),
                              lines)
    left = 8.0
    title_lines = draw.two_lines(title, draw.TITLE_SIZE, WIDTH, bold=True)
    top = 30.0 + 16 * (len(title_lines) - 1)
    out = [draw.text(4, 18 + 16 * i, line, size=draw.TITLE_SIZE, weight="bold")
           for i, line in enumerate(title_lines)]
    out.append('<g aria-hidden="true">')
    for value, tx in geo.ticks:
        out.append(draw.text(left + tx, top + geo.height + 16,
                             draw.tick_label(value, geo.step, lang), size=draw.TICK_SIZE,
                             anchor="middle", fill=draw.MUTED))
    axis_title = f"{label('estimate', lang)} ({label('interval', lang)})"
    out.append(draw.text(left + WIDTH / 2, top + geo.height + 34, axis_title, size=draw.TICK_SIZE,
                         anchor="middle", weight="bold"))
    out.append("</g>")
    out.append(f'<g transform="translate({draw.num(left)},{draw.num(top)})">{geo.body}')
    for row, point in zip(rows, geo.points, strict=True):
        if point is not None:
            d = draw.symbol("circle", point[0], point[1], POINT_AREA)
            out.append(f'<path d="{d}" fill="{SERIES[0]}" role="graphics-symbol" '
                       f'aria-label="{escape(row["description"], quote=True)}"/>')
    out.append("</g>")
    out.append('<g aria-hidden="true">')  # each name above its row, over the gridlines
    for i, name_lines in enumerate(names):
        for j, line in enumerate(name_lines):
            out.append(draw.text(left, top + row_height(lines) * i + LINE_HEIGHT * (j + 1) - 2,
                                 line, size=draw.TICK_SIZE))
    out.append("</g>")
    items = "; ".join(r["description"] for r in rows)
    summary = label("components_summary", lang).format(count=len(frame), items=items)
    last_tick = draw.text_width(draw.tick_label(geo.ticks[-1][0], geo.step, lang), draw.TICK_SIZE)
    width = max(left + WIDTH + last_tick / 2 + 8,
                8 + max(draw.text_width(ln, draw.TITLE_SIZE, bold=True) for ln in title_lines),
                left + WIDTH / 2 + draw.text_width(axis_title, draw.TICK_SIZE, bold=True) / 2 + 8,
                left + max(draw.text_width(ln, draw.TICK_SIZE) for n in names for ln in n) + 8)
    height = top + geo.height + 44
    return draw.document(width, height, title=title, summary=summary, body="".join(out),
                         kind="components")
