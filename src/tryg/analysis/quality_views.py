"""Data quality: survey responses per area and wave against a specification's publication
rules, areas without responses, population and register coverage (:mod:`tryg.runs.quality`).

Internal, like unpublished runs (``roles.can_see_unpublished``): the counts show how many
people answered in small areas, which the public sees only through the publication rules.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tryg.accounts import roles
from tryg.analysis.diff_views import frame_page
from tryg.exports import csv_bytes
from tryg.index import Spec, load_spec, parse_spec, shipped_specs
from tryg.runs.models import IndexRun, StoredSpec
from tryg.runs.published import records
from tryg.runs.quality import BELOW_MIN, NONE, OK, UNCERTAIN, quality_report
from tryg.web.access import require


def spec_choices() -> tuple[list[tuple[str, str]], str]:
    """The specifications to choose from as (hash, label), and the default's hash: the spec
    of the latest run first (the default), then the shipped ones."""
    choices: list[tuple[str, str]] = []
    default = ""
    latest = IndexRun.objects.select_related("spec").first()
    if latest is not None:
        stored = latest.spec
        default = stored.sha256
        label = _("%(spec)s (the latest run's)") % {
            "spec": f"{stored.spec_id} {stored.version} · {stored.sha256[:12]}"}
        choices.append((stored.sha256, label))
    for spec_id in shipped_specs():
        spec = load_spec(spec_id)
        if spec.hash != default:
            choices.append((spec.hash, f"{spec.id} {spec.version} · {spec.hash[:12]}"))
    return choices, default or choices[0][0]


def _spec(sha256: str) -> Spec | None:
    for spec_id in shipped_specs():
        spec = load_spec(spec_id)
        if spec.hash == sha256:
            return spec
    stored = StoredSpec.objects.filter(sha256=sha256).first()
    return parse_spec(stored.text) if stored is not None else None


@require_GET
@require(roles.can_see_unpublished)
def quality(request: HttpRequest) -> HttpResponse:
    choices, default = spec_choices()
    chosen = request.GET.get("spec", "")
    spec = _spec(chosen) if chosen in {h for h, _label in choices} else None
    if spec is None:
        chosen, spec = default, _spec(default)
    assert spec is not None  # the default is the latest run's spec or a shipped one
    report = quality_report(spec.publication)
    if request.GET.get("format") == "csv":
        return _csv(report.counts)
    level = request.GET.get("level", "")
    if level not in report.levels:
        level = ""
    matrix = report.matrix()
    flagged = report.flagged()
    if level:
        matrix = matrix[matrix["level"] == level]
        flagged = flagged[flagged["level"] == level]
    status = {(c, int(w)): s for c, w, s in report.counts[["area_code", "wave", "status"]]
              .itertuples(index=False)}
    page = frame_page(request, matrix)
    flagged_page = frame_page(request, flagged, param="fpage")
    rows = []
    for row in page:
        cells = [(row[w], status.get((row["area_code"], w), OK)) for w in report.waves]
        rows.append({**row, "cells": cells, "coverage": report.coverage.get(row["area_code"])})
    keep = {"spec": chosen, "level": level}
    query = urlencode({k: v for k, v in keep.items() if v})
    return render(request, "tryg/analyse/quality.html", {
        "report": report, "spec": spec, "choices": choices, "chosen": chosen,
        "level": level, "levels": report.levels, "page": page, "rows": rows,
        "summary": _summary(report.summary(), level),
        "flagged": flagged_page,
        "query": f"{query}&fpage={flagged_page.number}&",
        "fquery": f"{query}&page={page.number}&",
        "csv_query": urlencode({"spec": chosen, "format": "csv"}),
        "labels": {NONE: _("no responses"), BELOW_MIN: _("below the minimum n"),
                   UNCERTAIN: _("uncertain"), OK: ""},
        "NONE": NONE, "BELOW_MIN": BELOW_MIN, "UNCERTAIN": UNCERTAIN,
    })


def _summary(summary: Any, level: str) -> list[dict[str, Any]]:
    if level:
        summary = summary[summary["level"] == level]
    return records(summary)


def _csv(counts: Any) -> HttpResponse:
    response = HttpResponse(csv_bytes(counts), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="tryg-responses-per-area.csv"'
    return response
