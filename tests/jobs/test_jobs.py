"""Jobs in one process: idempotent queueing, running, leases and taking back, the pages.

The queue is the real database backend of django-tasks-db (the suite's settings use the
immediate backend elsewhere); the lease's clock and the "is that process alive" question are
injected, so nothing waits for time to pass.
"""

from __future__ import annotations

import datetime
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tryg.accounts.models import Role, User
from tryg.jobs import services
from tryg.jobs.kinds import KINDS, Context, JobFailedError, register
from tryg.jobs.models import Job
from tryg.runs.models import IndexRun, ResultRow, StoredSpec

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
T0 = datetime.datetime(2026, 12, 6, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture()
def echo() -> Iterator[str]:
    """A job kind for the tests: reports two steps and returns its parameters, or fails."""

    def run(ctx: Context, **params: Any) -> dict[str, Any]:
        ctx.progress("first half", 0.25)
        ctx.claimed(started=True)
        if params.get("fail"):
            raise JobFailedError("asked to fail", why="test")
        ctx.progress("second half", 0.75)
        return {"echo": params}

    register("test_echo", "Echo")(run)
    yield "test_echo"
    del KINDS["test_echo"]


@pytest.mark.django_db
@override_settings(TASKS=DATABASE_QUEUE)
def test_a_key_queues_one_job_and_one_task(echo: str) -> None:
    first = services.enqueue(echo, key="form-1", value=1)
    again = services.enqueue(echo, key="form-1", value=2)
    other = services.enqueue(echo, key="form-2", value=3)
    assert again.pk == first.pk and again.params == {"value": 1}
    assert other.pk != first.pk
    assert DBTaskResult.objects.count() == 2
    assert first.state == Job.State.QUEUED and first.task_id
    with pytest.raises(KeyError, match="no job kind 'nope'"):
        services.enqueue("nope")
    assert Job.objects.count() == 2


@pytest.mark.django_db
@override_settings(TASKS=DATABASE_QUEUE)
def test_a_job_runs_once_and_keeps_its_progress_and_result(echo: str) -> None:
    job = services.enqueue(echo, key="k", value=1)
    done = services.execute(job.pk)
    assert done.state == Job.State.DONE and done.attempts == 1
    assert done.result == {"started": True, "echo": {"value": 1}}
    assert done.step == "second half" and done.fraction == 1.0 and done.percent == 100
    assert done.worker.startswith(f"{socket.gethostname()[:40]}:{os.getpid()}:")
    # delivered twice (a queue may): not run again
    assert services.execute(job.pk).attempts == 1
    failed = services.execute(services.enqueue(echo, fail=True).pk)
    assert failed.state == Job.State.FAILED and failed.error == "asked to fail"
    assert failed.result == {"started": True, "why": "test"} and failed.fraction == 0.25
    again = services.retry(failed)
    assert again.state == Job.State.QUEUED and again.error == "" and again.attempts == 0
    assert DBTaskResult.objects.filter(id=again.task_id).exists()


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=DATABASE_QUEUE)
def test_the_worker_runs_the_queue(echo: str) -> None:
    from tryg.jobs.worker import run_worker

    jobs = [services.enqueue(echo, n=n) for n in range(3)]
    run_worker(batch=True)
    assert [Job.objects.get(pk=j.pk).state for j in jobs] == ["done"] * 3
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert services.last_worker_seen() is not None


def _running(worker: str, heartbeat: datetime.datetime, **fields: Any) -> Job:
    return Job.objects.create(kind="index_run", state=Job.State.RUNNING, worker=worker,
                              heartbeat_at=heartbeat, attempts=1, **fields)


@pytest.mark.django_db
@override_settings(TASKS=DATABASE_QUEUE, TRYG_JOB_LEASE=60)
def test_a_job_is_taken_back_when_its_lease_runs_out_or_its_process_is_gone() -> None:
    elsewhere = _running("otherhost:123:abcd", T0)
    here_dead = _running(f"{socket.gethostname()}:999999:abcd", T0)
    here_alive = _running(f"{socket.gethostname()}:999998:abcd", T0)

    def alive(pid: int) -> bool:
        return pid == 999998

    # within the lease: only the job whose process on this host is gone
    assert services.reap(T0 + datetime.timedelta(seconds=30), alive=alive) == [here_dead.pk]
    # past the lease: the other host's job too (and the live one, whose heartbeat stopped)
    taken = services.reap(T0 + datetime.timedelta(seconds=61), alive=alive)
    assert sorted(taken) == sorted([elsewhere.pk, here_alive.pk])
    for job in Job.objects.all():
        assert job.state == Job.State.QUEUED and job.worker == ""
        assert "queued again" in job.step and job.task_id
    assert DBTaskResult.objects.filter(status="READY").count() == 3


@pytest.mark.django_db
@override_settings(TASKS=DATABASE_QUEUE)
def test_a_job_taken_back_too_often_fails_and_its_run_is_closed() -> None:
    spec = StoredSpec.objects.create(spec_id="s", version="1", sha256="0" * 64, text="")
    run = IndexRun.objects.create(spec=spec)  # running, no result rows: killed half-way
    job = _running("otherhost:1:x", T0, result={"run": run.pk})
    Job.objects.filter(pk=job.pk).update(attempts=3)
    assert services.reap(T0 + datetime.timedelta(hours=1)) == [job.pk]
    job.refresh_from_db()
    run.refresh_from_db()
    assert job.state == Job.State.FAILED and "3 time(s)" in job.error
    assert run.status == IndexRun.Status.FAILED and "otherhost:1:x" in run.log
    assert not ResultRow.objects.filter(run=run).exists()


def test_process_alive_knows_this_process_and_a_finished_one() -> None:
    import subprocess
    import sys

    assert services.process_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not services.process_alive(child.pid)
    assert services.parse_worker("h:12:ab") == ("h", 12)
    assert services.parse_worker("nonsense") is None


@pytest.mark.django_db
def test_the_job_page_shows_state_progress_and_error_to_those_who_may_see_them() -> None:
    analyst = User.objects.create_user("ana", role=Role.ANALYST)
    coordinator = User.objects.create_user("co", role=Role.COORDINATOR)
    running = Job.objects.create(kind="index_run", state=Job.State.RUNNING, step="storing",
                                 fraction=0.5, heartbeat_at=timezone.now())
    failed = Job.objects.create(kind="index_run", state=Job.State.FAILED, error="bad row 7")
    client = Client()
    client.force_login(analyst)
    page = client.get(reverse("jobs:job", args=[running.pk]))
    text = page.content.decode()
    assert page["Refresh"] == "2" and 'data-state="running"' in text
    assert '<progress max="100" value="50">' in text and "storing" in text
    page = client.get(reverse("jobs:job", args=[failed.pk]))
    assert not page.has_header("Refresh") and "bad row 7" in page.content.decode()
    assert str(running.pk) in client.get(reverse("jobs:jobs")).content.decode()
    client.force_login(coordinator)
    assert client.get(reverse("jobs:job", args=[failed.pk])).status_code == 404  # not theirs
    assert client.post(reverse("jobs:retry", args=[failed.pk])).status_code == 403
    assert Job.objects.get(pk=failed.pk).state == Job.State.FAILED
    assert Client().get(reverse("jobs:jobs")).status_code == 302
    client.force_login(analyst)
    assert client.get(reverse("jobs:job", args=[10**9])).status_code == 404
