"""Index runs: the list, a run's results table, new runs and re-runs, publication.

* Administrators, analysts and coordinators see every run with its internal table (all
  values, suppressed rows included, marked as such).
* Other logged-in users (partners, walk participants) see published runs only, in their
  public view; an unpublished run is a 404 for them, as if it did not exist.
* Starting a run of a shipped specification, and re-running a run's own specification on the
  data stored now: ``roles.can_run_index`` (POST only), as a background job
  (:mod:`tryg.jobs`): the page opens the job's page, which shows its progress and then links
  the run. Each form carries a request key, so a form posted twice queues one job.
* Publishing and withdrawing: ``roles.can_publish`` (POST only), through the runs service.
"""

from __future__ import annotations

import posixpath
import re
import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tryg.accounts import roles
from tryg.analysis import results_file
from tryg.analysis.codes import input_label, label_rows, measure_choices
from tryg.analysis.data_views import paginate
from tryg.analysis.figures import round_rows
from tryg.exports import EXCEL_ROWS, fits_excel, results_bytes
from tryg.imports.problems import located
from tryg.index import load_spec, shipped_specs
from tryg.jobs import services as jobs
from tryg.jobs.models import Job
from tryg.runs import services
from tryg.runs.drivers import has_drivers
from tryg.runs.models import IndexRun, ResultRow
from tryg.runs.published import public_results, records, visible_runs
from tryg.web import params
from tryg.web.access import logged_in, require, visible_or_404, visible_run_or_404
from tryg.web.language import page_language


@require_GET
@require(logged_in)
def runs(request: HttpRequest) -> HttpResponse:
    return render(request, "tryg/analyse/runs.html", {
        "page": paginate(request, visible_runs(request.user)),
        "internal": roles.can_see_unpublished(request.user),
        "can_publish": roles.can_publish(request.user),
        "can_run": roles.can_run_index(request.user),
        "specs": _shipped_choices() if roles.can_run_index(request.user) else [],
        "live": services.live_run(),
        "request_key": uuid.uuid4().hex,
    })


def _shipped_choices() -> list[tuple[str, str]]:
    """(id, "id version: title") of each shipped specification, in the page's language."""
    language = page_language()
    choices = []
    for spec_id in shipped_specs():
        spec = load_spec(spec_id)
        choices.append((spec.id, f"{spec.id} {spec.version}: {spec.title.get(language)}"))
    return choices


def _filters(request: HttpRequest) -> tuple[str, int | None]:
    measure = params.text(request, "measure")
    wave = params.whole_number(request, "wave", hi=params.MAX_YEAR)
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
    page = paginate(request, rows)
    spec = services.run_spec(run)
    language = page_language()
    page.object_list = label_rows(round_rows(list(page.object_list), spec), spec, language)
    live = services.live_run()
    return render(request, "tryg/analyse/run_detail.html", {
        "run": run, "page": page, "internal": internal,
        "live": live.pk if live is not None else None,
        "query": f"{query}&" if query else "",
        "measures": measure_choices(measures, spec, language), "waves": waves,
        "measure": measure, "wave": wave,
        "can_publish": roles.can_publish(request.user) and run.status == IndexRun.Status.DONE,
        "can_run": roles.can_run_index(request.user),
        "rerun_survey": "survey" in run.inputs or run.status != IndexRun.Status.DONE,
        # the log may quote a stored answer (a failed run's problems): record-level data
        "show_log": roles.can_see_microdata(request.user),
        "problems": [located(p) for p in run.stored_problems("problems")],
        "warnings": [located(w) for w in run.stored_problems("warnings")],
        "inputs": [(input_label(name), fp) for name, fp in sorted(run.inputs.items())]
        if internal else [],
        "previous": services.previous_run(run) if internal else None,
        "has_drivers": has_drivers(run),
        "request_key": uuid.uuid4().hex,
    })


@require_POST
@require(logged_in)
def start_run(request: HttpRequest) -> HttpResponseRedirect:
    """A new run of a shipped specification on the stored data."""
    if not roles.can_run_index(request.user):
        raise PermissionDenied
    busy = _busy(request)
    if busy is not None:
        return busy
    spec_id = request.POST.get("spec", "")
    if spec_id not in shipped_specs():
        messages.error(request, _("Choose one of the shipped specifications."))
        return redirect(reverse("analyse:runs"))
    job = jobs.enqueue("index_run", key=_request_key(request), user=request.user,
                       spec=spec_id, survey=request.POST.get("survey") == "on")
    return _after_job(request, job)


@require_POST
@require(logged_in)
def rerun(request: HttpRequest, run_id: int) -> HttpResponseRedirect:
    """The run's own specification again, on the data stored now, as a new run."""
    run = visible_run_or_404(request.user, run_id)
    if not roles.can_run_index(request.user):
        raise PermissionDenied
    busy = _busy(request)
    if busy is not None:
        return busy
    job = jobs.enqueue("index_run", key=_request_key(request), user=request.user,
                       rerun_of=run.pk, survey=request.POST.get("survey") == "on")
    return _after_job(request, job, rerun_of=run)


_KEY = re.compile(r"[0-9a-f]{32}")


def _request_key(request: HttpRequest) -> str | None:
    """The idempotency key of a run's form (its hidden ``request_key``, made when the page
    was rendered), for this user; None when the post has none."""
    value = request.POST.get("request_key", "")
    return f"index_run:{request.user.pk}:{value}" if _KEY.fullmatch(value) else None


def _run_named(pk: object) -> IndexRun | None:
    return IndexRun.objects.filter(pk=pk).first() if isinstance(pk, int) else None


def _after_job(request: HttpRequest, job: Job,
               rerun_of: IndexRun | None = None) -> HttpResponseRedirect:
    """Where a queued run's form leads: the run when its job has already finished (as with
    a form posted twice), else the job's page with its progress."""
    job.refresh_from_db()
    result = job.result if isinstance(job.result, dict) else {}
    busy = _run_named(result.get("in_progress"))
    if job.state == Job.State.FAILED and busy is not None:
        return _in_progress(request, busy)
    run = _run_named(result.get("run"))
    if job.finished and run is not None:
        return _after_run(request, run, rerun_of=rerun_of)
    if job.state == Job.State.FAILED:
        messages.error(request, _("The index run's background job failed."))
    else:
        messages.info(request, _("The index run is queued as background job %(id)s; this "
                                 "page shows its progress.") % {"id": job.pk})
    return redirect(reverse("jobs:job", args=[job.pk]))


def _busy(request: HttpRequest) -> HttpResponseRedirect | None:
    """A redirect to the run in progress, with a message, when one is (runs started from the
    pages run one at a time: two at once would compete for the server and the database).
    The early answer; the run itself is claimed with the same check in one step
    (:func:`tryg.runs.services.run_index`, ``one_at_a_time``)."""
    running = services.running_run()
    return None if running is None else _in_progress(request, running)


def _in_progress(request: HttpRequest, running: IndexRun) -> HttpResponseRedirect:
    messages.error(request, _("Index run %(id)s is still running; start another when it has "
                              "finished.") % {"id": running.pk})
    return redirect(reverse("analyse:run", args=[running.pk]))


def _after_run(request: HttpRequest, run: IndexRun,
               rerun_of: IndexRun | None = None) -> HttpResponseRedirect:
    if run.status == IndexRun.Status.DONE:
        rows = ResultRow.objects.filter(run=run).count()
        if rerun_of is None:
            text = _("Index run %(id)s is done: %(rows)s result rows.")
        elif rerun_of.fingerprint and rerun_of.fingerprint == run.fingerprint:
            text = _("Index run %(id)s (a re-run of run %(old)s) is done: %(rows)s result "
                     "rows, identical to those of run %(old)s.")
        else:
            text = _("Index run %(id)s (a re-run of run %(old)s) is done: %(rows)s result "
                     "rows.")
        messages.success(request, text % {"id": run.pk, "rows": rows,
                                           "old": rerun_of.pk if rerun_of else ""})
    else:
        problems = [located(p) for p in run.stored_problems("problems")]
        shown = "; ".join(problems[:3]) + (" …" if len(problems) > 3 else "")
        messages.error(request, _("Index run %(id)s failed and stored no results: "
                                  "%(problems)s") % {"id": run.pk, "problems": shown})
    return redirect(reverse("analyse:run", args=[run.pk]))


@require_http_methods(["GET", "POST"])
@require(logged_in)
def publish(request: HttpRequest, run_id: int) -> HttpResponse:
    """GET: the confirmation page (what changes against the live run); POST: publish."""
    if request.method == "POST":
        return _change_publication(request, run_id, publish=True)
    run = visible_run_or_404(request.user, run_id)
    if not roles.can_publish(request.user):
        raise PermissionDenied
    if run.status != IndexRun.Status.DONE:
        messages.error(request, _("Only a finished run can be published."))
        return redirect(reverse("analyse:run", args=[run.pk]))
    change = services.publication_change(run)
    return render(request, "tryg/analyse/publish_confirm.html", {"run": run, "change": change})


@require_GET
@require(roles.can_see_unpublished)
def download(request: HttpRequest, run_id: int, fmt: str) -> HttpResponse:
    """The run's internal results table (every value, suppressed rows included) as CSV or
    XLSX, for those who see it on the run's page; never stored by a browser or cache."""
    run = visible_run_or_404(request.user, run_id)
    if fmt not in DOWNLOADS:
        raise Http404
    if fmt == "xlsx":
        rows = ResultRow.objects.filter(run=run).count()
        if not fits_excel(rows, 1):
            messages.error(request, _(
                "The results have %(rows)s rows, more than one Excel sheet holds (%(most)s "
                "below its column names): download them as CSV.") % {
                    "rows": number_format(rows, force_grouping=True),
                    "most": number_format(EXCEL_ROWS - 1, force_grouping=True)})
            return redirect(reverse("analyse:run", args=[run.pk]))
        if not results_file.in_request(rows):
            job = results_file.enqueue_file(run, request.user)
            return redirect(reverse("jobs:job", args=[job.pk]))
    data = results_bytes(services.results_frame(run), fmt)
    response = HttpResponse(data, content_type=DOWNLOADS[fmt])
    response["Content-Disposition"] = f'attachment; filename="tryg-run-{run.pk}.{fmt}"'
    return response


@require_GET
@require(roles.can_see_unpublished)
def results_xlsx(request: HttpRequest, job_id: int) -> FileResponse:
    """The XLSX a background job made of a large run's results (see
    :mod:`tryg.analysis.results_file`), for the user who asked, while they may see internal
    results; 404 alike for a job that does not exist and one that is not theirs."""
    job = visible_or_404(Job.objects.filter(kind=results_file.KIND), job_id,
                         lambda found: found.created_by_id == request.user.pk)
    stored = job.result.get("file") if isinstance(job.result, dict) else None
    if job.state != Job.State.DONE or not isinstance(stored, str) or not stored:
        raise Http404
    try:
        handle = default_storage.open(stored, "rb")
    except OSError as exc:
        raise Http404 from exc
    return FileResponse(handle, content_type=DOWNLOADS["xlsx"], as_attachment=True,
                        filename=posixpath.basename(stored))


DOWNLOADS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@require_POST
@require(logged_in)
def unpublish(request: HttpRequest, run_id: int) -> HttpResponse:
    return _change_publication(request, run_id, publish=False)


def _change_publication(request: HttpRequest, run_id: int,
                        *, publish: bool) -> HttpResponse:
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
