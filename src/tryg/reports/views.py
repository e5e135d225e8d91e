"""The analysts' report page: a form, and the file it asks for (thin: the work is
:func:`tryg.reports.services.build_report`, synchronous for now)."""

from __future__ import annotations

import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from tryg.accounts import roles
from tryg.reports.forms import ReportForm
from tryg.reports.services import CONTENT_TYPES, ReportError, build_report, file_name
from tryg.web import params
from tryg.web.access import require


def _today() -> datetime.date:
    return timezone.localdate()


@require(roles.can_build_report)
@require_http_methods(["GET", "HEAD", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """GET: the form (``?run=N`` fills in a run to preview); POST: the report's file."""
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
        body = build_report(options, fmt, user=request.user)
    except ReportError as exc:
        return render(request, "reports/form.html", {"form": form, "problem": str(exc)},
                      status=400)
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{file_name(options, fmt)}"'
    return response
