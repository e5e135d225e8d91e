"""The analysts' report page: a form; the file it asks for, made in the request when that is
quick, else by a background job whose page links the file (thin: the work is
:func:`tryg.reports.services.build_report` and :mod:`tryg.reports.background`)."""

from __future__ import annotations

import datetime
import posixpath

from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from tryg.accounts import roles
from tryg.jobs.models import Job
from tryg.reports import background
from tryg.reports.forms import ReportForm
from tryg.reports.services import (
    CONTENT_TYPES,
    ReportError,
    build_report,
    check,
    file_name,
)
from tryg.web import params
from tryg.web.access import logged_in, require, visible_or_404


def _today() -> datetime.date:
    return timezone.localdate()


@require(roles.can_build_report)
@require_http_methods(["GET", "HEAD", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """GET: the form (``?run=N`` fills in a run to preview); POST: the report's file, or
    (a PDF, a large publication) a background job's page that links it when it is made."""
    if request.method != "POST":
        run = params.whole_number(request, "run", lo=1)
        initial = {"run": run, "audience": "internal"} if run is not None else {}
        return render(request, "reports/form.html", {"form": ReportForm(initial=initial)})
    form = ReportForm(request.POST)
    if not form.is_valid():
        return render(request, "reports/form.html", {"form": form}, status=400)
    options = form.options(_today())
    fmt = form.file_format()
    try:
        if not background.in_request(options, fmt):
            # an unknown run, wave or area is said on the form, not by a failed job
            check(options, request.user)
            job = background.enqueue_report(options, fmt, request.user)
            return redirect(reverse("jobs:job", args=[job.pk]))
        body = build_report(options, fmt, user=request.user)
    except ReportError as exc:
        return render(request, "reports/form.html", {"form": form, "problem": str(exc)},
                      status=400)
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{file_name(options, fmt)}"'
    return response


@require_GET
@require(logged_in)
def report_file(request: HttpRequest, job_id: int) -> HttpResponse:
    """The file of a report made in the background, for the user who asked for it (a few
    megabytes at most: read whole)."""
    # 404 alike for a job that does not exist and one that is not the visitor's: no one
    # learns which job ids exist
    job = visible_or_404(Job.objects.filter(kind=background.KIND), job_id,
                         lambda found: roles.can_download_report(request.user,
                                                                 found.created_by_id))
    stored = job.result.get("file") if isinstance(job.result, dict) else None
    if job.state != Job.State.DONE or not isinstance(stored, str) or not stored:
        raise Http404
    try:
        with default_storage.open(stored, "rb") as handle:
            body = handle.read()
    except OSError as exc:
        raise Http404 from exc
    fmt = "html" if stored.endswith(".html") else "pdf"
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = (
        f'attachment; filename="{posixpath.basename(stored)}"')
    return response
