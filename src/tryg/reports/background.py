"""The report made in the background: the job kind ``report`` (:mod:`tryg.jobs`), its file kept
through Django's storage API, and who may fetch it.

The analysts' page queues a report that would take longer than a request should (a PDF, or
a large publication, :func:`in_request`); a worker builds it with the same
:func:`tryg.reports.services.build_report` as the command line, with the rights of the user who
asked (checked again when it runs), and stores the file under ``reports/<job>/`` in
``default_storage`` (the uploads folder, or the configured object storage). The job's page
links it; only the user who asked, while they may still make reports, can download it
(:func:`tryg.accounts.roles.can_download_report`).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tryg.accounts import roles
from tryg.jobs.kinds import Context, JobFailedError, register
from tryg.jobs.models import Job
from tryg.public import data
from tryg.reports.sections import ReportOptions
from tryg.reports.services import Format, ReportError, build_report, file_name

KIND = "report"
#: A report of a publication with at most this many areas, as HTML, is made in the request;
#: any PDF (WeasyPrint's layout takes seconds) and larger ones in the background
#: (``settings.TRYG_REPORT_INLINE_AREAS``; bench/results/report.md has the times).
INLINE_AREAS = 300


def in_request(options: ReportOptions, fmt: Format) -> bool:
    """Whether the report is quick enough to make while the browser waits."""
    if fmt != "html":
        return False
    limit = int(getattr(settings, "TRYG_REPORT_INLINE_AREAS", INLINE_AREAS))
    run = data.latest_published_run() if options.run is None else None
    if options.run is not None:
        from tryg.runs.models import ResultRow

        areas = (ResultRow.objects.filter(run_id=options.run).values("area_code").distinct()
                 .count())
        return areas <= limit
    return run is not None and len(data.published(run).areas) <= limit


def options_params(options: ReportOptions, fmt: Format) -> dict[str, Any]:
    """The job's JSON parameters of a report."""
    return {"audience": options.audience, "language": options.language, "wave": options.wave,
            "areas": list(options.areas), "strategy": options.strategy, "run": options.run,
            "created": options.created.isoformat() if options.created else None,
            "fmt": fmt}


def enqueue_report(options: ReportOptions, fmt: Format, user: Any) -> Job:
    from tryg.jobs.services import enqueue

    return enqueue(KIND, user=user, **options_params(options, fmt))


def download_url(job: Job) -> str | None:
    """Where a finished report job's file is fetched (the job's page links it)."""
    if job.state != Job.State.DONE or not job.result.get("file"):
        return None
    return reverse("reports:file", args=[job.pk])


@register(KIND, gettext_lazy("Council report"), max_attempts=2, download=download_url)
def make_report(ctx: Context, *, fmt: str, created: str | None, areas: list[str],
                **options: Any) -> dict[str, Any]:
    """Build the report and keep its file; its storage name, file name and size."""
    if not roles.can_build_report(ctx.user):
        raise JobFailedError(_("You may not make reports."))
    chosen: Format = "html" if fmt == "html" else "pdf"
    report = ReportOptions(areas=tuple(areas), created=(
        datetime.date.fromisoformat(created) if created else None), **options)
    ctx.progress(_("building the report"), 0.1)
    try:
        body = build_report(report, chosen, user=ctx.user)
    except ReportError as exc:
        raise JobFailedError(str(exc)) from exc
    ctx.progress(_("storing the file"), 0.9)
    name = file_name(report, chosen)
    stored = default_storage.save(f"reports/{ctx.job_id}/{name}", ContentFile(body))
    return {"file": stored, "name": name, "format": chosen, "bytes": len(body)}
