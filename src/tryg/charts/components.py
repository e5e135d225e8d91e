"""Components beside the composite: one row per measure, estimate as a dot, interval as a bar.

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
WIDTH: Final = 420
ROW_HEIGHT: Final = 30
#: Measure labels longer than this (px) are written on two lines (never cut short).
LABEL_LIMIT: Final = 260.0
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


@lru_cache(maxsize=2048)
def components_geometry(values: tuple[tuple[float | None, float | None, float | None], ...]
                        ) -> ComponentsGeometry:
    """Scale, gridlines, interval rules and point positions of (estimate, low, high) rows."""
    numbers = [v for row in values for v in row if v is not None]
    low_end, high_end, tick_values = draw.nice_domain(numbers, count=5)
    x = draw.linear((low_end, high_end), (0.0, float(WIDTH)))
    height = float(ROW_HEIGHT * len(values))
    step = tick_values[1] - tick_values[0] if len(tick_values) > 1 else 1.0
    parts = ['<g aria-hidden="true">']
    for value in tick_values:
        parts.append(f'<path d="M{draw.num(x(value))},0V{draw.num(height)}" '
                     f'stroke="{draw.GRID}"/>')
    parts.append(f'<path d="M0,{draw.num(height)}h{WIDTH}" stroke="{draw.AXIS}"/>')
    points: list[tuple[float, float] | None] = []
    for i, (estimate, low, high) in enumerate(values):
        cy = ROW_HEIGHT * (i + 0.5)
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
    geo = components_geometry(tuple((r["estimate"], r["ci_low"], r["ci_high"]) for r in rows))
    names = [draw.two_lines(r["measure_label"], draw.TICK_SIZE, LABEL_LIMIT) for r in rows]
    left = 8 + max(draw.text_width(line, draw.TICK_SIZE) for n in names for line in n) + 10
    top = 30.0
    out = [draw.text(4, 18, title, size=draw.TITLE_SIZE, weight="bold"), '<g aria-hidden="true">']
    for i, lines in enumerate(names):
        middle = top + ROW_HEIGHT * (i + 0.5) + 4
        for j, line in enumerate(lines):  # two lines sit 6.5 px above and below the middle
            out.append(draw.text(left - 8, middle + (j - (len(lines) - 1) / 2) * 13, line,
                                 size=draw.TICK_SIZE, anchor="end"))
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
    items = "; ".join(r["description"] for r in rows)
    summary = label("components_summary", lang).format(count=len(frame), items=items)
    last_tick = draw.text_width(draw.tick_label(geo.ticks[-1][0], geo.step, lang), draw.TICK_SIZE)
    width = max(left + WIDTH + last_tick / 2 + 8, 8 + draw.text_width(title, draw.TITLE_SIZE),
                left + WIDTH / 2 + draw.text_width(axis_title, draw.TICK_SIZE) / 2 + 8)
    height = top + geo.height + 44
    return draw.document(width, height, title=title, summary=summary, body="".join(out),
                         kind="components")
