"""tryg.charts.components: one row per measure, the interval as a rule, in the frame's order."""

from __future__ import annotations

import pandas as pd
from chart_helpers import assert_accessible, http_references

from tryg.charts import components_spec, components_svg


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "measure_label": ["Tryghedsindeks", "Utryghed", "Anmeldelser"],
        "estimate": [72.0, 65.5, 80.25],
        "ci_low": [70.0, 60.0, None],
        "ci_high": [74.0, 70.0, None],
    })


def test_spec_draws_interval_rules_and_estimate_points_in_order() -> None:
    spec = components_spec(frame(), title="Delindeks", language="en")
    rule, point = spec["layer"]
    assert rule["mark"]["type"] == "rule"
    assert (rule["encoding"]["x"]["field"], rule["encoding"]["x2"]["field"]) == ("ci_low",
                                                                                  "ci_high")
    assert point["encoding"]["x"]["field"] == "estimate"
    assert point["encoding"]["y"]["sort"] == ["Tryghedsindeks", "Utryghed", "Anmeldelser"]
    rows = spec["data"]["values"]
    assert rows[2]["ci_low"] is None  # NaN becomes JSON null, not NaN
    assert rows[1]["description"] == "Utryghed: 65.5 (60.0–70.0)"
    assert rows[2]["description"] == "Anmeldelser: 80.2"


def test_svg_is_accessible_and_self_contained() -> None:
    svg = components_svg(frame(), title="Delindeks", language="da")
    root = assert_accessible(svg, "Delindeks")
    assert "Utryghed: 65,5 (60,0–70,0)" in (root.get("aria-label") or "")
    assert http_references(svg) == []
