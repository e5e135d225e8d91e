"""An area's page: every measure's trend, the composite beside its components, the comparison
with the parent area and with similar areas, and the gap between felt and recorded safety.

Similar areas are the areas of the same level whose composite index (the headline measure
when the spec has no composite) in the latest wave is nearest to this area's, suppressed
estimates left out (:func:`tryg.public.data.similar_areas`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.utils.translation import gettext as _

from tryg.public import charts, data
from tryg.public.data import Published
from tryg.public.measures import GAP, component_ids, composite_id
from tryg.public.present import present, trend_points, unit_note
from tryg.walks.public import area_findings


def _parent(published: Published, code: str, level: str) -> tuple[str, str] | None:
    wave = published.waves[-1] if published.waves else 0
    parent = data.parent_of(code, level, wave, published.area_hierarchy)
    if parent is None:
        return None
    found = published.areas.get(parent)
    return (parent, found[0]) if found else None


def _measure_section(published: Published, language: str, measure: str, area_name: str,
                     rows: list[dict[str, Any]], parent: tuple[str, str] | None
                     ) -> dict[str, Any]:
    info = published.info(measure)
    parent_rows = (data.rows(published, area_code=parent[0], measure=measure)
                   if parent else [])
    by_wave = {r["wave"]: present(info, r, language) for r in parent_rows}
    series = [(area_name, rows)] + ([(parent[1], parent_rows)] if parent_rows and parent
                                    else [])
    points = trend_points(info, series)
    label = info.label(language)
    table = []
    for row in rows:
        shown = present(info, row, language)
        shown["parent"] = by_wave.get(row["wave"])
        table.append(shown)
    return {
        "id": measure, "label": label, "unit": unit_note(info), "rows": table,
        "chart": charts.trend(points, title=label, language=language) if points else None,
    }


def _components(published: Published, language: str, code: str) -> dict[str, Any] | None:
    """The composite and its components in the latest wave (chart and table)."""
    ids = [i for i in (composite_id(published.spec), *component_ids(published.spec)) if i]
    rows = []
    for measure in ids:
        row = data.latest(published, code, measure)
        if row is not None:
            info = published.info(measure)
            rows.append((info, row))
    if not rows:
        return None
    frame = pd.DataFrame.from_records(
        [{"measure_label": info.label(language), "estimate": data.finite(r["estimate"]),
          "ci_low": data.finite(r["ci_low"]), "ci_high": data.finite(r["ci_high"])}
         for info, r in rows if not r["suppressed"] and data.finite(r["estimate"]) is not None],
        columns=["measure_label", "estimate", "ci_low", "ci_high"])
    wave = rows[0][1]["wave"]
    title = _("The index and its parts, %(wave)s") % {"wave": wave}
    return {
        "wave": wave, "title": title,
        "rows": [{"label": info.label(language), "unit": unit_note(info),
                  "composite": info.id == composite_id(published.spec),
                  **present(info, r, language)} for info, r in rows],
        "chart": charts.components(frame, title=title, language=language)
        if not frame.empty else None,
    }


def area_context(published: Published, language: str, code: str) -> dict[str, Any]:
    name, level, own_measures = published.areas[code]
    parent = _parent(published, code, level)
    measures = [m for m in published.measure_ids() if m in own_measures]
    sections = [
        _measure_section(published, language, m, name,
                         data.rows(published, area_code=code, measure=m), parent)
        for m in measures if m != GAP
    ]
    gap = None
    if GAP in measures:
        gap = _measure_section(published, language, GAP, name,
                               data.rows(published, area_code=code, measure=GAP), None)
        spec_gap = published.spec.gap
        gap["survey"] = published.info(spec_gap.survey_measure).label(language)
        gap["register"] = published.info(spec_gap.register_measure).label(language)
    similar_measure = composite_id(published.spec) or (
        published.spec.headline.id if published.spec.headline else "")
    similar_info = published.info(similar_measure) if similar_measure else None
    similar = [present(similar_info, r, language) for r in data.similar_areas(published, code)
               ] if similar_info else []
    return {
        "area_code": code, "area_name": name, "level": level, "parent": parent,
        "waves": published.waves, "sections": sections, "gap": gap,
        "components": _components(published, language, code),
        "similar": similar,
        "similar_label": similar_info.label(language) if similar_info else "",
        # Safety walks: public findings (approved, positions rounded) and the area's figures.
        "walk_findings": area_findings(code),
        "own_similar": (present(similar_info, r, language)
                        if similar_info and (r := data.latest(published, code, similar_measure))
                        else None),
    }
