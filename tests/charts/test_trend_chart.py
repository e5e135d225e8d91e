"""tryg.charts.trend: interval bands, method shapes, significance markers, accessible SVG
written directly (no JavaScript engine), its geometry drawn once per data."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

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

from tryg.charts import trend_svg
from tryg.charts.draw import TICK_SIZE, symbol, text_width
from tryg.charts.trend import (
    BAND_OPACITY,
    POINT_AREA,
    TrendGeometry,
    geometry,
    trend_geometry,
    trend_rows,
)


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


def geo_of(frame: pd.DataFrame, language: str = "da") -> TrendGeometry:
    rows, waves = trend_rows(frame, language)
    return geometry(rows, waves)


def coordinates(d: str) -> list[tuple[float, float]]:
    """The points of an absolute M/L path."""
    return [(float(x), float(y)) for x, y in re.findall(r"[ML]([-\d.]+),([-\d.]+)", d)]


def flat(points: Sequence[Sequence[float]]) -> list[float]:
    return [v for point in points for v in point]


def bands(svg: str) -> list[list[tuple[float, float]]]:
    return [coordinates(e.get("d") or "") for e in parse(svg).iter(f"{SVG}path")
            if e.get("fill-opacity") == str(BAND_OPACITY)
            and (e.get("d") or "").startswith("M") and (e.get("d") or "").endswith("Z")
            and len(coordinates(e.get("d") or "")) > 4]


def test_band_runs_from_ci_low_to_ci_high_with_a_line_on_the_estimate() -> None:
    geo = geo_of(points())
    assert [w for w, _x in geo.waves] == ["2019", "2021", "2023"]  # in order, whatever the input
    assert geo.series == ("Vejgård", "Aalborg")
    low, high = geo.domain
    assert low <= 68.0 and high >= 82.0  # every interval inside the scale
    svg = trend_svg(points(), title="Tryghed", language="da")
    vejgaard, aalborg = bands(svg)
    xs = [x for _w, x in geo.waves]
    # the upper edge left to right at ci_high, the lower edge back at ci_low
    expected = ([(x, geo.y(h)) for x, h in zip(xs, [74.0, 77.0, 82.0], strict=True)]
                + [(x, geo.y(lo)) for x, lo in zip(reversed(xs), [75.0, 70.0, 68.0],
                                                   strict=True)])
    assert flat(vejgaard) == pytest.approx(flat(expected), abs=0.01)
    assert list(aalborg[0]) == pytest.approx([xs[0], geo.y(71.0)], abs=0.01)
    lines = [coordinates(e.get("d") or "") for e in parse(svg).iter(f"{SVG}path")
             if e.get("fill") == "none" and e.get("stroke-width") == "2"]
    assert flat(lines[0]) == pytest.approx(flat([(x, geo.y(v)) for x, v in zip(
        xs, [71.2, 73.5, 78.9], strict=True)]), abs=0.01)


def test_method_is_a_shape_and_significance_a_star_in_one_legend() -> None:
    rows, _waves = trend_rows(points(), "en")
    by_key = {(r["series"], r["wave"]): r for r in rows}
    assert by_key["Vejgård", "2021"]["method"] == "Model-based estimate"
    assert by_key["Vejgård", "2019"]["method"] == "Direct estimate"
    marked = [(r["series"], r["wave"]) for r in rows if r["marker"]]
    assert marked == [("Vejgård", "2023")]  # NA and False carry no marker
    assert by_key["Vejgård", "2023"]["marker_y"] == 82.0  # drawn above the interval
    geo = geo_of(points(), "en")
    kinds = {(r["series"], r["wave"]): p[0] for r, p in zip(rows, geo.points, strict=True)
             if p}
    assert kinds["Vejgård", "2021"] == "model"
    svg = trend_svg(points(), title="Safety", language="en")
    root = parse(svg)
    point = next(e for e in root.iter(f"{SVG}path")
                 if (e.get("aria-label") or "").startswith("Vejgård, wave 2021"))
    assert point.get("d", "").count("L") == 2  # a triangle: three corners
    legend = {t.text for t in root.iter(f"{SVG}text")}
    assert {"Points", "Direct estimate", "Model-based estimate",
            "Significant change from the previous wave"} <= legend
    # one star in the plot (Vejgård 2023), above its interval's top
    x2023 = dict(geo.waves)["2023"]
    star_paths = [e.get("d") or "" for e in root.iter(f"{SVG}path")
                  if (e.get("d") or "").count("L") == 9]
    in_plot = [coordinates(d) for d in star_paths]
    centres = [(sum(x for x, _ in c) / len(c), max(y for _, y in c)) for c in in_plot]
    assert any(abs(cx - x2023) < 1 and bottom < geo.y(82.0) for cx, bottom in centres)


def test_point_descriptions_give_value_interval_n_and_method_in_danish() -> None:
    rows, _waves = trend_rows(points(), "da")
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
    assert {"70", "80"} <= texts  # the axis' numbers
    assert http_references(svg) == []
    assert_styled_by_classes(svg)
    # every point is described for screen readers (6 points; stars are aria-hidden)
    described = [e for e in root.iter() if (e.get("aria-label") or "").startswith(("Vejg", "Aalb"))]
    assert len(described) == 6
    circle = symbol("circle", 0, 0, POINT_AREA)
    assert sum(1 for e in described if e.get("d", "").count("a") == circle.count("a")) == 5


def test_english_svg_uses_english_labels() -> None:
    root = assert_accessible(trend_svg(points(), title="Safety", language="en"), "Safety")
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {"Wave", "Estimate", "Model-based estimate"} <= texts


def test_axis_numbers_follow_the_language() -> None:
    frame = points().assign(estimate=[0.45, 0.41, 0.43, 0.40, 0.42, 0.44],
                            ci_low=[0.44, 0.40, 0.42, 0.39, 0.41, 0.43],
                            ci_high=[0.46, 0.42, 0.44, 0.41, 0.43, 0.45])
    da = {t.text for t in parse(trend_svg(frame, title="T", language="da")).iter(f"{SVG}text")}
    en = {t.text for t in parse(trend_svg(frame, title="T", language="en")).iter(f"{SVG}text")}
    assert "0,42" in da and "0.42" in en


def test_long_titles_names_and_legends_are_not_cut_off() -> None:
    frame = points().assign(series=["Vejgård Øst og Nørresundby Midt"] * 3
                            + ["Aalborg Kommune (hele kommunen)"] * 3)
    for language in ("da", "en"):
        svg = trend_svg(frame, title="Andel der føler sig trygge i eget boligområde om aftenen "
                        "og natten", language=language)
        assert_texts_fit(svg)


def test_missing_waves_are_left_out_and_a_single_interval_is_still_drawn() -> None:
    frame = points()[points()["series"] == "Vejgård"].reset_index(drop=True)
    frame.loc[frame["wave"] == 2021, ["ci_low", "ci_high"]] = None  # no interval in 2021
    svg = trend_svg(frame, title="T", language="da")
    geo = geo_of(frame)
    # 2019 and 2023 have intervals but no neighbour with one: each is a bar, not a band
    bars = [re.fullmatch(r"M([-\d.]+),([-\d.]+)V([-\d.]+)", e.get("d") or "")
            for e in parse(svg).iter(f"{SVG}path") if e.get("stroke-width") == "8"]
    xs = dict(geo.waves)
    drawn = sorted((float(m.group(1)), float(m.group(2)), float(m.group(3))) for m in bars if m)
    assert flat(drawn) == pytest.approx(flat([
        (xs["2019"], geo.y(68.0), geo.y(74.0)), (xs["2023"], geo.y(75.0), geo.y(82.0))]),
        abs=0.01)
    assert bands(svg) == []
    assert [p is not None for p in geo.points] == [True, True, True]


def test_the_geometry_is_drawn_once_for_both_languages() -> None:
    frame = points().assign(estimate=[78.5, 71.5, 73.5, 70.5, 71.5, 72.5])  # new numbers
    before = trend_geometry.cache_info()
    da = trend_svg(frame, title="Tryghed", language="da")
    en = trend_svg(frame, title="Safety", language="en")
    after = trend_geometry.cache_info()
    assert after.misses == before.misses + 1 and after.hits == before.hits + 1
    body = geo_of(frame).body  # gridlines, bands, lines and stars: the same in both
    assert body in da and body in en


def test_missing_columns_and_unknown_language_are_refused() -> None:
    with pytest.raises(ValueError, match="sig_prev"):
        trend_svg(points().drop(columns="sig_prev"), title="T", language="da")
    with pytest.raises(ValueError, match="'de'"):
        trend_svg(points(), title="T", language="de")


def test_wave_names_under_the_axis_never_overlap_and_the_last_is_always_written() -> None:
    """Twelve waves on the 320 px plot (drawn at about 90 % on a phone): the names that would
    touch are thinned to every k-th, counted back from the newest wave."""
    waves = [f"{year}-{(year + 1) % 100:02d}" for year in range(2010, 2022)]
    frame = pd.DataFrame({"wave": waves, "estimate": 70.0, "ci_low": 68.0, "ci_high": 72.0,
                          "n": "400", "method": "direct", "sig_prev": None, "series": "Aalborg"})
    svg = trend_svg(frame, title="T", language="da")
    written = [(t.text, float(t.get("x") or 0)) for t in parse(svg).iter(f"{SVG}text")
               if t.text in waves]
    assert written[-1][0] == waves[-1]
    assert 2 <= len(written) < len(waves)
    for (a, xa), (b, xb) in itertools.pairwise(written):
        assert xb - xa >= (text_width(a, TICK_SIZE) + text_width(b, TICK_SIZE)) / 2, (a, b)
    few = trend_svg(frame.head(5), title="T", language="da")
    assert [t.text for t in parse(few).iter(f"{SVG}text") if t.text in waves] == waves[:5]
