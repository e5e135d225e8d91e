"""tryg.charts.components: one row per measure, the interval as a rule, in the frame's order,
written as SVG directly; long measure names shortened, never cut off."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from chart_helpers import (
    SVG,
    assert_accessible,
    assert_styled_by_classes,
    assert_texts_fit,
    http_references,
    parse,
)

from tryg.charts import components_svg
from tryg.charts.components import component_rows, components_geometry, rule_y


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "measure_label": ["Tryghedsindeks", "Utryghed", "Anmeldelser"],
        "estimate": [72.0, 65.5, 80.25],
        "ci_low": [70.0, 60.0, None],
        "ci_high": [74.0, 70.0, None],
    })


def test_rows_keep_the_frame_order_and_describe_value_and_interval() -> None:
    rows = component_rows(frame(), "en")
    assert [r["measure_label"] for r in rows] == ["Tryghedsindeks", "Utryghed", "Anmeldelser"]
    assert rows[2]["ci_low"] is None  # NaN becomes None, not NaN
    assert rows[1]["description"] == "Utryghed: 65.5 (60.0–70.0)"
    assert rows[2]["description"] == "Anmeldelser: 80.2"


def test_intervals_are_rules_and_estimates_points_top_to_bottom() -> None:
    svg = components_svg(frame(), title="Delindeks", language="en")
    geo = components_geometry(((72.0, 70.0, 74.0), (65.5, 60.0, 70.0), (80.25, None, None)))
    low, high = geo.domain
    assert low <= 60.0 and high >= 80.25
    rules = [re.fullmatch(r"M([-\d.]+),([-\d.]+)H([-\d.]+)", e.get("d") or "")
             for e in parse(svg).iter(f"{SVG}path") if e.get("stroke-width") == "3"]
    drawn = [(float(m.group(1)), float(m.group(2)), float(m.group(3))) for m in rules if m]
    expected = [(geo.x(70.0), rule_y(0), geo.x(74.0)),
                (geo.x(60.0), rule_y(1), geo.x(70.0))]  # no rule without an interval
    assert [v for r in drawn for v in r] == pytest.approx([v for r in expected for v in r],
                                                          abs=0.01)
    assert geo.points[2] == pytest.approx((geo.x(80.25), rule_y(2)))
    labels = [e.get("aria-label") for e in parse(svg).iter(f"{SVG}path")
              if e.get("role") == "graphics-symbol"]
    assert labels == ["Tryghedsindeks: 72.0 (70.0–74.0)", "Utryghed: 65.5 (60.0–70.0)",
                      "Anmeldelser: 80.2"]


def test_svg_is_accessible_and_self_contained() -> None:
    svg = components_svg(frame(), title="Delindeks", language="da")
    root = assert_accessible(svg, "Delindeks")
    assert "Utryghed: 65,5 (60,0–70,0)" in (root.get("aria-label") or "")
    assert http_references(svg) == []
    assert_styled_by_classes(svg)
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {"Tryghedsindeks", "Estimat (95 %-konfidensinterval)", "60", "80"} <= texts


def test_long_measure_names_are_written_in_full_on_two_lines() -> None:
    long = "Andel der føler sig trygge i eget boligområde om aftenen og natten, alle aldre"
    svg = components_svg(frame().assign(measure_label=["Tryghedsindeks", long, "Anmeldelser"]),
                         title="Indekset og dets dele, 2023", language="da")
    assert_texts_fit(svg)
    texts = [t.text or "" for t in parse(svg).iter(f"{SVG}text")]
    assert not [t for t in texts if t.endswith("…")]  # never cut short
    halves = [t for t in texts if t and long.startswith(t) and t != long]
    assert len(halves) == 1 and f"{halves[0]} {long[len(halves[0]) + 1:]}" == long
    assert long[len(halves[0]) + 1:] in texts
    assert long in svg  # in full in the point's description


def test_each_name_is_written_above_its_row_and_long_names_wrap() -> None:
    """Names sit above their interval, between it and the row before, so the chart is no
    wider than its plot (a phone draws it at full size); a long name takes two lines and
    every row makes room for two."""
    long = "Oplevet tryghed i eget boligområde om aftenen og natten (0-100, højere = tryggere)"
    data = frame().assign(measure_label=["Tryghedsindeks", long, "Anmeldelser"])
    svg = components_svg(data, title="Delindeks", language="da")
    root = parse(svg)
    top = next(float(g.get("transform", "").split(",")[1].rstrip(")"))
               for g in root.iter(f"{SVG}g") if g.get("transform", "").startswith("translate"))
    texts = [(t.text or "", float(t.get("y") or 0)) for t in root.iter(f"{SVG}text")]
    first = [y for text, y in texts if text == "Tryghedsindeks"]
    wrapped = [y for text, y in texts if text and text in long and text != long]
    assert len(first) == 1 and len(wrapped) == 2  # the long name on two lines
    assert top < first[0] < top + rule_y(0, 2)
    assert top + rule_y(0, 2) < min(wrapped) < max(wrapped) < top + rule_y(1, 2)
    assert float(root.get("width") or 0) <= 8 + 330 + 30  # the plot and half a tick label
