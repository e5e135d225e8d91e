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
from tryg.public import codebook as book
from tryg.public.area_page import area_context
from tryg.public.cache import Fragment
from tryg.public.data import Published
from tryg.public.downloads import (
    CODEBOOK_CSV,
    EXCEL_CSV,
    FORMATS,
    GEOJSON_FIELDS,
    file_name,
    source_lines,
)
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


def area_map(published: Published, language: str, *, measure: str, wave: str,
             level: str) -> Fragment:
    """The map page: a choropleth of one measure and wave, and its table."""
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
    if info is not None and level in levels:
        features = map_features(published, rows, info, level)
        if features:
            chart = charts.choropleth(
                features, title=f"{info.label(language)}, {wave}", language=language,
                bands=bands(info, language), legend_title=unit_note(info))
    context = {
        "measures": [(m, published.info(m).label(language)) for m in measures],
        "waves": waves, "levels": levels or all_levels, "measure": measure, "wave": wave,
        "level": level, "label": info.label(language) if info else "",
        "unit": unit_note(info) if info else "", "chart": chart,
        "has_boundaries": level in levels,
        "rows": [present(info, r, language) for r in rows] if info else [],
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


def _source(published: Published, language: str) -> list[dict[str, str]]:
    return [{"label": line.label(language), "value": line.value(language), "url": line.url}
            for line in source_lines(published)]


def downloads(published: Published, language: str) -> Fragment:
    files = [{"fmt": fmt, "name": file_name(published, fmt),
              "url": reverse("public:download", kwargs={"fmt": fmt})} for fmt in FORMATS]
    excel = {"name": file_name(published, EXCEL_CSV),
             "url": reverse("public:download", kwargs={"fmt": EXCEL_CSV})}
    context = {"files": files, "excel": excel, "rows": len(published.table),
               "waves": published.waves,
               "columns": list(published.table.columns), "run": published.run,
               "spec": published.spec, "publication": published.spec.publication,
               "geojson_fields": list(GEOJSON_FIELDS), "source": _source(published, language),
               "codebook_csv": reverse("public:download", kwargs={"fmt": CODEBOOK_CSV})}
    return _fragment("public/downloads.html", _("Downloads"), context)


def codebook(published: Published, language: str) -> Fragment:
    """Every public column, unit, flag word, method and measure, in the page's language."""
    sections = [(key, title, [{"name": e.name, "label": e.label(language),
                                "unit": e.unit(language),
                                "description": e.description(language)}
                               for e in book.entries(published.spec) if e.section == key])
                for key, title in (("column", _("Columns")), ("unit", _("Units")),
                                   ("flag", _("Flags")), ("method", _("Estimation methods")),
                                   ("measure", _("Measures")))]
    context = {"sections": sections, "source": _source(published, language),
               "codebook_csv": reverse("public:download", kwargs={"fmt": CODEBOOK_CSV})}
    return _fragment("public/codebook.html", _("Codebook"), context)
