"""The public pages' contents: what each page shows, rendered to a cacheable fragment.

Each function takes the published data (:class:`tryg.public.data.Published`) and the page's
language and returns a :class:`tryg.public.cache.Fragment` (title and body HTML). The body is
rendered without the request, so it holds nothing per visitor and can be shared from the
cache; the frame around it (tryg/base.html) is rendered per request.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

from tryg.index.explain import explain
from tryg.public import charts, data
from tryg.public.area_page import area_context
from tryg.public.cache import Fragment
from tryg.public.data import Published
from tryg.public.downloads import FORMATS, GEOJSON_FIELDS, file_name
from tryg.public.measures import MeasureInfo, format_value, key_figure_ids
from tryg.public.present import present, trend_points, unit_note


def has_area(published: Published, code: str) -> bool:
    return bool((published.table["area_code"] == code).any())


def _fragment(template: str, title: str, context: dict[str, Any]) -> Fragment:
    return Fragment(title, render_to_string(template, {"title": title, **context}))


def interval_level(published: Published) -> str:
    """"95 %" for alpha = 0.05."""
    return f"{100 * (1 - published.spec.comparisons.alpha):g} %"


def home(published: Published, language: str) -> Fragment:
    """The front page: the headline measure of the municipality and its key figures."""
    spec = published.spec
    place = data.home_area(published)
    title = _("Safety in %(area)s") % {"area": place[1]} if place else _("Safety")
    context: dict[str, Any] = {"spec_title": spec.title.get(language), "place": place,
                               "level": interval_level(published), "waves": published.waves}
    if place is not None:
        code = place[0]
        headline = spec.headline
        if headline is not None:
            info = published.info(headline.id)
            rows = data.rows(published, area_code=code, measure=headline.id)
            if rows:
                context["headline"] = {
                    "label": info.label(language), "unit": unit_note(info),
                    "now": present(info, rows[-1], language),
                    "previous": present(info, rows[-2], language) if len(rows) > 1 else None,
                    "rows": [present(info, r, language) for r in rows],
                    "chart": charts.trend(trend_points(info, [(place[1], rows)]),
                                          title=info.label(language), language=language),
                }
        figures = []
        for measure in key_figure_ids(spec):
            row = data.latest(published, code, measure)
            if row is not None:
                info = published.info(measure)
                figures.append({"label": info.label(language), "unit": unit_note(info),
                                **present(info, row, language)})
        context["figures"] = figures
    return _fragment("public/home.html", title, context)


def _choice(value: str, options: list[str], default: str) -> str:
    return value if value in options else default


def map_features(published: Published, rows: list[dict[str, Any]], info: MeasureInfo,
                 level: str) -> list[dict[str, Any]]:
    """GeoJSON Features of ``level``'s areas for the choropleth: value on the display scale,
    suppressed, and a link to the area page."""
    by_code = {r["area_code"]: r for r in rows}
    features = []
    for code, (_lv, geometry) in data.geometries(level).items():
        row = by_code.get(code)
        if row is None:
            continue
        value = data.finite(row["estimate"])
        features.append({"type": "Feature", "geometry": geometry, "properties": {
            "code": code, "name": row["area_name"],
            "value": None if value is None or row["suppressed"] else (
                100 * value if info.in_percent else value),
            "suppressed": bool(row["suppressed"]),
            "href": reverse("public:area", args=[code])}})
    return features


def bands(info: MeasureInfo, language: str) -> list[tuple[float, float, str]] | None:
    """The spec's bands of a measure as (low, high, label) on the display scale."""
    if not info.bands:
        return None
    scale = 100.0 if info.in_percent else 1.0
    cuts = [b * scale for b in info.bands]
    edges = [cuts[0] - (cuts[-1] - cuts[0] or 1), *cuts, cuts[-1] + (cuts[-1] - cuts[0] or 1)]
    out = []
    for low, high in pairwise(edges):
        out.append((low, high, f"{format_value(info, low / scale, language)} – "
                               f"{format_value(info, high / scale, language)}"))
    return out


#: What the map shows: each area's class against the rest of its parent area (the default,
#: as the Dutch Veiligheidsmonitor's maps), or its value.
MAP_SHOWS: tuple[str, ...] = ("compare", "values")

#: The comparison classes' fills: blue above, light grey no difference, orange below
#: (distinguishable with the common colour-vision deficiencies; hatched = not shown).
CLASS_COLOURS = {"above": "#2166ac", "same": "#d9d9d9", "below": "#e66101"}


def comparison_class(row: dict[str, Any]) -> str | None:
    """``"above"``, ``"same"`` or ``"below"``: the area against the rest of its parent area
    in the public view (``sig_parent_rest`` and the sign of ``diff_parent_rest``); ``None``
    where the comparison is not shown (suppressed, withheld, or no parent)."""
    if row.get("suppressed"):
        return None
    sig = row.get("sig_parent_rest")
    diff = data.finite(row.get("diff_parent_rest"))
    if sig is None or diff is None or (isinstance(sig, float) and sig != sig):
        return None
    if not bool(sig):
        return "same"
    return "above" if diff > 0 else "below"


def class_labels(short: bool = False) -> dict[str, str]:
    """The classes' names: in the table in full, in the map's legend short (its title says
    what they are compared with)."""
    if short:
        return {"above": str(_("Significantly above")),
                "same": str(_("Not significantly different")),
                "below": str(_("Significantly below"))}
    return {"above": str(_("Significantly above the rest of the parent area")),
            "same": str(_("Not significantly different")),
            "below": str(_("Significantly below the rest of the parent area"))}


def area_map(published: Published, language: str, *, measure: str, wave: str,
             level: str, show: str = "") -> Fragment:
    """The map page: a choropleth of one measure and wave, and its table. ``show``:
    ``"compare"`` (default) colours the areas by their significance class against the rest
    of the parent area, ``"values"`` by their value."""
    measures = published.measure_ids()
    headline = published.spec.headline
    measure = _choice(measure, measures, headline.id if headline and headline.id in measures
                      else (measures[0] if measures else ""))
    waves = [str(w) for w in published.waves]
    wave = _choice(wave, waves, waves[-1] if waves else "")
    levels = data.map_levels(published)
    all_levels = list(dict.fromkeys(published.table["level"]))
    default_level = max(levels, key=lambda lv: (published.table["level"] == lv).sum(),
                        default=all_levels[-1] if all_levels else "")
    level = _choice(level, levels or all_levels, default_level)
    info = published.info(measure) if measure else None
    rows = (data.rows(published, measure=measure, wave=int(wave), level=level)
            if measure and wave else [])
    title = _("Map")
    chart = None
    show = _choice(show, list(MAP_SHOWS), MAP_SHOWS[0])
    # no comparison at this level (the top level has no parent): the values
    comparable = any(data.finite(r.get("diff_parent_rest")) is not None for r in rows)
    compare = show == "compare" and comparable
    names, legend = class_labels(), class_labels(short=True)
    classes = [(legend[k], CLASS_COLOURS[k]) for k in ("above", "same", "below")]
    klass = {r["area_code"]: comparison_class(r) for r in rows}
    if info is not None and level in levels:
        features = map_features(published, rows, info, level)
        if compare:
            for f in features:
                k = klass.get(f["properties"]["code"])
                f["properties"]["class"] = legend[k] if k else None
        if features:
            chart = charts.choropleth(
                features, title=f"{info.label(language)}, {wave}", language=language,
                bands=None if compare else bands(info, language),
                legend_title=(str(_("Compared with the rest")) if compare
                              else unit_note(info)),
                classes=classes if compare else None)
    presented = [present(info, r, language) for r in rows] if info else []
    for p, r in zip(presented, rows, strict=True):
        k = klass.get(r["area_code"])
        p["compare"] = names[k] if k else str(_("Not shown"))
        p["compare_class"] = k or "withheld"
    context = {
        "measures": [(m, published.info(m).label(language)) for m in measures],
        "waves": waves, "levels": levels or all_levels, "measure": measure, "wave": wave,
        "level": level, "label": info.label(language) if info else "",
        "unit": unit_note(info) if info else "", "chart": chart,
        "has_boundaries": level in levels,
        "rows": presented, "show": show, "compare": compare, "comparable": comparable,
        "shows": [("compare", _("Compared with the parent area")), ("values", _("Values"))],
    }
    return _fragment("public/map.html", title, context)


def area(published: Published, language: str, code: str) -> Fragment:
    context = area_context(published, language, code)
    return _fragment("public/area.html", context["area_name"], context)


def _methods_html(markdown: str) -> str:
    """The spec's explanation as HTML, its headings one level down (the page has the h1).
    Raw HTML in the text is escaped (html=False)."""
    parser = MarkdownIt("commonmark", {"html": False})
    tokens = parser.parse(markdown)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
    return str(parser.renderer.render(tokens, parser.options, {}))


def methods(published: Published, language: str) -> Fragment:
    spec = published.spec
    context = {"explanation": _methods_html(explain(spec, language)),
               "publication": spec.publication, "level": interval_level(published),
               "spec": spec, "run": published.run}
    return _fragment("public/methods.html", _("How the index is made"), context)


def downloads(published: Published, language: str) -> Fragment:
    files = [{"fmt": fmt, "name": file_name(published, fmt),
              "url": reverse("public:download", kwargs={"fmt": fmt})} for fmt in FORMATS]
    context = {"files": files, "rows": len(published.table), "waves": published.waves,
               "columns": list(published.table.columns), "run": published.run,
               "spec": published.spec, "publication": published.spec.publication,
               "geojson_fields": list(GEOJSON_FIELDS)}
    return _fragment("public/downloads.html", _("Downloads"), context)
