"""The difference between two index runs: specs, inputs, and result rows (with a CSV file).

Internal: only those who may see unpublished runs (``roles.can_see_unpublished``) compare
runs, since the comparison shows every value of both runs; others get 403 (the anonymous, the
log-in page). The comparison itself is :mod:`tryg.runs.diff`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pandas as pd
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tryg.accounts import roles
from tryg.runs import services
from tryg.runs.diff import STATUSES, input_changes, spec_change
from tryg.runs.models import IndexRun, ResultRow
from tryg.runs.published import records, visible_runs
from tryg.web import params
from tryg.web.access import require

PAGE_SIZE = 100
#: Runs offered in the form's lists (the newest; a chosen older run is added).
CHOICES = 300


class FrameRows:
    """A table's rows for a paginator: only the rows of the page become dicts."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def __len__(self) -> int:
        return len(self.frame)

    def __getitem__(self, part: slice) -> list[dict[str, Any]]:
        return records(self.frame.iloc[part])


def frame_page(request: HttpRequest, frame: pd.DataFrame, size: int | None = None,
               param: str = "page") -> Page[Any]:
    """The requested page of a table's rows (out of range: the last page)."""
    return Paginator(FrameRows(frame), size or PAGE_SIZE).get_page(  # type: ignore[arg-type]
        request.GET.get(param))


def _run(runs: QuerySet[IndexRun], request: HttpRequest, param: str) -> IndexRun | None:
    """The run named by a query parameter: None when absent, 400 when not a whole number,
    404 when not one of ``runs``."""
    pk = params.whole_number(request, param)
    if pk is None:
        return None
    run = runs.filter(pk=pk).first()
    if run is None:
        raise Http404
    return run


@dataclass(frozen=True)
class Pair:
    a: IndexRun | None
    b: IndexRun | None
    tolerance: float
    tolerance_error: str = ""


def _pair(request: HttpRequest) -> Pair:
    """Runs A and B from ``?a=`` and ``?b=``: by default B is the latest finished run and A
    the run before B (:func:`tryg.runs.services.previous_run`)."""
    runs = visible_runs(request.user)
    a = _run(runs, request, "a")
    b = _run(runs, request, "b")
    if b is None:
        b = runs.filter(status=IndexRun.Status.DONE).first() or runs.first()
    if a is None and b is not None:
        a = services.previous_run(b, runs)
    text = request.GET.get("tolerance", "").strip().replace(",", ".")
    tolerance, error = 0.0, ""
    if text:
        try:
            tolerance = float(text)
        except ValueError:
            tolerance = -1.0
        if not 0 <= tolerance < float("inf"):
            tolerance, error = 0.0, _("The tolerance must be a number, 0 or more.")
    return Pair(a, b, tolerance, error)


def _measures(*runs: IndexRun) -> list[str]:
    return sorted(set(ResultRow.objects.filter(run__in=runs)
                      .values_list("measure", flat=True).distinct()))


@require_GET
@require(roles.can_see_unpublished)
def compare(request: HttpRequest) -> HttpResponse:
    pair = _pair(request)
    runs = list(visible_runs(request.user)[:CHOICES])
    for chosen in (pair.a, pair.b):
        if chosen is not None and chosen not in runs:
            runs.append(chosen)
    context: dict[str, Any] = {"pair": pair, "a": pair.a, "b": pair.b, "runs": runs,
                               "tolerance": request.GET.get("tolerance", "")}
    if pair.a is None or pair.b is None:
        return render(request, "tryg/analyse/compare.html", context)
    a, b = pair.a, pair.b
    difference = services.compare_runs(a, b, tolerance=pair.tolerance)
    measures = _measures(a, b)
    measure = params.text(request, "measure")
    if measure not in measures:
        measure = ""
    show = request.GET.get("show", "")
    if show not in STATUSES:
        show = "changed"
    keep = {"a": a.pk, "b": b.pk, "tolerance": context["tolerance"], "measure": measure,
            "show": show}
    query = urlencode({k: v for k, v in keep.items() if v not in ("", None)})
    csv_query = urlencode({k: v for k, v in keep.items()
                           if k in ("a", "b", "tolerance") and v not in ("", None)})
    context.update({
        "difference": difference,
        "spec": spec_change(a.spec.sha256, a.spec.text, b.spec.sha256, b.spec.text),
        "inputs": input_changes(a.inputs, b.inputs),
        "same_inputs": a.inputs == b.inputs,
        "by_measure": records(difference.by_measure(measures)),
        "measures": measures, "measure": measure, "show": show,
        "statuses": [(s, _label(s)) for s in STATUSES],
        "page": frame_page(request, difference.table(status=show, measure=measure)),
        "query": f"{query}&", "csv_query": csv_query,
    })
    return render(request, "tryg/analyse/compare.html", context)


def _label(status: str) -> str:
    return {"changed": _("changed"), "only_a": _("only in A"),
            "only_b": _("only in B")}[status]


@require_GET
@require(roles.can_see_unpublished)
def compare_csv(request: HttpRequest) -> HttpResponse:
    """The whole difference as a CSV file (every changed row and every row of one run only,
    with all the compared columns of both runs)."""
    pair = _pair(request)
    if pair.a is None or pair.b is None:
        raise Http404
    difference = services.compare_runs(pair.a, pair.b, tolerance=pair.tolerance)
    response = HttpResponse(difference.csv_bytes(), content_type="text/csv; charset=utf-8")
    name = f"tryg-run-{pair.a.pk}-vs-{pair.b.pk}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
