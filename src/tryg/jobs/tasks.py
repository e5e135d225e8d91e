"""The one task the queue carries: run a :class:`~tryg.jobs.models.Job` by its id.

Every kind of job goes through it, so the queue needs to know nothing of tryg's kinds, and
what people see of a job (state, progress, result) lives in one table whatever the backend.
"""

from __future__ import annotations

from django_tasks import task


@task()
def execute_task(job_id: int) -> str:
    from django.utils import timezone

    from tryg.jobs.models import Job
    from tryg.jobs.services import execute

    try:
        return str(execute(job_id).state)
    except Exception as exc:  # the job's own errors are stored by execute; this is the rest
        Job.objects.filter(pk=job_id, state__in=[Job.State.QUEUED, Job.State.RUNNING]).update(
            state=Job.State.FAILED, error=f"{type(exc).__name__}: {exc}",
            finished_at=timezone.now())
        raise
