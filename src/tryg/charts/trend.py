"""Trend charts: every wave's estimate with its interval band, per series (area, parent, …).

Shape tells how a point was estimated (direct or model-based); a star above the interval marks a
wave whose change from the previous wave is significant. Both are in the legend.

Drawn as SVG directly (:mod:`tryg.charts.draw`): the plot (gridlines, bands, lines, stars and
the points' positions) depends only on the numbers and is computed once per data
(:func:`trend_geometry`, cached); the words around it (title, axes, legend, the points'
descriptions) are written per language.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from typing import Any, Final

from tryg.charts import draw
from tryg.charts.labels import (
    format_number,
    is_missing,
    is_model_based,
    label,
    method_label,
    normalise_language,
)
from tryg.charts.palette import series_colours
from tryg.charts.values import Table, as_number, interval_text, records, require_columns

TREND_COLUMNS: Final = ("wave", "estimate", "ci_low", "ci_high", "n", "method", "sig_prev",
                        "series")
#: Symbols: shape = how a point was estimated; a star marks a significant change.
SHAPES: Final = {"direct": "circle", "model": "triangle", "significant": "star"}
#: The plot's size (px). Narrow enough that the whole chart (about 400 px with its axis) is
#: drawn at 90 % or more on a phone's 358 px column, where 11 px text stays at 9 px or more
#: (tests/browser/test_browser_phones.py); the page never scales a chart up.
WIDTH: Final = 320
HEIGHT: Final = 240
#: Symbol areas in px² (points, stars), the band's opacity and the line's width.
POINT_AREA: Final = 70.0
STAR_AREA: Final = 110.0
STAR_OFFSET: Final = 9.0
BAND_OPACITY: Final = 0.18
LINE_WIDTH: Final = 2
LEGEND_ROW: Final = 18.0

#: One drawn row: series, wave, estimate, ci_low, ci_high, kind ("direct"/"model"), marked.
Row = tuple[str, str, float | None, float | None, float | None, str, bool]


def trend_rows(points: Table, language: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The chart's rows (with each point's description) and the waves in order."""
    ordered = sorted(records(points, TREND_COLUMNS), key=lambda rec: rec["wave"])
    waves = list(dict.fromkeys(str(rec["wave"]) for rec in ordered))
    rows: list[dict[str, Any]] = []
    for rec in ordered:
        estimate = as_number(rec["estimate"])
        low, high = as_number(rec["ci_low"]), as_number(rec["ci_high"])
        kind = "model" if is_model_based(rec["method"]) else "direct"
        sig = (not is_missing(rec["sig_prev"])) and bool(rec["sig_prev"])
        wave, series = str(rec["wave"]), str(rec["series"])
        n = "" if is_missing(rec["n"]) else str(rec["n"])
        parts = [f"{series}, {label('wave', language).lower()} {wave}: "]
        parts.append("–" if estimate is None else format_number(estimate, language))
        parts.append(interval_text(low, high, language))
        if n:
            parts.append(f", {label('n', language)} = {n}")
        parts.append(f", {method_label(rec['method'], language)}")
        if sig:
            parts.append(f". {label('significant', language)}")
        rows.append({
            "wave": wave, "series": series, "estimate": estimate, "ci_low": low,
            "ci_high": high, "n": n, "kind": kind, "method": label(kind, language),
            "marker": label("significant", language) if sig else None,
            "marker_y": (high if high is not None else estimate) if sig else None,
            "description": "".join(parts),
        })
    return rows, waves


@dataclass(frozen=True)
class TrendGeometry:
    """The language-independent drawing of a trend chart, in plot coordinates (0,0 = the
    plot's top left; the plot is :data:`WIDTH` × :data:`HEIGHT`)."""

    series: tuple[str, ...]
    colours: tuple[str, ...]
    waves: tuple[tuple[str, float], ...]          # wave and its x
    domain: tuple[float, float]                    # the y scale's domain (bottom, top)
    ticks: tuple[tuple[float, float], ...]         # tick value and its y
    step: float
    #: Gridlines, bands, lines and stars (aria-hidden), as SVG.
    body: str
    #: Per row (in the rows' order): kind, x, y and series index; None without an estimate.
    points: tuple[tuple[str, float, float, int] | None, ...]

    def y(self, value: float) -> float:
        """The plot y of ``value``."""
        return draw.linear(self.domain, (float(HEIGHT), 0.0))(value)


@lru_cache(maxsize=2048)
def trend_geometry(rows: tuple[Row, ...], waves: tuple[str, ...]) -> TrendGeometry:
    """Scales, gridlines, bands, lines, stars and point positions of ``rows`` (cached: the
    same numbers are drawn once, whatever the language and the page)."""
    series = tuple(dict.fromkeys(r[0] for r in rows))
    colours = tuple(series_colours(len(series)))
    values: list[float] = []
    for _s, _w, est, low, high, _k, _m in rows:
        values += [v for v in (est, low, high) if v is not None]
    low_end, high_end, tick_values = draw.nice_domain(values, count=5)
    y = draw.linear((low_end, high_end), (float(HEIGHT), 0.0))
    step = tick_values[1] - tick_values[0] if len(tick_values) > 1 else 1.0
    xs = {w: WIDTH * (i + 0.5) / len(waves) for i, w in enumerate(waves)}
    parts: list[str] = ['<g aria-hidden="true">']
    for value in tick_values:
        parts.append(f'<path d="M0,{draw.num(y(value))}h{WIDTH}" stroke="{draw.GRID}"/>')
    parts.append(f'<path d="M0,{HEIGHT}h{WIDTH}" stroke="{draw.AXIS}"/>')
    points: list[tuple[str, float, float, int] | None] = []
    for index, name in enumerate(series):
        mine = [r for r in rows if r[0] == name]
        colour = colours[index]
        # the interval band: one polygon per run of waves with both bounds
        run: list[tuple[float, float, float]] = []
        runs: list[list[tuple[float, float, float]]] = []
        for _s, wave, _e, low, high, _k, _m in mine:
            if low is None or high is None:
                if run:
                    runs.append(run)
                run = []
            else:
                run.append((xs[wave], y(low), y(high)))
        if run:
            runs.append(run)
        for band in runs:
            if len(band) == 1:  # a single wave: its interval as a bar
                x, lo, hi = band[0]
                parts.append(f'<path d="M{draw.num(x)},{draw.num(lo)}V{draw.num(hi)}" '
                             f'stroke="{colour}" stroke-opacity="{BAND_OPACITY * 2}" '
                             'stroke-width="8"/>')
            else:
                outline = [(x, hi) for x, _lo, hi in band] + [
                    (x, lo) for x, lo, _hi in reversed(band)]
                parts.append(f'<path d="{draw.path(outline, close=True)}" fill="{colour}" '
                             f'fill-opacity="{BAND_OPACITY}"/>')
        line = [(xs[r[1]], y(r[2])) for r in mine if r[2] is not None]
        if len(line) > 1:
            parts.append(f'<path d="{draw.path(line)}" fill="none" stroke="{colour}" '
                         f'stroke-width="{LINE_WIDTH}"/>')
        for _s, wave, est, _lo, high, _k, marked in mine:
            top = high if high is not None else est
            if marked and top is not None:  # the star above the interval
                star = draw.symbol("star", xs[wave], y(top) - STAR_OFFSET, STAR_AREA)
                parts.append(f'<path d="{star}" fill="{colour}"/>')
    parts.append("</g>")
    order = {name: i for i, name in enumerate(series)}
    for name, wave, est, _lo, _hi, kind, _m in rows:
        points.append(None if est is None else (kind, xs[wave], y(est), order[name]))
    return TrendGeometry(series, colours, tuple(xs.items()), (low_end, high_end),
                         tuple((v, y(v)) for v in tick_values), step, "".join(parts),
                         tuple(points))


def geometry(rows: list[dict[str, Any]], waves: list[str]) -> TrendGeometry:
    """The (cached) geometry of :func:`trend_rows`' rows and waves."""
    key = tuple((r["series"], r["wave"], r["estimate"], r["ci_low"], r["ci_high"], r["kind"],
                 r["marker"] is not None) for r in rows)
    return trend_geometry(key, tuple(waves))


def trend_summary(points: Table, language: str) -> str:
    """The text alternative: waves, series and where changes are significant."""
    lang = normalise_language(language)
    rows, waves = trend_rows(points, lang)
    return _summary(rows, waves, lang)


def _summary(rows: list[dict[str, Any]], waves: list[str], lang: str) -> str:
    series = list(dict.fromkeys(r["series"] for r in rows))
    text = label("trend_summary", lang).format(waves=len(waves), series=", ".join(series))
    marks = [f"{r['series']} {r['wave']}" for r in rows if r["marker"]]
    if marks:
        text += " " + label("trend_summary_sig", lang).format(marks=", ".join(marks))
    return text


def _labelled_waves(waves: tuple[tuple[str, float], ...]) -> list[tuple[str, float]]:
    """The waves whose names are written under the axis: every one when they fit side by
    side, else every k-th, the last always (its point is the one a reader looks for)."""
    if len(waves) < 2:
        return list(waves)
    room = waves[1][1] - waves[0][1]
    widest = max(draw.text_width(w, draw.TICK_SIZE) for w, _x in waves) + 6
    every = max(1, math.ceil(widest / room))
    last = len(waves) - 1
    return [w for i, w in enumerate(waves) if (last - i) % every == 0]


def _legend_symbol(kind: str, x: float, y: float) -> str:
    d = draw.symbol(SHAPES[kind], x, y, POINT_AREA if kind != "significant" else STAR_AREA * 0.8)
    return f'<path d="{d}" fill="{draw.MUTED}"/>'


def trend_svg(points: Table, *, title: str, language: str) -> str:
    """An SVG trend chart: estimate lines with interval bands, one colour per ``series``.

    ``points`` has the columns wave, estimate, ci_low, ci_high, n, method, sig_prev
    (bool or None) and series. Model-based methods (model, synthetic, register_eb) are drawn
    as triangles, the others as circles; ``sig_prev`` true adds a star above the interval.
    """
    require_columns(points, TREND_COLUMNS, "a trend chart")
    lang = normalise_language(language)
    title = str(title)
    rows, waves = trend_rows(points, lang)
    geo = geometry(rows, waves)
    tick_labels = [draw.tick_label(v, geo.step, lang) for v, _y in geo.ticks]
    left = 24 + max(draw.text_width(t, draw.TICK_SIZE) for t in tick_labels) + 8
    title_lines = draw.two_lines(title, draw.TITLE_SIZE, left + WIDTH - 4, bold=True)
    top = 42.0 + 16 * (len(title_lines) - 1)  # room for a star above the highest interval
    bottom = top + HEIGHT
    out: list[str] = [draw.text(4, 18 + 16 * i, line, size=draw.TITLE_SIZE, weight="bold")
                      for i, line in enumerate(title_lines)]
    out.append('<g aria-hidden="true">')
    for text, (_v, ty) in zip(tick_labels, geo.ticks, strict=True):
        out.append(draw.text(left - 6, top + ty + 4, text, size=draw.TICK_SIZE, anchor="end",
                             fill=draw.MUTED))
    for wave, wx in _labelled_waves(geo.waves):
        out.append(draw.text(left + wx, bottom + 16, wave, size=draw.TICK_SIZE, anchor="middle",
                             fill=draw.MUTED))
    out.append(draw.text(12, top + HEIGHT / 2, label("estimate", lang), size=draw.TICK_SIZE,
                         anchor="middle", weight="bold", rotate=True))
    out.append(draw.text(left + WIDTH / 2, bottom + 34, label("wave", lang), size=draw.TICK_SIZE,
                         anchor="middle", weight="bold"))
    out.append("</g>")
    # the plot: the cached geometry, then the described points
    out.append(f'<g transform="translate({draw.num(left)},{draw.num(top)})">{geo.body}')
    for row, point in zip(rows, geo.points, strict=True):
        if point is None:
            continue
        kind, px, py, index = point
        d = draw.symbol(SHAPES[kind], px, py, POINT_AREA)
        out.append(f'<path d="{d}" fill="{geo.colours[index]}" role="graphics-symbol" '
                   f'aria-label="{escape(row["description"], quote=True)}"/>')
    out.append("</g>")
    # the legend: series (colour), then the symbols below them (one column: a phone's width)
    legend_top = bottom + 56
    out.append('<g aria-hidden="true">')
    out.append(draw.text(4, legend_top, label("series", lang), size=draw.TICK_SIZE, weight="bold"))
    widest = draw.text_width(label("series", lang), draw.TICK_SIZE, bold=True)
    for i, (name, colour) in enumerate(zip(geo.series, geo.colours, strict=True)):
        ly = legend_top + (i + 1) * LEGEND_ROW
        out.append(f'<path d="M4,{draw.num(ly - 4)}h18" stroke="{colour}" '
                   f'stroke-width="{LINE_WIDTH}"/>')
        out.append(f'<path d="M4,{draw.num(ly - 10)}h18v12h-18Z" fill="{colour}" '
                   f'fill-opacity="{BAND_OPACITY}"/>')
        out.append(draw.text(28, ly, name, size=draw.TICK_SIZE))
        widest = max(widest, 24 + draw.text_width(name, draw.TICK_SIZE))
    points_top = legend_top + (len(geo.series) + 1) * LEGEND_ROW + 8
    out.append(draw.text(4, points_top, label("points", lang), size=draw.TICK_SIZE,
                         weight="bold"))
    widest = max(widest, draw.text_width(label("points", lang), draw.TICK_SIZE, bold=True))
    for i, kind in enumerate(("direct", "model", "significant")):
        ly = points_top + (i + 1) * LEGEND_ROW
        out.append(_legend_symbol(kind, 11, ly - 4))
        out.append(draw.text(24, ly, label(kind, lang), size=draw.TICK_SIZE))
        widest = max(widest, 20 + draw.text_width(label(kind, lang), draw.TICK_SIZE))
    out.append("</g>")
    width = max(left + WIDTH + 12,
                8 + max(draw.text_width(line, draw.TITLE_SIZE, bold=True) for line in title_lines),
                4 + widest + 8)
    height = points_top + 3 * LEGEND_ROW + 10
    return draw.document(width, height, title=title, summary=_summary(rows, waves, lang),
                         body="".join(out), kind="trend")
