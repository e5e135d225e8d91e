"""The public pages' contents: what each page shows, rendered to a cacheable fragment.

Each function takes the published data (:class:`tryg.public.data.Published`) and the page's
language and returns a :class:`tryg.public.cache.Fragment` (title and body HTML). The body is
rendered without the request, so it holds nothing per visitor and can be shared from the
cache; the frame around it (tryg/base.html) is rendered per request.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise
from typing import Any

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

from tryg.exports import EXCEL_ROWS
from tryg.index.explain import explain
from tryg.public import charts, data, drivers
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
    offers_xlsx,
    source_lines,
)
from tryg.public.measures import MeasureInfo, composite_id, format_value, key_figure_ids
from tryg.public.present import NOT_SHOWN, present, trend_points, unit_note
from tryg.web.language import page_language


def has_area(published: Published, code: str) -> bool:
    return code in published.areas


def _fragment(published: Published, template: str, title: str,
              context: dict[str, Any]) -> Fragment:
    """The page body, headed by the notice on synthetic or fictional data (if any)."""
    notice = render_to_string("public/data_notice.html", notice_context(published.notice))
    return Fragment(title, notice + render_to_string(template, {
        "title": title, "interval_name": interval_name(published), **context}))


def _years(years: tuple[int, ...]) -> str:
    """"2014–2019" for consecutive years, else "2014, 2016"."""
    if len(years) > 1 and list(years) == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}–{years[-1]}"
    return ", ".join(str(y) for y in years)


def notice_context(notice: data.DataNotice) -> dict[str, Any]:
    """The texts of the data notice: what is fictional, which waves are synthetic."""
    words = {"areas": _("the areas"), "population": _("the population figures"),
             "register": _("the reported crime"), "survey": _("the survey answers")}
    fictional = (get_text_list([words[k] for k in notice.fictional], _("and"))
                 if notice.fictional else "")
    return {"notice": bool(notice), "fictional": fictional,
            "synthetic_waves": _years(notice.synthetic_waves),
            "producers": "; ".join(notice.producers)}


def interval_level(published: Published) -> str:
    """"95 %" (Danish) or "95%" (English) for alpha = 0.05."""
    space = "" if page_language() == "en" else " "
    return f"{100 * (1 - published.spec.comparisons.alpha):g}{space}%"


def interval_name(published: Published) -> str:
    """The one name of the interval on every page, chart and in the methods text:
    "95 %-konfidensinterval" / "95 % confidence interval"."""
    return _("%(level)s confidence interval") % {"level": interval_level(published)}


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
        wave = int(rows[-1]["wave"]) if headline is not None and rows else (
            published.waves[-1] if published.waves else 0)
        figures = []
        for measure in key_figure_ids(spec):
            found = data.rows(published, area_code=code, measure=measure)
            if not found:
                continue
            info = published.info(measure)
            row = next((r for r in found if r["wave"] == wave), found[-1])
            figures.append({"label": info.label(language), "unit": unit_note(info),
                            **present(info, row, language),
                            "note": "" if row["wave"] == wave else _(
                                "No figure for %(wave)s: %(why)s.") % {
                                "wave": wave, "why": missing_why(info)}})
        context["figures"] = figures
        context["figures_wave"] = wave
        context["one_wave"] = all(f["wave"] == wave for f in figures)
    return _fragment(published, "public/home.html", title, context)


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


def missing_why(info: MeasureInfo) -> str:
    """Why a measure can lack a figure for a wave, by its kind."""
    return {"rate": _("the police register has no counts for this period yet"),
            "composite": _("the index is made only when all its parts have figures for the "
                           "wave (the police register's counts are often the last to arrive)"),
            "score": _("not every part of this sub-index has figures for the wave"),
            }.get(info.kind, _("there are no survey answers for this wave"))


def _missing_reason(published: Published, info: MeasureInfo, language: str, wave: str,
                    level: str, level_rows: int) -> str:
    """Why the map and table of ``info``'s measure in ``wave`` at ``level`` are empty."""
    t = published.table
    label = info.label(language)
    if not (t["level"] == level).any():
        return _("No figures are published for the areas of the level “%(level)s” "
                 "(%(count)s areas with boundaries are imported): neither survey answers nor "
                 "reported-crime counts are recorded at this level, so the index says "
                 "nothing about these areas on their own.") % {
            "level": level, "count": level_rows}
    mine = t[t["measure"] == info.id]
    waves = sorted({int(w) for w in mine["wave"]})
    in_wave = mine[mine["wave"] == int(wave)] if wave else mine.iloc[:0]
    if in_wave.empty:
        why = missing_why(info)
        return _("“%(measure)s” has no figures for %(wave)s: %(why)s. Waves with figures: "
                 "%(waves)s.") % {"measure": label, "wave": wave, "why": why,
                                  "waves": ", ".join(map(str, waves)) or "–"}
    levels = ", ".join(f"“{lv}”" for lv in dict.fromkeys(in_wave["level"]))
    return _("“%(measure)s” has no figures for the areas of the level “%(level)s” in "
             "%(wave)s; it has figures for: %(levels)s.") % {
        "measure": label, "level": level, "wave": wave, "levels": levels}


def area_map(published: Published, language: str, *, measure: str, wave: str,
             level: str, show: str = "") -> Fragment:
    """The map page: a choropleth of one measure and wave, and its table. ``show``:
    ``"compare"`` (default) colours the areas by their significance class against the rest
    of the parent area, ``"values"`` by their value.

    Every imported level with boundaries can be chosen (and the levels of the results
    without boundaries, for their table). The default is the level with the most areas
    with figures for the measure and wave that can be drawn: the finest level with results.
    When the choice has no figures, the page says why.
    """
    t = published.table
    measures = published.measure_ids()
    headline = published.spec.headline
    asked = {"measure": measure, "wave": wave, "level": level, "show": show}
    measure = _choice(measure, measures, headline.id if headline and headline.id in measures
                      else (measures[0] if measures else ""))
    waves = [str(w) for w in published.waves]
    wave = _choice(wave, waves, waves[-1] if waves else "")
    levels = data.map_levels(published)
    all_levels = levels + [lv for lv in dict.fromkeys(t["level"]) if lv not in levels]
    chosen = t[(t["measure"] == measure) & (t["wave"] == int(wave))] if wave else t.iloc[:0]
    counts = chosen["level"].value_counts().to_dict()
    drawable = [lv for lv in levels if counts.get(lv)]
    candidates = drawable or [lv for lv in all_levels if counts.get(lv)]
    default_level = (max(candidates, key=lambda lv: counts[lv]) if candidates
                     else (all_levels[0] if all_levels else ""))
    level = _choice(level, all_levels, default_level)
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
    sizes = data.level_sizes()
    context = {
        "measures": [(m, published.info(m).label(language)) for m in measures],
        "waves": waves, "levels": [(lv, sizes.get(lv, 0), bool(counts.get(lv)))
                                   for lv in all_levels],
        "measure": measure, "wave": wave,
        "level": level, "label": info.label(language) if info else "",
        "unit": unit_note(info) if info else "", "chart": chart,
        "has_boundaries": level in levels,
        "rows": presented, "show": show, "compare": compare, "comparable": comparable,
        "shows": [("compare", _("Compared with the parent area")), ("values", _("Values"))],
        "missing": (_missing_reason(published, info, language, wave, level,
                                    sizes.get(level, 0))
                    if info is not None and not rows else ""),
    }
    shown = {"measure": measure, "wave": wave, "level": level, "show": show}
    page = _fragment(published, "public/map.html", title, context)
    # a value the page does not have (shown as the default): not kept under its own key
    made_up = any(value and value != shown[name] for name, value in asked.items())
    return replace(page, keep=False) if made_up else page


def area(published: Published, language: str, code: str) -> Fragment:
    context = area_context(published, language, code)
    context["children"] = _by_level(data.children(published, code))
    context["drivers"] = drivers.area_section(published, language, code)
    return _fragment(published, "public/area.html", context["area_name"], context)


def _by_level(areas: list[data.StoredArea]) -> list[tuple[str, list[data.StoredArea]]]:
    out: dict[str, list[data.StoredArea]] = {}
    for a in areas:
        out.setdefault(a.level, []).append(a)
    return list(out.items())


def has_stored_area(code: str) -> bool:
    return data.stored_area(code) is not None


def area_without_figures(published: Published, language: str, code: str) -> Fragment:
    """The page of an imported area with no published figures (a postal district, say):
    what it is, what it belongs to and holds, and why there are no figures."""
    found = data.stored_area(code)
    assert found is not None
    context = {"area": found, "parents": data.parents(published, code),
               "children": _by_level(data.children(published, code))}
    return _fragment(published, "public/area_empty.html", found.name, context)


def search(published: Published, language: str, text: str) -> Fragment:
    """The areas whose name or postal code matches ``text``."""
    text = " ".join(text.split())[:100]
    found = data.search_areas(published, text) if text else []
    context = {"q": text, "found": found, "limit": data.SEARCH_LIMIT}
    return _fragment(published, "public/search.html", _("Find an area"), context)


def _methods_html(markdown: str) -> str:
    """The spec's explanation as HTML, its headings one level down (the page has the h1).
    Raw HTML in the text is escaped (html=False)."""
    parser = MarkdownIt("commonmark", {"html": False})
    tokens = parser.parse(markdown)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
    return str(parser.renderer.render(tokens, parser.options, {}))


def methods_context(published: Published, language: str) -> dict[str, Any]:
    """The context of the methods text (public/methods.html): the page and the council's
    report (tryg.reports) show the same."""
    spec = published.spec
    composite = composite_id(spec)
    return {"explanation": _methods_html(explain(spec, language)),
            "publication": spec.publication, "level": interval_level(published),
            "spec": spec, "run": published.run, "small_area": spec.small_area.enabled,
            "composite": published.info(composite).label(language) if composite else "",
            "not_shown_few": NOT_SHOWN["few"], "not_shown_offences": NOT_SHOWN["offences"],
            "not_shown_secondary": NOT_SHOWN["secondary"]}


def methods(published: Published, language: str) -> Fragment:
    context = methods_context(published, language)
    context["drivers"] = drivers.methods_section(published, language)
    return _fragment(published, "public/methods.html", _("How the index is made"), context)


def _source(published: Published, language: str) -> list[dict[str, str]]:
    return [{"label": line.label(language), "value": line.value(language), "url": line.url}
            for line in source_lines(published)]


def downloads(published: Published, language: str) -> Fragment:
    files = [{"fmt": fmt, "name": file_name(published, fmt),
              "url": reverse("public:download", kwargs={"fmt": fmt})} for fmt in FORMATS
             if fmt != "xlsx" or offers_xlsx(published)]
    excel = {"name": file_name(published, EXCEL_CSV),
             "url": reverse("public:download", kwargs={"fmt": EXCEL_CSV})}
    context = {"files": files, "excel": excel, "rows": len(published.table),
               "xlsx_offered": offers_xlsx(published),
               "excel_rows": number_format(EXCEL_ROWS - 1, force_grouping=True),
               "waves": published.waves,
               "columns": list(published.table.columns), "run": published.run,
               "spec": published.spec, "publication": published.spec.publication,
               "geojson_fields": list(GEOJSON_FIELDS), "source": _source(published, language),
               "codebook_csv": reverse("public:download", kwargs={"fmt": CODEBOOK_CSV})}
    return _fragment(published, "public/downloads.html", _("Downloads"), context)


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
    return _fragment(published, "public/codebook.html", _("Codebook"), context)
