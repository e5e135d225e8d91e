"""``tryg worker``: a worker process of the database task backend, with a heartbeat.

The loop is django-tasks-db's own worker (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL,
so any number of workers on any number of machines share one queue). Beside it a thread
records the worker's sign of life (:class:`~tryg.jobs.models.WorkerBeat`, for
``tryg check --deploy``) and takes back the jobs of dead workers (:func:`services.reap`):
once at start, then every few seconds.
"""

from __future__ import annotations

import logging
import threading

from django.db import connection

from tryg.jobs import services

log = logging.getLogger(__name__)


def _keep_watch(me: services.WorkerIdentity, stop: threading.Event, every: float) -> None:
    try:
        while not stop.wait(every):
            try:
                services.beat(me)
                services.reap()
            except Exception:  # a failed beat is retried at the next one
                log.exception("worker heartbeat failed")
    finally:
        connection.close()


def run_worker(*, interval: float = 1.0, batch: bool = False,
               max_tasks: int | None = None) -> None:
    """Run jobs until stopped (SIGINT/SIGTERM end the current job first), or with ``batch``
    until the queue is empty."""
    from django_tasks_db.management.commands.db_worker import Worker

    me = services.WorkerIdentity.here()
    services.current_worker = me
    services.beat(me)
    taken = services.reap()
    if taken:
        log.warning("took back jobs %s from stopped workers", taken)
    every = max(0.5, min(5.0, services.lease().total_seconds() / 4))
    stop = threading.Event()
    watch = threading.Thread(target=_keep_watch, args=(me, stop, every), daemon=True,
                             name="tryg-worker-watch")
    watch.start()
    worker = Worker(queue_names=["default"], interval=interval, batch=batch,
                    backend_name="default", startup_delay=False, max_tasks=max_tasks,
                    worker_id=me.name, excluded_queue_names=[])
    try:
        if not batch:
            worker.configure_signals()
        worker.run()
    finally:
        stop.set()
        services.current_worker = None
