"""Trend charts: every wave's estimate with its interval band, per series (area, parent, …).

Shape tells how a point was estimated (direct or model-based); a star above the interval marks a
wave whose change from the previous wave is significant. Both are in the legend.
"""

from __future__ import annotations

from typing import Any, Final

import pandas as pd

from tryg.charts.labels import (
    format_number,
    is_missing,
    is_model_based,
    label,
    method_label,
    normalise_language,
)
from tryg.charts.palette import series_colours
from tryg.charts.svg import to_svg
from tryg.charts.values import as_number, interval_text, require_columns

TREND_COLUMNS: Final = ("wave", "estimate", "ci_low", "ci_high", "n", "method", "sig_prev",
                        "series")
#: A five-pointed star (Vega symbol paths live in a unit square centred on 0,0).
STAR: Final = ("M0,-1L0.2245,-0.309L0.9511,-0.309L0.3633,0.118L0.5878,0.809L0,0.382"
               "L-0.5878,0.809L-0.3633,0.118L-0.9511,-0.309L-0.2245,-0.309Z")
SHAPES: Final = {"direct": "circle", "model": "triangle-up", "significant": STAR}
WIDTH: Final = 520
HEIGHT: Final = 260


def trend_rows(points: pd.DataFrame, language: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The chart's data rows (JSON-ready) and the waves in order."""
    ordered = points.sort_values("wave", kind="stable")
    waves = list(dict.fromkeys(str(w) for w in ordered["wave"]))
    rows: list[dict[str, Any]] = []
    for rec in ordered.to_dict("records"):
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
            "ci_high": high, "n": n, "method": label(kind, language),
            "marker": label("significant", language) if sig else None,
            "marker_y": (high if high is not None else estimate) if sig else None,
            "description": "".join(parts),
        })
    return rows, waves


def trend_spec(points: pd.DataFrame, *, title: str, language: str) -> dict[str, Any]:
    """The Vega-Lite spec of :func:`trend_svg` (pure; see there for ``points``)."""
    require_columns(points, TREND_COLUMNS, "a trend chart")
    lang = normalise_language(language)
    rows, waves = trend_rows(points, lang)
    series = list(dict.fromkeys(r["series"] for r in rows))
    x = {"field": "wave", "type": "ordinal", "sort": waves,
         "axis": {"title": label("wave", lang), "labelAngle": 0}}
    y_title = label("estimate", lang)
    color = {"field": "series", "type": "nominal", "title": label("series", lang),
             "scale": {"domain": series, "range": series_colours(len(series))}}
    shape_domain = [label("direct", lang), label("model", lang), label("significant", lang)]
    shape_range = [SHAPES["direct"], SHAPES["model"], SHAPES["significant"]]
    shape_scale = {"domain": shape_domain, "range": shape_range}
    return {
        "title": str(title),
        "width": WIDTH,
        "height": HEIGHT,
        "data": {"values": rows},
        "config": {"title": {"aria": False},
                   "axis": {"aria": False, "titleLimit": 0, "labelLimit": 0},
                   "legend": {"aria": False, "orient": "bottom", "direction": "vertical",
                              "symbolOpacity": 1, "labelLimit": 0, "titleLimit": 0},
                   "view": {"stroke": None}},
        "layer": [
            {   # the interval band
                "mark": {"type": "area", "opacity": 0.18, "aria": False},
                "encoding": {"x": x,
                             "y": {"field": "ci_low", "type": "quantitative",
                                   "title": y_title, "scale": {"zero": False}},
                             "y2": {"field": "ci_high"}, "color": color},
            },
            {
                "mark": {"type": "line", "aria": False},
                "encoding": {"x": x, "y": {"field": "estimate", "type": "quantitative"},
                             "color": color},
            },
            {   # the estimates: shape = method
                "mark": {"type": "point", "filled": True, "size": 70, "opacity": 1},
                "encoding": {
                    "x": x, "y": {"field": "estimate", "type": "quantitative"},
                    "color": color,
                    "shape": {"field": "method", "type": "nominal", "scale": shape_scale,
                              "title": label("points", lang)},
                    "description": {"field": "description"},
                },
            },
            {   # significance markers above the interval
                "transform": [{"filter": "datum.marker != null"}],
                "mark": {"type": "point", "filled": True, "size": 110, "yOffset": -9,
                         "opacity": 1, "aria": False},
                "encoding": {
                    "x": x, "y": {"field": "marker_y", "type": "quantitative"},
                    "color": color,
                    "shape": {"field": "marker", "type": "nominal", "scale": shape_scale,
                              "title": label("points", lang)},
                },
            },
        ],
    }


def trend_summary(points: pd.DataFrame, language: str) -> str:
    """The text alternative: waves, series and where changes are significant."""
    lang = normalise_language(language)
    rows, waves = trend_rows(points, lang)
    series = list(dict.fromkeys(r["series"] for r in rows))
    text = label("trend_summary", lang).format(waves=len(waves), series=", ".join(series))
    marks = [f"{r['series']} {r['wave']}" for r in rows if r["marker"]]
    if marks:
        text += " " + label("trend_summary_sig", lang).format(marks=", ".join(marks))
    return text


def trend_svg(points: pd.DataFrame, *, title: str, language: str) -> str:
    """An SVG trend chart: estimate lines with interval bands, one colour per ``series``.

    ``points`` has the columns wave, estimate, ci_low, ci_high, n, method, sig_prev
    (bool or None) and series. Model-based methods (model, synthetic, register_eb) are drawn
    as triangles, the others as circles; ``sig_prev`` true adds a star above the interval.
    """
    lang = normalise_language(language)
    spec = trend_spec(points, title=title, language=lang)
    return to_svg(spec, language=lang, title=title, summary=trend_summary(points, lang))
