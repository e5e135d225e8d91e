"""tryg.charts.choropleth: bands, links, suppressed areas (hatched, valueless), a real big map."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from chart_helpers import SVG, XLINK_HREF, assert_accessible, http_references, parse
from shapely.geometry import mapping

from tryg.charts import choropleth_spec, choropleth_svg
from tryg.charts.choropleth import band_of, rewind
from tryg.charts.palette import NO_DATA, viridis
from tryg.charts.svg import HATCH_FILL
from tryg.geo.topojson import features_from_topojson

BANDS = [(0.0, 50.0, "Lav"), (50.0, 75.0, "Middel"), (75.0, 100.0, "Høj")]
#: The suppressed area's value: it must never reach the drawing.
SECRET = 12.3456
VALUES: list[float | None] = [40.0, 55.5, 60.0, SECRET, None, 90.0, 75.0, 20.0]


def square(x: float, y: float) -> dict[str, Any]:
    """A counter-clockwise (RFC 7946) lon/lat square near Aalborg."""
    return {"type": "Polygon", "coordinates": [[[x, y], [x + 0.1, y], [x + 0.1, y + 0.06],
                                                [x, y + 0.06], [x, y]]]}


def features() -> list[dict[str, Any]]:
    """Eight areas: one suppressed (with a value that must not leak), one without data."""
    return [{"type": "Feature",
             "geometry": square(9.9 + 0.1 * (i % 4), 57.0 + 0.06 * (i // 4)),
             "properties": {"code": f"A{i}", "name": f"Område {i}", "value": value,
                            "suppressed": i == 3, "href": f"/areas/A{i}/?measure=m&wave=2"}}
            for i, value in enumerate(VALUES)]


def links(svg: str) -> dict[str, str]:
    """Each <a>'s href and the aria-label of the shape it wraps (its <title>, the name shown
    on hover, says the same)."""
    out = {}
    for a in parse(svg).iter(f"{SVG}a"):
        title, shape = list(a)
        assert title.tag == f"{SVG}title" and title.text == shape.get("aria-label")
        out[a.get(XLINK_HREF) or ""] = shape.get("aria-label") or ""
    return out


def test_banded_spec_colours_by_band_with_viridis_and_a_hatched_suppressed_entry() -> None:
    spec = choropleth_spec(features(), title="Kort", language="da", bands=BANDS,
                           legend_title="Tryghed")
    (layer,) = spec["layer"]
    color = layer["encoding"]["color"]
    assert color["field"] == "properties.class"
    assert color["title"] == "Tryghed"
    assert color["scale"]["domain"] == ["Lav", "Middel", "Høj", "Ikke vist (for få svar)",
                                        "Ingen data"]
    assert color["scale"]["range"] == [*viridis(3), HATCH_FILL, NO_DATA]
    assert layer["encoding"]["href"] == {"field": "properties.href"}
    classes = [f["properties"]["class"] for f in spec["data"]["values"]]
    assert classes == ["Lav", "Middel", "Middel", "Ikke vist (for få svar)", "Ingen data",
                       "Høj", "Høj", "Lav"]


def test_suppressed_area_carries_no_value_in_the_spec() -> None:
    spec = choropleth_spec(features(), title="Kort", language="en", bands=None,
                           legend_title="Safety")
    suppressed = spec["data"]["values"][3]["properties"]
    assert suppressed["value"] is None
    assert suppressed["status"] == "suppressed"
    assert str(SECRET) not in json.dumps(spec)
    # continuous scale for values, a separate legend for the areas without figures
    values, hidden = spec["layer"]
    assert values["encoding"]["color"]["type"] == "quantitative"
    assert values["encoding"]["color"]["scale"] == {"scheme": "viridis"}
    assert hidden["encoding"]["color"]["scale"]["domain"] == ["Not shown (too few answers)",
                                                              "No data"]
    assert spec["resolve"]["legend"]["color"] == "independent"


@pytest.mark.parametrize("bands", [BANDS, None])
def test_map_svg_has_one_link_per_area_and_never_shows_the_suppressed_value(
        bands: list[tuple[float, float, str]] | None) -> None:
    svg = choropleth_svg(features(), title="Kort", language="da", bands=bands,
                         legend_title="Tryghed")
    assert_accessible(svg, "Kort")
    found = links(svg)
    assert len(parse(svg).findall(f".//{SVG}a")) == len(VALUES)
    assert set(found) == {f"/areas/A{i}/?measure=m&wave=2" for i in range(len(VALUES))}
    assert found["/areas/A1/?measure=m&wave=2"].startswith("Område 1: 55,5")
    assert found["/areas/A3/?measure=m&wave=2"] == "Område 3: Ikke vist (for få svar)"
    assert found["/areas/A4/?measure=m&wave=2"] == "Område 4: Ingen data"
    for text in ("12.3", "12,3", "12.35", "12,35", "3456"):
        assert text not in svg
    # the suppressed area and its legend symbol are hatched, with the pattern in the SVG
    root = parse(svg)
    pattern = root.find(f".//{SVG}pattern")
    assert pattern is not None
    hatched = [e for e in root.iter() if e.get("fill") == f"url(#{pattern.get('id')})"]
    assert len(hatched) == 2  # the area and its legend symbol
    assert http_references(svg) == []
    assert "Ikke vist (for få svar)" in {t.text for t in root.iter(f"{SVG}text")}


def test_absolute_links_pass_but_nothing_else_external() -> None:
    feats = features()
    feats[0]["properties"]["href"] = "https://tryg.example.dk/areas/A0/"
    svg = choropleth_svg(feats, title="Map", language="en", bands=BANDS, legend_title="x")
    assert http_references(svg) == ["https://tryg.example.dk/areas/A0/"]
    assert "https://tryg.example.dk/areas/A0/" in links(svg)


def test_geojson_winding_is_turned_for_d3() -> None:
    ring = square(10.0, 57.0)["coordinates"][0]
    turned = rewind({"type": "MultiPolygon", "coordinates": [[ring, ring]]})
    assert turned is not None
    exterior, hole = turned["coordinates"][0]
    assert exterior == list(reversed(ring))  # exterior clockwise
    assert hole == ring  # hole counter-clockwise


def test_band_edges() -> None:
    assert band_of(50.0, BANDS) == "Middel"
    assert band_of(100.0, BANDS) == "Høj"  # the top edge belongs to the last band
    assert band_of(-3.0, BANDS) == "Lav"


def test_missing_property_is_refused() -> None:
    feats = features()
    del feats[2]["properties"]["href"]
    with pytest.raises(ValueError, match="feature 3 has no property 'href'"):
        choropleth_spec(feats, title="x", language="da", bands=None, legend_title="x")


def test_a_2200_parish_map_renders(shared_data: Path) -> None:
    """Real DAGI parish boundaries: every parish a link, no outside reference (not timed: a
    timing belongs in bench/, never in a test)."""
    topology = json.loads((shared_data / "dk_sogne_dagi2014.topojson").read_text("utf-8"))
    parishes = features_from_topojson(topology)[:2200]
    feats = [{"type": "Feature", "geometry": mapping(p.geometry),
              "properties": {"code": str(p.properties["FEAT_ID"]),
                             "name": str(p.properties["SOGNENAVN"]),
                             "value": float(i % 100), "suppressed": i % 17 == 0,
                             "href": f"/areas/{p.properties['FEAT_ID']}/"}}
             for i, p in enumerate(parishes)]
    svg = choropleth_svg(feats, title="Sogne", language="da", bands=BANDS,
                         legend_title="Tryghed")
    root = assert_accessible(svg, "Sogne")
    assert len(root.findall(f".//{SVG}a")) == 2200
    assert http_references(svg) == []


CLASSES = [("Signifikant over", "#2166ac"), ("Ikke signifikant forskellig", "#d9d9d9"),
           ("Signifikant under", "#e66101")]


def classed() -> list[dict[str, Any]]:
    """The eight areas with a significance class; area 6 has a value but its comparison is
    withheld (no class)."""
    names = [c[0] for c in CLASSES]
    out = features()
    for i, f in enumerate(out):
        f["properties"]["class"] = None if i == 6 else names[i % 3]
    return out


def test_classes_colour_by_significance_and_hatch_a_withheld_comparison() -> None:
    spec = choropleth_spec(classed(), title="Kort", language="da", bands=BANDS,
                           legend_title="Sammenlignet med resten", classes=CLASSES)
    (layer,) = spec["layer"]
    color = layer["encoding"]["color"]
    assert color["title"] == "Sammenlignet med resten"
    assert color["scale"]["domain"] == [*(c[0] for c in CLASSES), "Ikke vist (for få svar)",
                                        "Ikke vist", "Ingen data"]
    assert color["scale"]["range"] == [*(c[1] for c in CLASSES), HATCH_FILL, HATCH_FILL,
                                       NO_DATA]
    drawn = [f["properties"] for f in spec["data"]["values"]]
    assert [p["status"] for p in drawn] == ["value", "value", "value", "suppressed", "no_data",
                                            "value", "withheld", "value"]
    assert drawn[6]["class"] == "Ikke vist"
    assert drawn[0]["class"] == "Signifikant over"
    assert drawn[3]["value"] is None  # the suppressed value still never reaches the drawing
    svg = choropleth_svg(classed(), title="Kort", language="da", bands=None,
                         legend_title="Sammenlignet med resten", classes=CLASSES)
    assert str(SECRET) not in svg
    assert "Signifikant under" in svg and "Ikke vist" in svg
