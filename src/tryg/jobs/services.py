"""Queueing, running and taking back background jobs.

* :func:`enqueue` records a :class:`~tryg.jobs.models.Job` and queues its task. With an
  idempotency ``key`` a second call (a form posted twice, a retried request) returns the first
  job instead of queueing another. With the database backend (the default) the job row and the
  queued task are written in one transaction: both or neither.
* :func:`execute` runs a job in a worker: it marks the job running under this worker's name,
  keeps its lease alive from a heartbeat thread, reports progress to the row, and stores the
  result or the error.
* :func:`reap` takes back the jobs of dead workers: a running job whose worker process is gone
  (same host, no such process) or whose heartbeat is older than the lease
  (``TRYG_JOB_LEASE`` seconds, for workers on other hosts). What the job had claimed is tidied
  up (an index run it had started is marked failed; its result rows were never written, as
  they are written in one transaction at the end), and the job is queued again until its kind's
  ``max_attempts``. Every worker reaps when it starts and then every few seconds.
"""

from __future__ import annotations

import datetime
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tryg.jobs.kinds import JobFailedError, kind
from tryg.jobs.models import Job, WorkerBeat

log = logging.getLogger(__name__)

#: Default seconds a running job's heartbeat stays valid (``settings.TRYG_JOB_LEASE``).
LEASE_SECONDS = 60.0


def lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=float(getattr(settings, "TRYG_JOB_LEASE", LEASE_SECONDS)))


# ----------------------------------------------------------------------------------- queueing
def enqueue(kind_name: str, *, key: str | None = None, user: Any = None,
            **params: Any) -> Job:
    """Queue a job of the registered kind ``kind_name`` with JSON ``params``.

    ``key``: an idempotency key (e.g. from the form that asked for the job); a job already
    made with it is returned as it is, and nothing new is queued. ``user``: who asked (the job
    runs with that user's rights, checked again when it runs).
    """
    kind(kind_name)  # KeyError for an unknown kind, before anything is stored
    actor = user if getattr(user, "is_authenticated", False) else None
    if key is not None:
        existing = Job.objects.filter(key=key).first()
        if existing is not None:
            return existing
    transactional = _transactional()
    try:
        with transaction.atomic():
            job = Job.objects.create(kind=kind_name, params=params, key=key, created_by=actor)
            if transactional:
                _submit(job)
    except IntegrityError:
        if key is None:
            raise
        return Job.objects.get(key=key)  # the same key, queued by a request at the same moment
    if not transactional:
        _submit(job)
        job.refresh_from_db()
    return job


def _transactional() -> bool:
    """Whether the task backend stores tasks in this database (then a task is queued in the
    same transaction as its job row)."""
    from django_tasks_db import DatabaseBackend

    from tryg.jobs.tasks import execute_task

    return isinstance(execute_task.get_backend(), DatabaseBackend)


def _submit(job: Job) -> None:
    from tryg.jobs.tasks import execute_task

    result = execute_task.enqueue(job.pk)
    job.task_id = str(result.id)
    Job.objects.filter(pk=job.pk).update(task_id=job.task_id)


def retry(job: Job, user: Any = None) -> Job:
    """Queue a failed job again (same kind and parameters; the same job row)."""
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if locked.state != Job.State.FAILED:
            return locked
        locked.state = Job.State.QUEUED
        locked.step, locked.error, locked.fraction, locked.result = "", "", 0.0, {}
        locked.attempts = 0
        locked.finished_at = None
        locked.save()
        if _transactional():
            _submit(locked)
    if not _transactional():
        _submit(locked)
    locked.refresh_from_db()
    return locked


# ------------------------------------------------------------------------------------ running
@dataclass(frozen=True)
class WorkerIdentity:
    """Who runs jobs here: ``host:pid:token`` (at most 64 characters, the task backend's
    limit)."""

    host: str
    pid: int
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    @property
    def name(self) -> str:
        return f"{self.host[:40]}:{self.pid}:{self.token}"

    @classmethod
    def here(cls) -> WorkerIdentity:
        return cls(socket.gethostname(), os.getpid())


def parse_worker(name: str) -> tuple[str, int] | None:
    """(host, pid) of a worker name made by :class:`WorkerIdentity`."""
    parts = name.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1])


class JobContext:
    """What a job's function gets: its id, the user who asked, progress and claims."""

    def __init__(self, job: Job, worker: str) -> None:
        self.job_id = job.pk
        self.user = job.created_by
        self.worker = worker

    def progress(self, step: str, fraction: float) -> None:
        Job.objects.filter(pk=self.job_id).update(
            step=step[:300], fraction=float(fraction), heartbeat_at=timezone.now())
        _test_pause(step)

    def claimed(self, **values: Any) -> None:
        job = Job.objects.get(pk=self.job_id)
        Job.objects.filter(pk=self.job_id).update(result={**job.result, **values})


def _test_pause(step: str) -> None:
    """A test hook (never set in production): with ``TRYG_JOB_PAUSE_STEP`` and
    ``TRYG_JOB_PAUSE_FILE`` in the environment, a job whose progress step starts with that
    text stops there until the file exists, so a test can kill its worker at a known point."""
    prefix = os.environ.get("TRYG_JOB_PAUSE_STEP")
    release = os.environ.get("TRYG_JOB_PAUSE_FILE")
    if not prefix or not release or not step.startswith(prefix):
        return
    while not Path(release).exists():
        time.sleep(0.05)


#: The worker this process is, when it is one (:func:`tryg.jobs.worker.run_worker`).
current_worker: WorkerIdentity | None = None


def execute(job_id: int, *, heartbeat: bool | None = None) -> Job:
    """Run job ``job_id`` here: once, whatever the queue delivers twice."""
    me = current_worker or WorkerIdentity.here()
    with transaction.atomic():
        job = (Job.objects.select_for_update(of=("self",)).select_related("created_by")
               .get(pk=job_id))
        if job.state != Job.State.QUEUED:
            log.warning("job %s is %s, not queued: not run again", job.pk, job.state)
            return job
        now = timezone.now()
        job.state, job.worker, job.attempts = Job.State.RUNNING, me.name, job.attempts + 1
        job.started_at = job.heartbeat_at = now
        job.save(update_fields=["state", "worker", "attempts", "started_at", "heartbeat_at"])
    beating = _Heartbeat(job.pk, me.name) if (heartbeat if heartbeat is not None
                                              else current_worker is not None) else None
    ctx = JobContext(job, me.name)
    state, result, error = Job.State.DONE, {}, ""
    try:
        result = kind(job.kind).run(ctx, **job.params)
    except JobFailedError as exc:
        state, result, error = Job.State.FAILED, exc.result, str(exc)
    except Exception as exc:
        log.exception("job %s (%s) failed", job.pk, job.kind)
        state, error = Job.State.FAILED, f"{type(exc).__name__}: {exc}"
    finally:
        if beating is not None:
            beating.stop()
    claimed = Job.objects.get(pk=job.pk).result
    ended: dict[str, Any] = {"state": state, "result": {**claimed, **result}, "error": error,
                             "finished_at": timezone.now()}
    if state == Job.State.DONE:
        ended["fraction"] = 1.0  # a failed job keeps how far it got
    Job.objects.filter(pk=job.pk, worker=me.name).update(**ended)
    job.refresh_from_db()
    return job


class _Heartbeat:
    """A thread renewing a running job's lease every quarter lease."""

    def __init__(self, job_id: int, worker: str) -> None:
        self.job_id, self.worker = job_id, worker
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True,
                                        name=f"tryg-job-{job_id}-heartbeat")
        self._thread.start()

    def _beat(self) -> None:
        try:
            while not self._stop.wait(lease().total_seconds() / 4):
                Job.objects.filter(pk=self.job_id, worker=self.worker,
                                   state=Job.State.RUNNING).update(heartbeat_at=timezone.now())
        finally:
            connection.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


# ----------------------------------------------------------------------------- taking back
def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (a zombie counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def stale(job: Job, now: datetime.datetime, *,
          alive: Callable[[int], bool] = process_alive) -> bool:
    """Whether running ``job`` has lost its worker: a dead process on this host, or no
    heartbeat within the lease."""
    if job.heartbeat_at is None or job.heartbeat_at < now - lease():
        return True
    found = parse_worker(job.worker)
    if found is None:
        return False
    host, pid = found
    return host == socket.gethostname()[:40] and pid != os.getpid() and not alive(pid)


def reap(now: datetime.datetime | None = None, *,
         alive: Callable[[int], bool] = process_alive) -> list[int]:
    """Take back the running jobs whose worker is gone (:func:`stale`); the ids taken back."""
    now = now or timezone.now()
    taken = []
    for job in Job.objects.filter(state=Job.State.RUNNING):
        if stale(job, now, alive=alive) and _take_back(job.pk, job.worker, now):
            taken.append(job.pk)
    return taken


def _take_back(job_id: int, worker: str, now: datetime.datetime) -> bool:
    from tryg.runs import services as runs
    from tryg.runs.models import IndexRun

    transactional = _transactional()
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id, worker=worker,
                                                     state=Job.State.RUNNING).first()
        if job is None:
            return False  # finished meanwhile, or another worker took it back
        run_id = job.result.get("run")
        if run_id is not None:
            run = IndexRun.objects.filter(pk=run_id, status=IndexRun.Status.RUNNING).first()
            if run is not None:
                runs.abandon(run, f"the worker running it ({worker}) stopped")
        _forget_task(job.task_id, now)
        limit = kind(job.kind).max_attempts if job.kind else 1
        if job.attempts < limit:
            job.state, job.worker = Job.State.QUEUED, ""
            job.step = f"queued again: worker {worker} stopped"
            job.fraction, job.result = 0.0, {}
        else:
            job.state, job.finished_at = Job.State.FAILED, now
            job.error = f"its worker stopped {job.attempts} time(s); not tried again"
        job.save()
        if job.state == Job.State.QUEUED and transactional:
            _submit(job)
    if job.state == Job.State.QUEUED and not transactional:
        _submit(job)
    log.warning("job %s taken back from worker %s (%s)", job.pk, worker, job.state)
    return True


def _forget_task(task_id: str, now: datetime.datetime) -> None:
    """Mark the dead worker's task as failed in the database backend, so it is not shown as
    running for ever."""
    if not task_id:
        return
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(id=task_id, status="RUNNING").update(
        status="FAILED", finished_at=now)


# ------------------------------------------------------------------------------------ workers
def beat(worker: WorkerIdentity, now: datetime.datetime | None = None) -> None:
    """Record that ``worker`` is alive."""
    WorkerBeat.objects.update_or_create(
        worker=worker.name, defaults={"host": worker.host, "pid": worker.pid,
                                      "seen_at": now or timezone.now()})


def last_worker_seen() -> datetime.datetime | None:
    """When any worker last gave a sign of life (None: never)."""
    found = WorkerBeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
    return found
