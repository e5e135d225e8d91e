"""A large run's internal results as XLSX, made in the background: the job kind
``results_xlsx`` (:mod:`tryg.jobs`), its file kept through Django's storage API.

Writing a workbook costs openpyxl about 7 µs a cell: the national demo's 337,641 rows take
about a minute (``bench/results/export_xlsx.md``), longer than a proxy waits for an answer
(nginx: 60 s) and longer than anyone should watch a spinner. So the run page's XLSX link
answers a small run's file at once, and queues a larger one (more rows than
``settings.TRYG_XLSX_INLINE_ROWS``, default :data:`INLINE_ROWS`) as a job whose page links
the file when it is made, as the council report does (:mod:`tryg.reports.background`). Only
the user who asked may fetch it, while they may still see internal results. CSV stays
answered at once: it is written ten times faster.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tryg.accounts import roles
from tryg.exports import fits_excel, results_bytes
from tryg.jobs.kinds import Context, JobFailedError, register
from tryg.jobs.models import Job
from tryg.runs import services
from tryg.runs.models import IndexRun

KIND = "results_xlsx"
#: A run with at most this many result rows gets its XLSX in the request (about 2 s).
INLINE_ROWS = 50_000


def in_request(rows: int) -> bool:
    """Whether a workbook of ``rows`` result rows is quick enough to make while the browser
    waits."""
    return rows <= int(getattr(settings, "TRYG_XLSX_INLINE_ROWS", INLINE_ROWS))


def enqueue_file(run: IndexRun, user: Any) -> Job:
    from tryg.jobs.services import enqueue

    return enqueue(KIND, user=user, run=run.pk)


def file_name(run_id: int) -> str:
    return f"tryg-run-{run_id}.xlsx"


def download_url(job: Job) -> str | None:
    """Where a finished job's file is fetched (the job's page links it)."""
    if job.state != Job.State.DONE or not job.result.get("file"):
        return None
    return reverse("analyse:results_file", args=[job.pk])


@register(KIND, gettext_lazy("Results as XLSX"), max_attempts=2, download=download_url)
def make_file(ctx: Context, *, run: int) -> dict[str, Any]:
    """Write the run's internal results as XLSX and keep the file; its storage name, file
    name and size."""
    from django.core.files.storage import default_storage

    if not roles.can_see_unpublished(ctx.user):
        raise JobFailedError(_("You may not see a run's internal results."))
    found = IndexRun.objects.filter(pk=run, status=IndexRun.Status.DONE).first()
    if found is None:
        raise JobFailedError(_("There is no finished index run #%(run)s.") % {"run": run})
    ctx.progress(_("reading the results"), 0.1)
    table = services.results_frame(found)
    if not fits_excel(*table.shape):
        raise JobFailedError(_("The results have more rows than one Excel sheet holds: "
                               "download them as CSV."))
    ctx.progress(_("writing the workbook"), 0.3)
    body = results_bytes(table, "xlsx")
    ctx.progress(_("storing the file"), 0.95)
    name = file_name(found.pk)
    stored = default_storage.save(f"results/{ctx.job_id}/{name}", ContentFile(body))
    return {"file": stored, "name": name, "bytes": len(body)}
