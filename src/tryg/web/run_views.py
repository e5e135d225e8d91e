"""Index runs: the list, a run's results table, publication.

* Administrators, analysts and coordinators see every run with its internal table (all
  values, suppressed rows included, marked as such).
* Other logged-in users (partners, walk participants) see published runs only, in their
  public view; an unpublished run is a 404 for them, as if it did not exist.
* Publishing and withdrawing: ``roles.can_publish`` (POST only), through the runs service.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tryg.accounts import roles
from tryg.runs import services
from tryg.runs.models import IndexRun, ResultRow
from tryg.web.access import logged_in, require, visible_run_or_404, visible_runs
from tryg.web.data_views import paginate
from tryg.web.run_results import public_results, records


@require_GET
@require(logged_in)
def runs(request: HttpRequest) -> HttpResponse:
    return render(request, "tryg/analyse/runs.html", {
        "page": paginate(request, visible_runs(request.user)),
        "internal": roles.can_see_unpublished(request.user),
        "can_publish": roles.can_publish(request.user),
    })


def _filters(request: HttpRequest) -> tuple[str, int | None]:
    measure = request.GET.get("measure", "").strip()
    wave_text = request.GET.get("wave", "").strip()
    wave = int(wave_text) if wave_text.isdigit() else None
    return measure, wave


@require_GET
@require(logged_in)
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = visible_run_or_404(request.user, run_id)
    measure, wave = _filters(request)
    internal = roles.can_see_unpublished(request.user)
    rows: Any
    if internal:
        all_rows = ResultRow.objects.filter(run=run)
        measures = sorted(set(all_rows.values_list("measure", flat=True)))
        waves = sorted(set(all_rows.values_list("wave", flat=True)))
        rows = all_rows.order_by("measure", "wave", "level", "area_code", "id")
        if measure:
            rows = rows.filter(measure=measure)
        if wave is not None:
            rows = rows.filter(wave=wave)
    else:
        table = public_results(run)
        measures = sorted(table["measure"].unique())
        waves = sorted(int(w) for w in table["wave"].dropna().unique())
        if measure:
            table = table[table["measure"] == measure]
        if wave is not None:
            table = table[table["wave"] == wave]
        rows = records(table.sort_values(["measure", "wave", "level", "area_code"]))
    query = urlencode({k: v for k, v in (("measure", measure), ("wave", wave)) if v})
    return render(request, "tryg/analyse/run_detail.html", {
        "run": run, "page": paginate(request, rows), "internal": internal,
        "query": f"{query}&" if query else "",
        "measures": measures, "waves": waves, "measure": measure, "wave": wave,
        "can_publish": roles.can_publish(request.user) and run.status == IndexRun.Status.DONE,
    })


@require_POST
@require(logged_in)
def publish(request: HttpRequest, run_id: int) -> HttpResponseRedirect:
    return _change_publication(request, run_id, publish=True)


@require_POST
@require(logged_in)
def unpublish(request: HttpRequest, run_id: int) -> HttpResponseRedirect:
    return _change_publication(request, run_id, publish=False)


def _change_publication(request: HttpRequest, run_id: int,
                        *, publish: bool) -> HttpResponseRedirect:
    run = visible_run_or_404(request.user, run_id)
    if not roles.can_publish(request.user):
        raise PermissionDenied
    try:
        if publish:
            services.publish(run, request.user)
        else:
            services.unpublish(run, request.user)
    except services.PublicationError as exc:  # e.g. a run that did not finish
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The run is published.") if publish
                         else _("The run is no longer published."))
    return redirect(reverse("analyse:run", args=[run.pk]))
