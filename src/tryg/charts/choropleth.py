"""Choropleth maps: areas coloured by a measure, each area a link to its page.

Only what may be shown leaves this module: a suppressed area's value is dropped before the spec
is built (it is neither drawn, described nor carried in the data), and the area is hatched
grey with its own legend entry. Colours are viridis (dark = low, light = high).

Instead of the values, areas can be coloured by a class the caller gives each feature
(``classes``: e.g. significantly above / not different from / significantly below the rest
of the parent area, as the Dutch Veiligheidsmonitor maps them); an area with a value but no
class (a comparison withheld or not computed) is hatched as "not shown".
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from itertools import pairwise
from typing import Any, Final

from tryg.charts.labels import format_number, is_missing, label, normalise_language
from tryg.charts.palette import NO_DATA, NO_DATA_OUTLINE, OUTLINE, viridis
from tryg.charts.svg import HATCH_FILL, to_svg
from tryg.charts.values import as_number

WIDTH: Final = 560
MIN_HEIGHT: Final = 240
MAX_HEIGHT: Final = 820
#: The legend's type size (px): the map is drawn :data:`WIDTH` wide and a phone shows it at
#: about 62 %, which leaves 15 px text at 9.3 px (tests/browser/test_browser_phones.py).
LEGEND_FONT_SIZE: Final = 15
Band = tuple[float, float, str]


def _positions(coords: Any) -> Iterator[tuple[float, float]]:
    """Every [x, y, …] position in nested GeoJSON coordinates."""
    if coords and isinstance(coords[0], (int, float)):
        yield float(coords[0]), float(coords[1])
        return
    for part in coords or ():
        yield from _positions(part)


def _geometry_positions(geometry: Mapping[str, Any] | None) -> Iterator[tuple[float, float]]:
    if not geometry:
        return
    if geometry.get("type") == "GeometryCollection":
        for member in geometry.get("geometries", ()):
            yield from _geometry_positions(member)
    else:
        yield from _positions(geometry.get("coordinates"))


def _frame(features: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], int]:
    """The projection and the map's height for the features' extent.

    Boundaries are stored as WGS84 lon/lat (Mercator); coordinates beyond ±180/±90 are taken to
    be projected metres (e.g. ETRS89 / UTM 32N) and drawn as they are, north up.
    """
    xs: list[float] = []
    ys: list[float] = []
    for feature in features:
        for x, y in _geometry_positions(feature.get("geometry")):
            xs.append(x)
            ys.append(y)
    if not xs:
        return {"type": "mercator"}, MIN_HEIGHT
    lonlat = max(map(abs, xs)) <= 180 and max(map(abs, ys)) <= 90
    if lonlat:
        def merc(lat: float) -> float:
            lat = max(min(lat, 85.0), -85.0)
            return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
        width = math.radians(max(xs) - min(xs))
        height = merc(max(ys)) - merc(min(ys))
        projection: dict[str, Any] = {"type": "mercator"}
    else:
        width, height = max(xs) - min(xs), max(ys) - min(ys)
        projection = {"type": "identity", "reflectY": True}
    ratio = height / width if width > 0 else 1.0
    return projection, int(min(max(WIDTH * ratio, MIN_HEIGHT), MAX_HEIGHT))


def _ring_area(ring: Sequence[Sequence[float]]) -> float:
    """Twice the signed planar area of a ring (positive = counter-clockwise, y up)."""
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in pairwise(ring))


def _rewind_polygon(rings: Sequence[Sequence[Sequence[float]]]) -> list[Any]:
    """Exterior clockwise, holes counter-clockwise: the winding d3-geo (Vega) expects."""
    out: list[Any] = []
    for i, ring in enumerate(rings):
        clockwise = _ring_area(ring) < 0
        out.append(list(ring) if clockwise == (i == 0) else list(reversed(ring)))
    return out


def rewind(geometry: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """``geometry`` with d3-geo's winding order.

    GeoJSON (RFC 7946) winds exteriors counter-clockwise, d3-geo clockwise; d3 reads a
    counter-clockwise ring as "the whole globe except this area", which floods the map.
    """
    if not geometry:
        return geometry
    kind = geometry.get("type")
    if kind == "Polygon":
        return {"type": kind, "coordinates": _rewind_polygon(geometry["coordinates"])}
    if kind == "MultiPolygon":
        return {"type": kind,
                "coordinates": [_rewind_polygon(p) for p in geometry["coordinates"]]}
    if kind == "GeometryCollection":
        return {"type": kind, "geometries": [rewind(g) for g in geometry["geometries"]]}
    return geometry


def band_of(value: float, bands: Sequence[Band]) -> str:
    """The label of the band holding ``value`` (low ≤ value < high; the last band includes its
    high end). Values beyond the bands fall in the first or last band."""
    for low, high, name in bands:
        if low <= value < high:
            return name
    ordered = sorted(bands)
    return ordered[0][2] if value < ordered[0][0] else ordered[-1][2]


#: A colour class: its legend label and its fill.
ColourClass = tuple[str, str]


def map_features(features: Sequence[Mapping[str, Any]], *, language: str,
                 bands: Sequence[Band] | None,
                 classes: Sequence[ColourClass] | None = None) -> list[dict[str, Any]]:
    """The features as drawn: only code, name, href, status, value/class and a description.

    status is ``"value"``, ``"suppressed"``, ``"no_data"`` or (with ``classes``, for an area
    whose property ``class`` is missing) ``"withheld"``; suppressed areas keep no value.
    """
    known = {c[0] for c in classes} if classes else set()
    out: list[dict[str, Any]] = []
    for number, feature in enumerate(features, start=1):
        props = feature.get("properties") or {}
        for key in ("code", "name", "href"):
            if is_missing(props.get(key)):
                raise ValueError(f"map feature {number} has no property {key!r}")
        name = str(props["name"])
        value = None if props.get("suppressed") else as_number(props.get("value"))
        klass: str | None
        if props.get("suppressed"):
            status, klass = "suppressed", label("suppressed", language)
            description = f"{name}: {label('suppressed', language)}"
        elif value is None:
            status, klass = "no_data", label("no_data", language)
            description = f"{name}: {label('no_data', language)}"
        elif classes:
            given = props.get("class")
            if is_missing(given) or str(given) not in known:
                status, klass = "withheld", label("withheld", language)
            else:
                status, klass = "value", str(given)
            description = f"{name}: {format_number(value, language)} ({klass})"
        else:
            status = "value"
            klass = band_of(value, bands) if bands else None
            description = f"{name}: {format_number(value, language)}"
            if klass is not None:
                description += f" ({klass})"
        out.append({
            "type": "Feature",
            "geometry": rewind(feature.get("geometry")),
            "properties": {"code": str(props["code"]), "name": name, "href": str(props["href"]),
                           "status": status, "value": value, "class": klass,
                           "description": description},
        })
    return out


def _hidden_scale(statuses: set[str], language: str) -> tuple[list[str], list[str]]:
    """Legend entries (and fills) for the areas without a colour, present ones only."""
    domain: list[str] = []
    fills: list[str] = []
    if "suppressed" in statuses:
        domain.append(label("suppressed", language))
        fills.append(HATCH_FILL)
    if "withheld" in statuses:
        domain.append(label("withheld", language))
        fills.append(HATCH_FILL)
    if "no_data" in statuses:
        domain.append(label("no_data", language))
        fills.append(NO_DATA)
    return domain, fills


def choropleth_spec(features: Sequence[Mapping[str, Any]], *, title: str, language: str,
                    bands: Sequence[Band] | None, legend_title: str,
                    classes: Sequence[ColourClass] | None = None) -> dict[str, Any]:
    """The Vega-Lite spec of :func:`choropleth_svg` (pure)."""
    if not features:
        raise ValueError("a map needs at least one feature")
    lang = normalise_language(language)
    legend_title = str(legend_title)  # a lazy translation would not serialise
    classes = [(str(n), str(c)) for n, c in classes] if classes else None
    drawn = map_features(features, language=lang, bands=bands, classes=classes)
    projection, height = _frame(drawn)
    statuses = {f["properties"]["status"] for f in drawn}
    hidden_domain, hidden_fills = _hidden_scale(statuses, lang)
    shape = {"href": {"field": "properties.href"},
             "description": {"field": "properties.description"}}
    mark = {"type": "geoshape", "stroke": OUTLINE, "strokeWidth": 0.5, "cursor": "pointer"}
    layers: list[dict[str, Any]] = []
    if classes or bands:
        names = [c[0] for c in classes] if classes else [b[2] for b in bands or ()]
        colours = [c[1] for c in classes] if classes else viridis(len(names))
        layers.append({
            "mark": mark,
            "encoding": {**shape, "stroke": {
                "condition": {"test": "datum.properties.status == 'no_data'",
                              "value": NO_DATA_OUTLINE},
                "value": OUTLINE}, "color": {
                "field": "properties.class", "type": "ordinal", "title": legend_title,
                "scale": {"domain": names + hidden_domain,
                          "range": colours + hidden_fills},
                "legend": {"symbolType": "square", "symbolStrokeColor": NO_DATA_OUTLINE,
                           # class labels are sentences: shown whole, not cut at 160 px
                           **({"labelLimit": 0, "titleLimit": 0} if classes else {})}}},
        })
    else:
        layers.append({
            "transform": [{"filter": "datum.properties.status == 'value'"}],
            "mark": mark,
            "encoding": {**shape, "color": {
                "field": "properties.value", "type": "quantitative", "title": legend_title,
                "scale": {"scheme": "viridis"}}},
        })
        if hidden_domain:
            layers.append({
                "transform": [{"filter": "datum.properties.status != 'value'"}],
                "mark": {**mark, "stroke": NO_DATA_OUTLINE},
                "encoding": {**shape, "color": {
                    "field": "properties.class", "type": "nominal",
                    "title": label("not_shown", lang),
                    "scale": {"domain": hidden_domain, "range": hidden_fills},
                    "legend": {"symbolType": "square",
                               "symbolStrokeColor": NO_DATA_OUTLINE}}},
            })
    spec: dict[str, Any] = {
        "title": str(title),
        "width": WIDTH,
        "height": height,
        "projection": projection,
        "data": {"values": drawn},
        "config": {"title": {"aria": False, "fontSize": LEGEND_FONT_SIZE},
                   # the legend below the map, not beside it: the map keeps the chart's
                   # width and is not shrunk further on a phone (issue 12)
                   "legend": {"aria": False, "titleLimit": 0, "labelLimit": 0,
                              "orient": "bottom", "direction": "vertical",
                              "labelFontSize": LEGEND_FONT_SIZE,
                              "titleFontSize": LEGEND_FONT_SIZE,
                              "symbolSize": 180},
                   "view": {"stroke": None}},
        "layer": layers,
    }
    if len(layers) > 1:
        spec["resolve"] = {"scale": {"color": "independent"},
                           "legend": {"color": "independent"}}
    return spec


def map_summary(features: Sequence[Mapping[str, Any]], *, language: str,
                legend_title: str) -> str:
    """The text alternative: how many areas, by what, how many without figures."""
    lang = normalise_language(language)
    suppressed = sum(1 for f in features if (f.get("properties") or {}).get("suppressed"))
    no_data = sum(1 for f in features
                  if not (f.get("properties") or {}).get("suppressed")
                  and is_missing((f.get("properties") or {}).get("value")))
    text = label("map_summary", lang).format(count=len(features), legend=legend_title)
    if suppressed or no_data:
        text += " " + label("map_summary_hidden", lang).format(suppressed=suppressed,
                                                               no_data=no_data)
    return text


def choropleth_svg(features: list[dict[str, Any]], *, title: str, language: str,
                   bands: list[tuple[float, float, str]] | None, legend_title: str,
                   classes: list[tuple[str, str]] | None = None) -> str:
    """An SVG choropleth of GeoJSON ``features`` (properties code, name, value, suppressed,
    href, and ``class`` with ``classes``), each area an ``<a>`` to its href.

    With ``classes`` ((label, colour) pairs) areas are coloured by their property ``class``
    (hatched "not shown" without one); else with ``bands`` ((low, high, label) from the spec)
    by band, otherwise on a continuous viridis scale. Suppressed areas are hatched grey and
    carry no value; areas with value None are white ("no data"). Geometries are WGS84
    lon/lat (projected metres work too).
    """
    lang = normalise_language(language)
    spec = choropleth_spec(features, title=title, language=lang, bands=bands,
                           legend_title=legend_title, classes=classes)
    links = [str((f.get("properties") or {}).get("href", "")) for f in features]
    summary = map_summary(features, language=lang, legend_title=legend_title)
    statuses = {f["properties"]["status"] for f in spec["data"]["values"]}
    return to_svg(spec, language=lang, title=title, summary=summary, links=links,
                  hatch=bool(statuses & {"suppressed", "withheld"}))
