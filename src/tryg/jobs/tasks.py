"""The one task the queue carries: run a :class:`~tryg.jobs.models.Job` by its id.

Every kind of job goes through it, so the queue needs to know nothing of tryg's kinds, and
what people see of a job (state, progress, result) lives in one table whatever the backend.
"""

from __future__ import annotations

from django_tasks import task


@task()
def execute_task(job_id: int) -> str:
    from tryg.jobs.services import execute

    return str(execute(job_id).state)
