"""Public endpoints: areas, waves, measures, published results, runs.

Nothing here reads record-level data. Results come only from published runs and only through
:func:`tryg.index.results.public_view` (via :func:`tryg.public.data.published`), so
suppressed values and small register counts never leave the server. The answers of
/api/results are kept in Django's cache per publication and query.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Router
from ninja.errors import HttpError
from ninja.renderers import JSONRenderer

from tryg.accounts import roles
from tryg.api.schemas import (
    AreaOut,
    AreaProblemsOut,
    DriversOut,
    FeatureCollection,
    IdQuery,
    Limit,
    MeasuresOut,
    Offset,
    ResultsOut,
    RunOut,
    Text,
    WaveOut,
    YearQuery,
)
from tryg.areas.models import Area, AreaLink
from tryg.index.spec import Spec
from tryg.public.data import published, run_key
from tryg.runs.drivers import published_drivers, published_problems
from tryg.runs.models import IndexRun
from tryg.runs.published import records, visible_runs
from tryg.runs.services import run_spec
from tryg.surveys.models import Wave

router = Router(tags=["public"])


def _area(area: Area) -> dict[str, Any]:
    return {"code": area.code, "name": area.name, "level": area.level,
            "parents": [{"code": link.parent.code, "valid_from": link.valid_from,
                         "valid_to": link.valid_to} for link in area.parent_links.all()]}


@router.get("/areas", response=list[AreaOut] | FeatureCollection)
def areas(request: HttpRequest, level: Text = "", geometry: bool = False) -> Any:
    """Areas with their parents; ``?geometry=1``: a GeoJSON FeatureCollection (WGS84)."""
    links = AreaLink.objects.select_related("parent").order_by("valid_from", "parent__code")
    rows = Area.objects.prefetch_related(Prefetch("parent_links", queryset=links))
    if level:
        rows = rows.filter(level=level)
    if not geometry:
        return [_area(a) for a in rows]
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": a.code, "properties": _area(a),
         "geometry": json.loads(a.geometry) if a.geometry else None} for a in rows]}


@router.get("/waves", response=list[WaveOut])
def waves(request: HttpRequest) -> Any:
    """Survey waves (years) and how many responses each has; not the answers."""
    return [{"year": w.year, "fieldwork_start": w.fieldwork_start,
             "fieldwork_end": w.fieldwork_end, "producer": w.producer,
             "questionnaire": w.questionnaire, "synthetic": w.synthetic,
             "responses": w.n} for w in Wave.objects.annotate(n=Count("responses"))]


def _published() -> Any:
    return (IndexRun.objects.select_related("spec").filter(published_at__isnull=False)
            .order_by("-published_at", "-id"))


def _measures(spec: Spec) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"id": m.id, "kind": "survey", "label_da": m.label.da, "label_en": m.label.en,
         "higher_is_safer": m.higher_is_safer, "headline": m.headline}
        for m in spec.measures]
    for r in spec.register:
        out.append({"id": r.id, "kind": "register", "label_da": r.label.da,
                    "label_en": r.label.en, "higher_is_safer": False})
        if r.smoothing != "none":
            out.append({"id": f"{r.id}_eb", "kind": "register", "label_da": r.label.da,
                        "label_en": r.label.en, "higher_is_safer": False})
    out += [{"id": s.id, "kind": "subindex", "label_da": s.label.da, "label_en": s.label.en,
             "higher_is_safer": True} for s in spec.subindices]
    if spec.composite is not None:
        c = spec.composite
        out.append({"id": c.id, "kind": "composite", "label_da": c.label.da,
                    "label_en": c.label.en, "higher_is_safer": True})
    return out


@router.get("/measures", response=MeasuresOut)
def measures(request: HttpRequest) -> Any:
    """The measures of the latest published run's specification."""
    run = _published().first()
    if run is None:
        return {"run": None, "spec_id": None, "spec_version": None, "spec_hash": None,
                "measures": []}
    spec = run_spec(run)
    return {"run": run.pk, "spec_id": spec.id, "spec_version": spec.version,
            "spec_hash": run.spec.sha256, "measures": _measures(spec)}


#: Seconds an answer of /api/results is kept (a new publication changes the key anyway).
RESULTS_TIMEOUT = 24 * 3600
RESULTS_PREFIX = "tryg-api-results"


def results_key(run: IndexRun, query: dict[str, Any]) -> str:
    """The cache key of an answer: the run's publication (id and when it was published, so a
    withdrawal and a new publication change it) and the query."""
    text = "&".join(f"{k}={query[k]}" for k in sorted(query))
    return f"{RESULTS_PREFIX}:{run_key(run)}:{hashlib.sha256(text.encode()).hexdigest()[:32]}"


@router.get("/results", response=ResultsOut)
def results(request: HttpRequest, run: IdQuery | None = None, area: Text = "",
            level: Text = "", wave: YearQuery | None = None, measure: Text = "",
            limit: Limit = 1000, offset: Offset = 0) -> Any:
    """Published results (the public view: suppressed values blanked, small counts as
    "< 5"). Without ``run``: the latest published run. An unpublished run is a 404.

    Each answer with rows is computed once per publication and query and then served from
    Django's cache (one small query per request finds the publication)."""
    chosen = (get_object_or_404(_published(), pk=run) if run is not None
              else _published().first())
    if chosen is None:
        raise HttpError(404, "no index run has been published yet")
    query: dict[str, Any] = {"area": area, "level": level, "wave": wave, "measure": measure,
                             "limit": limit, "offset": offset}
    key = results_key(chosen, query)
    body = cache.get(key)
    if not isinstance(body, bytes):
        answer = ResultsOut.model_validate(_results(chosen, area, level, wave, measure, limit,
                                                    offset))
        text = JSONRenderer().render(request, answer.model_dump(), response_status=200)
        body = text.encode("utf-8")
        if answer.results:  # an answer with no rows (a made-up filter, a page past the end)
            cache.set(key, body, RESULTS_TIMEOUT)  # is not kept: it cannot fill the cache
    return HttpResponse(body, content_type="application/json; charset=utf-8")


def _results(chosen: IndexRun, area: str, level: str, wave: int | None, measure: str,
             limit: int, offset: int) -> dict[str, Any]:
    # The public table of the publication, memoised per process (tryg.public.data).
    table = published(chosen).table
    if area:
        table = table[table["area_code"] == area]
    if level:
        table = table[table["level"] == level]
    if wave is not None:
        table = table[table["wave"] == wave]
    if measure:
        table = table[table["measure"] == measure]
    return {"run": chosen.pk, "spec_id": chosen.spec.spec_id, "spec_hash": chosen.spec.sha256,
            "count": len(table), "limit": limit, "offset": offset,
            "results": records(table.iloc[offset:offset + limit])}


def _chosen(run: int | None) -> IndexRun:
    chosen: IndexRun | None = (get_object_or_404(_published(), pk=run) if run is not None
                               else _published().first())
    if chosen is None:
        raise HttpError(404, "no index run has been published yet")
    return chosen


def _filtered(table: Any, **where: Any) -> Any:
    for column, value in where.items():
        if value not in ("", None):
            table = table[table[column] == value]
    return table


@router.get("/drivers", response=DriversOut)
def drivers(request: HttpRequest, run: IdQuery | None = None, area: Text = "",
            level: Text = "", wave: YearQuery | None = None, problem: Text = "",
            limit: Limit = 1000, offset: Offset = 0) -> Any:
    """Drivers of insecurity of a published run (without ``run``: the latest): per area and
    wave with a model, each problem's average marginal effect on the share feeling unsafe,
    its 95 % interval and rank. Only cells with at least the publication minimum of answers;
    an unpublished run is a 404."""
    chosen = _chosen(run)
    table = published_drivers(chosen, run_spec(chosen).publication.min_n)
    table = _filtered(table, area_code=area, level=level, wave=wave, problem=problem)
    table = table.drop(columns=["suppressed"])
    return {"run": chosen.pk, "spec_id": chosen.spec.spec_id, "spec_hash": chosen.spec.sha256,
            "count": len(table), "limit": limit, "offset": offset,
            "drivers": records(table.iloc[offset:offset + limit])}


@router.get("/area-problems", response=AreaProblemsOut)
def area_problems(request: HttpRequest, run: IdQuery | None = None, area: Text = "",
                  level: Text = "", wave: YearQuery | None = None, problem: Text = "",
                  limit: Limit = 1000, offset: Offset = 0) -> Any:
    """How often each neighbourhood problem is reported in an area against the rest of its
    parent area, in a published run (without ``run``: the latest); only areas whose answers
    and whose rest of parent both reach the publication minimum."""
    chosen = _chosen(run)
    table = published_problems(chosen, run_spec(chosen).publication.min_n, area or None)
    table = _filtered(table, level=level, wave=wave, problem=problem)
    table = table.drop(columns=["suppressed"])
    return {"run": chosen.pk, "spec_id": chosen.spec.spec_id, "spec_hash": chosen.spec.sha256,
            "count": len(table), "limit": limit, "offset": offset,
            "problems": records(table.iloc[offset:offset + limit])}


@router.get("/runs", response=list[RunOut])
def runs(request: HttpRequest) -> Any:
    """Published runs; with a session of an analyst, coordinator or administrator, all."""
    user = request.user if roles.can_see_unpublished(request.user) else None
    return [{"id": r.pk, "spec_id": r.spec.spec_id, "spec_version": r.spec.version,
             "spec_hash": r.spec.sha256, "status": r.status, "started_at": r.started_at,
             "finished_at": r.finished_at, "published_at": r.published_at,
             "fingerprint": r.fingerprint} for r in visible_runs(user)]
