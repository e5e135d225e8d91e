"""Analysts' pages on stored data: survey waves and their answers, imports and their records.

Record-level data: analysts and administrators only (``roles.can_see_microdata``).
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from tryg.accounts import roles
from tryg.imports.models import ImportBatch
from tryg.police_register.models import RegisterRecord
from tryg.surveys.models import Response, Wave
from tryg.web.access import require

PAGE_SIZE = 100


def paginate(request: HttpRequest, items: QuerySet[Any] | list[Any],
             size: int | None = None) -> Page[Any]:
    """The requested page (``?page=``); a page number out of range gives the last page."""
    return Paginator(items, size or PAGE_SIZE).get_page(request.GET.get("page"))


@require(roles.can_see_microdata)
def waves(request: HttpRequest) -> HttpResponse:
    rows = Wave.objects.annotate(n_responses=Count("responses")).order_by("-year")
    return render(request, "tryg/analyse/waves.html", {"waves": rows})


@require(roles.can_see_microdata)
def wave_responses(request: HttpRequest, year: int) -> HttpResponse:
    wave = get_object_or_404(Wave, year=year)
    responses = (Response.objects.filter(wave=wave).select_related("area")
                 .order_by("respondent", "id"))
    page = paginate(request, responses)
    items = sorted({k for r in page for k in r.answers}, key=_item_order(wave))
    rows = [(r, [r.answers.get(i, "") for i in items]) for r in page]
    return render(request, "tryg/analyse/wave_responses.html",
                  {"wave": wave, "page": page, "items": items, "rows": rows})


def _item_order(wave: Wave) -> Any:
    order = {q: i for i, q in enumerate(wave.questions or [])}
    return lambda item: (order.get(item, len(order)), item)


@require(roles.can_see_microdata)
def imports(request: HttpRequest) -> HttpResponse:
    # the records of each import are counted when it is written (``record_count``): counting
    # them here took seconds per request once one import held millions
    batches = ImportBatch.objects.select_related("imported_by").order_by("-imported_at", "-id")
    kind = request.GET.get("kind", "")
    if kind in ImportBatch.Kind.values:
        batches = batches.filter(kind=kind)
    return render(request, "tryg/analyse/imports.html", {
        "page": paginate(request, batches), "kind": kind, "kinds": ImportBatch.Kind.choices})


@require(roles.can_see_microdata)
def import_records(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = get_object_or_404(ImportBatch, pk=batch_id, kind=ImportBatch.Kind.REGISTER)
    records = (RegisterRecord.objects.filter(import_batch=batch).select_related("area")
               .order_by("line", "id"))
    return render(request, "tryg/analyse/import_records.html",
                  {"batch": batch, "page": paginate(request, records)})
