"""The index's sections of the report: cover, summary, the index with its map, the followed
areas' trends, the gap between felt and recorded safety, the method and the appendix.

Every figure comes from the public view the public pages show (:mod:`tryg.public.data`),
written by the same helpers (:func:`tryg.public.present.present`), and every chart is the same
server-drawn SVG (:mod:`tryg.public.charts`). Nothing here computes a statistic.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tryg.public import charts, data, pages
from tryg.public.downloads import source_lines
from tryg.public.measures import (
    GAP,
    MeasureInfo,
    component_ids,
    composite_id,
    display_value,
    key_figure_ids,
)
from tryg.public.present import present, trend_points, unit_note
from tryg.reports.sections import ReportData, Section, SummaryLine, register, registered

#: The level whose areas the council follows when neither ``--areas`` nor the setting
#: ``TRYG_REPORT_AREAS`` names any: the vulnerable housing areas of the demo and of the
#: municipalities' own area files.
FOLLOWED_LEVEL = "boligomraade"
#: At most this many significant improvements (and as many worsenings) on the summary page,
#: so that it stays one page; the rest are counted.
SUMMARY_LINES = 8


def reported_codes(report: ReportData) -> list[str]:
    """The areas whose rows the report reads one by one: its own area, the districts, the
    followed areas and their parent areas."""
    codes: list[str] = [report.place[0]] if report.place else []
    index = index_measure(report)
    level = district_level(report, index.id) if index is not None else None
    codes += [code for code, (_n, lv, _m) in report.published.areas.items() if lv == level]
    for code, _name in followed_areas(report):
        codes.append(code)
        parent = _parent(report, code)
        if parent is not None:
            codes.append(parent)
    return list(dict.fromkeys(codes))


def _area_rows(report: ReportData, code: str, measure: str) -> list[dict[str, Any]]:
    """The public rows of ``measure`` for ``code`` (every wave, in order).

    The rows of the areas the report reads (:func:`reported_codes`) are made into dicts once
    per report, from those areas' part of the table only: the public pages' index of every
    row (:attr:`tryg.public.data.Published.by_area_measure`) costs tens of seconds on a
    national table, where the report needs a few hundred areas' rows."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] | None = report.memo.get("rows")
    if groups is None:
        codes = reported_codes(report)
        t = report.published.table
        groups = {}
        for row in data.records(t[t["area_code"].isin(codes)]):
            groups.setdefault((row["area_code"], row["measure"]), []).append(row)
        report.memo["rows"] = groups
        report.memo["row_codes"] = set(codes)
    if code in report.memo["row_codes"]:
        return list(groups.get((code, measure), ()))
    return data.rows(report.published, area_code=code, measure=measure)


def _rows_in_wave(report: ReportData, code: str, measure: str) -> dict[str, Any] | None:
    """The public row of ``measure`` for ``code`` in the report's wave (None if none)."""
    for row in _area_rows(report, code, measure):
        if row["wave"] == report.wave:
            return row
    return None


def _upto_wave(report: ReportData, code: str, measure: str) -> list[dict[str, Any]]:
    """The public rows of ``measure`` for ``code`` up to the report's wave."""
    rows = _area_rows(report, code, measure)
    return [r for r in rows if report.wave is None or r["wave"] <= report.wave]


def _parent(report: ReportData, code: str) -> str | None:
    """The parent area ``code`` is compared with, if it has published figures."""
    if report.wave is None or code not in report.published.areas:
        return None
    level = report.published.areas[code][1]
    parent = data.parent_of(code, level, report.wave, report.published.area_hierarchy)
    return parent if parent is not None and parent in report.published.areas else None


def headline_measure(report: ReportData) -> MeasureInfo | None:
    spec = report.published.spec
    measure = spec.headline.id if spec.headline else composite_id(spec)
    return report.published.info(measure) if measure else None


def index_measure(report: ReportData) -> MeasureInfo | None:
    """The measure of the map and of the areas' comparison: the composite index, else (no
    composite, or none published) the headline."""
    spec = report.published.spec
    present_ids = report.memo.get("measures")
    if present_ids is None:
        present_ids = report.memo["measures"] = set(report.published.table["measure"])
    candidates = [m for m in (composite_id(spec), spec.headline.id if spec.headline else None)
                  if m]
    measure = next((m for m in candidates if m in present_ids),
                   candidates[0] if candidates else None)
    return report.published.info(measure) if measure else None


def followed_areas(report: ReportData) -> list[tuple[str, str]]:
    """(code, name) of the areas the council follows that have published figures: the
    options' codes, else the setting ``TRYG_REPORT_AREAS``, else every area of the level
    ``TRYG_REPORT_FOLLOWED_LEVEL`` (default :data:`FOLLOWED_LEVEL`)."""
    areas = report.published.areas
    codes = report.options.areas or tuple(getattr(settings, "TRYG_REPORT_AREAS", ()))
    if codes:
        return [(c, areas[c][0]) for c in codes if c in areas]
    level = str(getattr(settings, "TRYG_REPORT_FOLLOWED_LEVEL", FOLLOWED_LEVEL))
    found = [(code, name) for code, (name, lv, _m) in areas.items() if lv == level]
    return sorted(found, key=lambda a: (a[1], a[0]))


def _figure(svg: Any, caption: str, report: ReportData, table: Any = None) -> dict[str, Any]:
    """A chart with its caption, its source and the number of its table in the appendix."""
    return {"svg": svg, "caption": caption, "source": report.source,
            "table": table.number if table is not None else ""}


def _trend_table(report: ReportData, info: MeasureInfo, caption: str,
                 series: list[tuple[str, list[dict[str, Any]]]]) -> Any:
    """The appendix table behind a trend chart: one row per area and wave."""
    lang = report.language
    rows = []
    for name, found in series:
        for r in found:
            p = present(info, r, lang)
            rows.append((name, p["wave"], p["not_shown"] or p["estimate"], p["interval"], p["n"],
                         " ".join(x for x in (p["change"], f"({p['change_sig']})"
                                              if p["change_sig"] else "") if x)))
    return report.appendix.add(
        f"{caption} ({unit_note(info)})",
        (_("Area"), _("Wave"), _("Estimate"), pages.interval_name(report.published), "n",
         _("Change from the previous wave")), rows,
        numeric=(False, False, True, True, True, False))


# ----------------------------------------------------------------------------------------------
# Cover


def build_cover(report: ReportData) -> dict[str, Any]:
    published = report.published
    notice = pages.notice_context(published.notice)
    return {
        "spec_title": published.spec.title.get(report.language),
        "place": report.place, "wave": report.wave, "waves": published.waves,
        "created": report.options.created, "internal": report.audience == "internal",
        "run": published.run, "published_at": published.run.published_at,
        **notice,
    }


# ----------------------------------------------------------------------------------------------
# Summary


def _tone(info: MeasureInfo, row: dict[str, Any]) -> str | None:
    """"better" or "worse" for a significant change since the previous wave, else None."""
    if row.get("suppressed") or not row.get("sig_prev"):
        return None
    change = data.finite(row.get("change_prev"))
    if change is None or change == 0:
        return None
    return "better" if (change > 0) == info.higher_is_safer else "worse"


def significant_changes(report: ReportData) -> tuple[list[str], list[str]]:
    """What improved and what worsened significantly since the previous wave: the key
    figures of the report's area, then the headline and the index of its districts and of
    the followed areas."""
    better: list[str] = []
    worse: list[str] = []
    lang = report.language
    published = report.published

    def note(info: MeasureInfo, row: dict[str, Any] | None, where: str) -> None:
        if row is None:
            return
        tone = _tone(info, row)
        if tone is None:
            return
        p = present(info, row, lang)
        text = _("%(measure)s in %(area)s: %(estimate)s (%(change)s since the previous "
                 "wave)") % {"measure": info.label(lang), "area": where,
                             "estimate": p["estimate"], "change": p["change"]}
        (better if tone == "better" else worse).append(text)

    if report.place is not None:
        code, name = report.place
        spec = published.spec
        ids = ([spec.headline.id] if spec.headline else []) + key_figure_ids(spec)
        for measure in dict.fromkeys(ids):
            note(published.info(measure), _rows_in_wave(report, code, measure), name)
    index = index_measure(report)
    headline = headline_measure(report)
    infos = [i for i in dict.fromkeys((headline, index)) if i is not None]
    level = district_level(report, index.id) if index is not None else None
    districts = sorted(((code, name) for code, (name, lv, _m) in published.areas.items()
                        if lv == level), key=lambda a: (a[1], a[0])) if level else []
    for code, name in dict.fromkeys([*districts, *followed_areas(report)]):
        for info in infos:
            note(info, _rows_in_wave(report, code, info.id), name)
    return better, worse


def build_summary(report: ReportData) -> dict[str, Any] | None:
    info = headline_measure(report)
    if report.place is None or info is None:
        return None
    code, name = report.place
    row = _rows_in_wave(report, code, info.id)
    if row is None:
        return None
    lang = report.language
    better, worse = significant_changes(report)
    more_better, more_worse = len(better) - SUMMARY_LINES, len(worse) - SUMMARY_LINES
    others: list[SummaryLine] = []
    for section in registered():
        if section.summary is not None:
            others += section.summary(report)
    return {"headline": {"label": info.label(lang), "unit": unit_note(info),
                         "now": present(info, row, lang)},
            "area": name, "better": better[:SUMMARY_LINES], "worse": worse[:SUMMARY_LINES],
            "more_better": max(more_better, 0), "more_worse": max(more_worse, 0),
            "others": others,
            "interval_name": pages.interval_name(report.published)}


# ----------------------------------------------------------------------------------------------
# The index, its components and the map


def finest_map_level(report: ReportData, measure: str) -> str | None:
    """The level the map shows: the one with boundaries and the most areas with figures."""
    t = report.published.table
    chosen = t[(t["measure"] == measure) & (t["wave"] == report.wave)]
    counts = chosen["level"].value_counts().to_dict()
    levels = [lv for lv in data.map_levels(report.published) if counts.get(lv)]
    return max(levels, key=lambda lv: counts[lv]) if levels else None


def _map(report: ReportData, info: MeasureInfo) -> dict[str, Any] | None:
    level = finest_map_level(report, info.id)
    if level is None or report.wave is None:
        return None
    lang = report.language
    rows = data.rows(report.published, measure=info.id, wave=report.wave, level=level)
    features = pages.map_features(report.published, rows, info, level)
    if not features:
        return None
    compare = any(data.finite(r.get("diff_parent_rest")) is not None for r in rows)
    names, legend = pages.class_labels(), pages.class_labels(short=True)
    klass = {r["area_code"]: pages.comparison_class(r) for r in rows}
    if compare:
        for f in features:
            k = klass.get(f["properties"]["code"])
            f["properties"]["class"] = legend[k] if k else None
    title = _("Map: %(measure)s, %(wave)s") % {"measure": info.label(lang), "wave": report.wave}
    svg = charts.choropleth(
        features, title=title, language=lang,
        bands=None if compare else pages.bands(info, lang),
        legend_title=str(_("Compared with the rest")) if compare else unit_note(info),
        classes=[(legend[k], pages.CLASS_COLOURS[k]) for k in ("above", "same", "below")]
        if compare else None)
    table_rows = []
    for r in rows:
        p = present(info, r, lang)
        k = klass.get(r["area_code"])
        table_rows.append((p["area_name"], p["not_shown"] or p["estimate"], p["interval"], p["n"],
                           names[k] if k else _("Not shown")))
    table = report.appendix.add(
        f"{title} ({unit_note(info)})",
        (_("Area"), _("Estimate"), pages.interval_name(report.published), "n",
         _("Compared with the rest")), table_rows, numeric=(False, True, True, True, False))
    caption = (_("Each area of the level “%(level)s” against the rest of its parent area "
                 "(significance at the %(level_ci)s level)") % {
                     "level": level, "level_ci": pages.interval_level(report.published)}
               if compare else _("Each area of the level “%(level)s”") % {"level": level})
    return {"title": title, **_figure(svg, caption, report, table)}


def district_level(report: ReportData, measure: str) -> str | None:
    """The level just under the top that divides it (the districts): from the map's level up
    the chain of parent levels (:meth:`tryg.index.hierarchy.Hierarchy.parent_level`) to the
    level whose parent is the top level; the map's level itself when nothing is above."""
    key = f"district_level:{measure}"
    if key not in report.memo:
        report.memo[key] = _district_level(report, measure)
    found: str | None = report.memo[key]
    return found


def _district_level(report: ReportData, measure: str) -> str | None:
    level = finest_map_level(report, measure)
    h = report.published.area_hierarchy
    if level is None or h is None:
        return level
    seen = {level}
    while (parent := h.parent_level(level)) is not None and h.parent_level(parent) is not None:
        if parent in seen:
            break
        seen.add(parent)
        level = parent
    return level


def _area_table(report: ReportData) -> dict[str, Any] | None:
    """The index and its components for every area of the level under the top (the
    districts), in the report's wave."""
    spec = report.published.spec
    ids = [i for i in (composite_id(spec), *component_ids(spec)) if i]
    if not ids or report.wave is None:
        return None
    level = district_level(report, ids[0])
    if level is None:
        return None
    lang = report.language
    infos = [report.published.info(i) for i in ids]
    areas = sorted(((code, name) for code, (name, lv, _m) in report.published.areas.items()
                    if lv == level), key=lambda a: (a[1], a[0]))
    rows = []
    for code, name in areas:
        cells: list[dict[str, str]] = []
        for info in infos:
            row = _rows_in_wave(report, code, info.id)
            p = present(info, row, lang) if row is not None else None
            cells.append({"estimate": (p["not_shown"] or p["estimate"]) if p else "–",
                          "interval": p["interval"] if p else ""})
        rows.append({"name": name, "cells": cells})
    return {"level": level, "measures": [i.label(lang) for i in infos], "rows": rows}


def _components(report: ReportData, code: str, name: str) -> dict[str, Any] | None:
    """The composite beside its components for ``code`` in the report's wave: the area
    page's chart (dots with their intervals) and its table in the appendix."""
    spec = report.published.spec
    lang = report.language
    found = []
    for measure in (i for i in (composite_id(spec), *component_ids(spec)) if i):
        row = _rows_in_wave(report, code, measure)
        if row is not None:
            found.append((report.published.info(measure), row))
    shown = [(info, r) for info, r in found
             if not r["suppressed"] and data.finite(r["estimate"]) is not None]
    if not shown:
        return None
    frame = pd.DataFrame.from_records(
        [{"measure_label": info.label(lang), "estimate": data.finite(r["estimate"]),
          "ci_low": data.finite(r["ci_low"]), "ci_high": data.finite(r["ci_high"])}
         for info, r in shown], columns=["measure_label", "estimate", "ci_low", "ci_high"])
    title = f"{_('The index and its parts, %(wave)s') % {'wave': report.wave}}, {name}"
    presented = [(info, present(info, r, lang)) for info, r in found]
    table = report.appendix.add(
        title, (_("Measure"), _("Estimate"), pages.interval_name(report.published), "n"),
        [(info.label(lang), p["not_shown"] or p["estimate"], p["interval"], p["n"])
         for info, p in presented], numeric=(False, True, True, True))
    return _figure(charts.components(frame, title=title, language=lang), title, report, table)


def build_index(report: ReportData) -> dict[str, Any] | None:
    info = index_measure(report)
    if info is None or report.wave is None:
        return None
    lang = report.language
    context: dict[str, Any] = {"measure": info.label(lang), "unit": unit_note(info),
                               "wave": report.wave, "map": _map(report, info),
                               "areas": _area_table(report),
                               "interval_name": pages.interval_name(report.published)}
    if report.place is not None and report.place[0] in report.published.areas:
        components = _components(report, *report.place)
        if components is not None:
            context["components"] = components
    if context["map"] is None and context["areas"] is None and "components" not in context:
        return None
    return context


# ----------------------------------------------------------------------------------------------
# Trends of the followed areas


def _trend_figure(report: ReportData, info: MeasureInfo, code: str, name: str,
                  with_parent: bool = True) -> dict[str, Any] | None:
    rows = _upto_wave(report, code, info.id)
    if not rows:
        return None
    series = [(name, rows)]
    parent = _parent(report, code) if with_parent else None
    if parent is not None:
        parent_rows = _upto_wave(report, parent, info.id)
        if parent_rows:
            series.append((report.published.areas[parent][0], parent_rows))
    lang = report.language
    title = f"{info.label(lang)}, {name}"
    points = trend_points(info, series)
    svg = charts.trend(points, title=title, language=lang) if points else None
    table = _trend_table(report, info, title, series)
    latest = present(info, rows[-1], lang)
    return {"name": name, "code": code, "latest": latest, **_figure(
        svg, title, report, table)}


def build_trends(report: ReportData) -> dict[str, Any] | None:
    info = headline_measure(report)
    areas = followed_areas(report)
    if info is None or not areas:
        return None
    figures = [f for code, name in areas
               if (f := _trend_figure(report, info, code, name)) is not None]
    if not figures:
        return None
    return {"measure": info.label(report.language), "unit": unit_note(info),
            "figures": figures, "interval_name": pages.interval_name(report.published)}


# ----------------------------------------------------------------------------------------------
# The gap between felt and recorded safety


def _gap_by_area(report: ReportData, info: MeasureInfo) -> dict[str, Any] | None:
    """The gap of every area of the coarsest level that has it in the report's wave, as
    dots with their intervals (the components chart), and its table in the appendix."""
    t = report.published.table
    in_wave = t[(t["measure"] == info.id) & (t["wave"] == report.wave)]
    if in_wave.empty:
        return None
    level = str(in_wave["level"].iloc[0])  # results are ordered top level first
    rows = data.rows(report.published, measure=info.id, wave=report.wave, level=level)
    lang = report.language
    shown = [r for r in rows if not r["suppressed"] and data.finite(r["estimate"]) is not None]
    frame = pd.DataFrame.from_records(
        [{"measure_label": r["area_name"],
          **{k: (None if (v := data.finite(r[k])) is None else display_value(info, v))
             for k in ("estimate", "ci_low", "ci_high")}} for r in shown],
        columns=["measure_label", "estimate", "ci_low", "ci_high"])
    title = _("The gap by area of the level “%(level)s”, %(wave)s (%(unit)s)") % {
        "level": level, "wave": report.wave, "unit": unit_note(info)}
    svg = charts.components(frame, title=title, language=lang) if not frame.empty else None
    table = report.appendix.add(
        title, (_("Area"), _("Estimate"), pages.interval_name(report.published), _("Flags")),
        [(p["area_name"], p["not_shown"] or p["estimate"], p["interval"], "; ".join(p["flags"]))
         for p in (present(info, r, lang) for r in rows)],
        numeric=(False, True, True, False))
    return _figure(svg, title, report, table)


def build_gap(report: ReportData) -> dict[str, Any] | None:
    published = report.published
    if GAP not in published.measures or not (published.table["measure"] == GAP).any():
        return None
    info = published.info(GAP)
    spec_gap = published.spec.gap
    lang = report.language
    places = ([report.place] if report.place else []) + [
        a for a in followed_areas(report) if not report.place or a[0] != report.place[0]]
    figures = [f for code, name in places
               if code in published.areas
               and (f := _trend_figure(report, info, code, name, with_parent=False))]
    by_area = _gap_by_area(report, info) if report.wave is not None else None
    if not figures and by_area is None:
        return None
    return {"figures": figures, "by_area": by_area, "unit": unit_note(info),
            "survey": published.info(spec_gap.survey_measure).label(lang),
            "register": published.info(spec_gap.register_measure).label(lang),
            "interval_name": pages.interval_name(published)}


# ----------------------------------------------------------------------------------------------
# Method and appendix

_H1 = re.compile(r"<h1\b[^>]*>.*?</h1>\s*", re.DOTALL)


def build_methods(report: ReportData) -> dict[str, Any]:
    """The /methods/ page's text, from the spec (its context and template reused); the page's
    own heading gives way to the section's."""
    context = pages.methods_context(report.published, report.language)
    html = render_to_string("public/methods.html", {
        "title": "", "interval_name": pages.interval_name(report.published), **context})
    return {"html": _H1.sub("", html, count=1)}


def build_appendix(report: ReportData) -> dict[str, Any]:
    lang = report.language
    return {"tables": report.appendix.tables,
            "source": [(line.label(lang), line.value(lang))
                       for line in source_lines(report.published)]}


def register_index_sections() -> None:
    """The index's sections (called from :mod:`tryg.reports.apps`)."""
    for section in (
        Section("cover", gettext_lazy("Cover"), "reports/cover.html", build_cover, order=0),
        Section("summary", gettext_lazy("Summary"), "reports/summary.html", build_summary,
                order=10),
        Section("index", gettext_lazy("The safety index by area"), "reports/index.html",
                build_index, order=100),
        Section("trends", gettext_lazy("The areas the council follows"), "reports/trends.html",
                build_trends, order=200),
        Section("gap", gettext_lazy("Felt and recorded safety"), "reports/gap.html",
                build_gap, order=300),
        Section("methods", gettext_lazy("How the index is made"), "reports/methods.html",
                build_methods, order=900),
        Section("appendix", gettext_lazy("Appendix: the tables behind the charts"),
                "reports/appendix.html", build_appendix, order=1000),
    ):
        register(section)
