"""Components beside the composite: one row per measure, estimate as a dot, interval as a bar."""

from __future__ import annotations

from typing import Any, Final

import pandas as pd

from tryg.charts.labels import format_number, label, normalise_language
from tryg.charts.palette import SERIES
from tryg.charts.svg import to_svg
from tryg.charts.values import as_number, interval_text, require_columns

COMPONENT_COLUMNS: Final = ("measure_label", "estimate", "ci_low", "ci_high")
WIDTH: Final = 420
ROW_HEIGHT: Final = 30


def component_rows(frame: pd.DataFrame, language: str) -> list[dict[str, Any]]:
    """The chart's data rows, in the frame's order."""
    rows: list[dict[str, Any]] = []
    for rec in frame.to_dict("records"):
        estimate = as_number(rec["estimate"])
        low, high = as_number(rec["ci_low"]), as_number(rec["ci_high"])
        name = str(rec["measure_label"])
        value = "–" if estimate is None else format_number(estimate, language)
        rows.append({"measure_label": name, "estimate": estimate, "ci_low": low,
                     "ci_high": high,
                     "description": f"{name}: {value}{interval_text(low, high, language)}"})
    return rows


def components_spec(frame: pd.DataFrame, *, title: str, language: str) -> dict[str, Any]:
    """The Vega-Lite spec of :func:`components_svg` (pure)."""
    require_columns(frame, COMPONENT_COLUMNS, "a components chart")
    lang = normalise_language(language)
    rows = component_rows(frame, lang)
    order = list(dict.fromkeys(r["measure_label"] for r in rows))
    y = {"field": "measure_label", "type": "nominal", "sort": order, "title": None,
         "axis": {"labelLimit": 0}}  # no label cut off
    x_title = f"{label('estimate', lang)} ({label('interval', lang)})"
    return {
        "title": str(title),
        "width": WIDTH,
        "height": {"step": ROW_HEIGHT},
        "data": {"values": rows},
        "config": {"title": {"aria": False},
                   "axis": {"aria": False, "titleLimit": 0, "labelLimit": 0},
                   "view": {"stroke": None}},
        "layer": [
            {
                "mark": {"type": "rule", "strokeWidth": 3, "opacity": 0.45, "aria": False,
                         "color": SERIES[0]},
                "encoding": {"y": y,
                             "x": {"field": "ci_low", "type": "quantitative", "title": x_title,
                                   "scale": {"zero": False}},
                             "x2": {"field": "ci_high"}},
            },
            {
                "mark": {"type": "point", "filled": True, "size": 80, "opacity": 1,
                         "color": SERIES[0]},
                "encoding": {"y": y, "x": {"field": "estimate", "type": "quantitative"},
                             "description": {"field": "description"}},
            },
        ],
    }


def components_svg(frame: pd.DataFrame, *, title: str, language: str) -> str:
    """An SVG dot-and-interval chart of ``frame`` (measure_label, estimate, ci_low, ci_high).

    Rows are drawn top to bottom in the frame's order, so put the composite first.
    """
    lang = normalise_language(language)
    spec = components_spec(frame, title=title, language=lang)
    items = "; ".join(r["description"] for r in component_rows(frame, lang))
    summary = label("components_summary", lang).format(count=len(frame), items=items)
    return to_svg(spec, language=lang, title=title, summary=summary)
