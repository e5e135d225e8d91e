"""tryg.charts.trend: interval bands, method shapes, significance markers, accessible SVG."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from chart_helpers import SVG, assert_accessible, http_references

from tryg.charts import trend_spec, trend_svg
from tryg.charts.trend import SHAPES


def points() -> pd.DataFrame:
    """An area and its parent over three waves, one model-based point, one significant change."""
    return pd.DataFrame({
        "wave": pd.array([2023, 2019, 2021, 2019, 2021, 2023], dtype="Int64"),
        "estimate": [78.9, 71.2, 73.5, 70.0, 71.0, 72.0],
        "ci_low": [75.0, 68.0, 70.0, 69.0, 70.0, 71.0],
        "ci_high": [82.0, 74.0, 77.0, 71.0, 72.0, 73.0],
        "n": ["412", "398", "< 50", "1200", "1100", "1150"],
        "method": ["direct", "direct", "model", "direct", "direct", "direct"],
        "sig_prev": pd.array([True, pd.NA, False, pd.NA, False, False], dtype="boolean"),
        "series": ["Vejgård", "Vejgård", "Vejgård", "Aalborg", "Aalborg", "Aalborg"],
    })


def layer(spec: dict[str, Any], mark: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [lay for lay in spec["layer"] if lay["mark"]["type"] == mark]
    assert found, mark
    return found[0]


def test_band_is_an_area_from_ci_low_to_ci_high_with_a_line_on_the_estimate() -> None:
    spec = trend_spec(points(), title="Tryghed", language="da")
    band = layer(spec, "area")["encoding"]
    assert band["y"]["field"] == "ci_low"
    assert band["y2"]["field"] == "ci_high"
    assert layer(spec, "line")["encoding"]["y"]["field"] == "estimate"
    assert band["x"]["sort"] == ["2019", "2021", "2023"]  # waves in order, whatever the input
    assert band["color"]["scale"]["domain"] == ["Vejgård", "Aalborg"]


def test_method_is_a_shape_and_significance_a_star_in_one_legend() -> None:
    spec = trend_spec(points(), title="Tryghed", language="en")
    estimates, markers = [lay for lay in spec["layer"] if lay["mark"]["type"] == "point"]
    shape = estimates["encoding"]["shape"]
    assert shape["field"] == "method"
    assert shape["scale"]["domain"] == ["Direct estimate", "Model-based estimate",
                                        "Significant change from the previous wave"]
    assert shape["scale"]["range"] == [SHAPES["direct"], SHAPES["model"],
                                       SHAPES["significant"]]
    assert markers["encoding"]["shape"]["scale"] == shape["scale"]
    rows = spec["data"]["values"]
    by_key = {(r["series"], r["wave"]): r for r in rows}
    assert by_key["Vejgård", "2021"]["method"] == "Model-based estimate"
    assert by_key["Vejgård", "2019"]["method"] == "Direct estimate"
    marked = [(r["series"], r["wave"]) for r in rows if r["marker"]]
    assert marked == [("Vejgård", "2023")]  # NA and False carry no marker
    assert by_key["Vejgård", "2023"]["marker_y"] == 82.0  # drawn above the interval


def test_point_descriptions_give_value_interval_n_and_method_in_danish() -> None:
    rows = trend_spec(points(), title="T", language="da-DK")["data"]["values"]
    text = {(r["series"], r["wave"]): r["description"] for r in rows}
    assert text["Vejgård", "2021"] == ("Vejgård, måling 2021: 73,5 (70,0–77,0), n = < 50, "
                                       "modelbaseret")
    assert text["Vejgård", "2023"].endswith("Signifikant ændring fra forrige måling")


def test_svg_is_accessible_xml_with_danish_labels_and_no_web_resources() -> None:
    svg = trend_svg(points(), title="Tryghed i nabolaget", language="da")
    root = assert_accessible(svg, "Tryghed i nabolaget")
    assert "Signifikante ændringer ved: Vejgård 2023" in root.get("aria-label", "")
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {"Måling", "Estimat", "Direkte estimat", "Modelbaseret estimat"} <= texts
    assert "73,5" not in texts  # (estimates are points, not text)
    assert http_references(svg) == []
    # every point is described for screen readers (6 points; markers are aria-hidden)
    described = [e for e in root.iter() if (e.get("aria-label") or "").startswith(("Vejg", "Aalb"))]
    assert len(described) == 6


def test_english_svg_uses_english_labels() -> None:
    root = assert_accessible(trend_svg(points(), title="Safety", language="en"), "Safety")
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {"Wave", "Estimate", "Model-based estimate"} <= texts


def test_missing_columns_and_unknown_language_are_refused() -> None:
    with pytest.raises(ValueError, match="sig_prev"):
        trend_spec(points().drop(columns="sig_prev"), title="T", language="da")
    with pytest.raises(ValueError, match="'de'"):
        trend_spec(points(), title="T", language="de")
