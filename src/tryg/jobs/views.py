"""The jobs' pages: the list, one job's state and progress (refreshing itself while it runs,
without JavaScript), and a retry of a failed job. Who may start jobs sees them
(``roles.can_see_jobs``); a job's error text is shown to those who may see record-level data
(an index run's problems may quote a stored answer).

A job the visitor may not see is a 404, the same answer as a job id that does not exist, so
no one learns which ids exist (:func:`tryg.web.access.visible_or_404`); the anonymous are
sent to the log-in before any look-up. Retrying is a role's (``can_see_jobs``, who sees every
job): the others get 403 for every id, before any look-up."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from tryg.accounts import roles
from tryg.jobs import services
from tryg.jobs.kinds import KINDS
from tryg.jobs.models import Job
from tryg.web.access import logged_in, require, visible_or_404

#: Seconds between the automatic reloads of a running job's page.
REFRESH = 2


@require_GET
@require(roles.can_see_jobs)
def jobs(request: HttpRequest) -> HttpResponse:
    recent = Job.objects.select_related("created_by")[:100]
    return render(request, "tryg/jobs/jobs.html", {
        "jobs": [(job, _label(job)) for job in recent],
        "worker_seen": services.last_worker_seen(),
    })


@require_GET
@require(logged_in)
def job(request: HttpRequest, job_id: int) -> HttpResponse:
    """One job: for those who see jobs, and for the user who asked for it."""
    found = visible_or_404(Job.objects.select_related("created_by"), job_id,
                           lambda job: roles.can_see_job(request.user, job.created_by_id))
    run = found.result.get("run") if isinstance(found.result, dict) else None
    refresh = REFRESH if not found.finished else None
    kind = KINDS.get(found.kind)
    response = render(request, "tryg/jobs/job.html", {
        "job": found, "label": _label(found),
        "run": run if isinstance(run, int) else None,
        "download": kind.download(found) if kind is not None and kind.download else None,
        "refresh": refresh,
        "show_error": roles.can_see_microdata(request.user),
        "can_see_jobs": roles.can_see_jobs(request.user),
    })
    if refresh is not None:
        # the Refresh header reloads the page in every browser, with no script (CSP)
        response["Refresh"] = str(refresh)
    return response


@require_POST
@require(roles.can_see_jobs)
def retry(request: HttpRequest, job_id: int) -> HttpResponseRedirect:
    found = get_object_or_404(Job, pk=job_id)
    services.retry(found, request.user)
    return redirect(reverse("jobs:job", args=[found.pk]))


def _label(job: Job) -> str:
    found = KINDS.get(job.kind)
    return str(found.label) if found is not None else job.kind
