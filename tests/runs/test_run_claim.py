"""Runs started from the pages go one at a time, also when two requests come at the same
moment: the check for a run in progress and the new run's row are one step."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from tryg import index
from tryg.runs import services
from tryg.runs.models import IndexRun


@pytest.mark.django_db(transaction=True)
def test_two_claims_at_the_same_moment_start_one_run(monkeypatch: pytest.MonkeyPatch) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("on SQLite, IMMEDIATE transactions serialise the claims; the in-memory "
                    "test database cannot show two connections racing")
    spec = index.load_spec("dk-tryghedsindeks")
    checked = services.running_run
    checking: list[int] = []  # one entry per claim that has made its check
    finished: list[int] = []  # one entry per claim that has returned or raised

    def other_waits_for_the_lock() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                           "AND NOT granted")
            row = cursor.fetchone()
            return row is not None and row[0] > 0

    def held_check() -> IndexRun | None:
        """The check, then the window held open (no clock) until the other claim waits for
        the lock (one at a time), is in the window too (the race), or is over."""
        found = checked()
        checking.append(1)
        while not (len(checking) == 2 or finished or other_waits_for_the_lock()):
            pass
        return found

    monkeypatch.setattr(services, "running_run", held_check)
    start = threading.Barrier(2)
    outcome: list[Any] = []

    def claim() -> None:
        try:
            start.wait()
            outcome.append(services._claim_run(spec, None, one_at_a_time=True))
        except services.RunInProgressError as exc:
            outcome.append(exc)
        finally:
            connections.close_all()
            finished.append(1)

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    runs = [o for o in outcome if isinstance(o, IndexRun)]
    refused = [o for o in outcome if isinstance(o, services.RunInProgressError)]
    assert len(runs) == 1 and len(refused) == 1, outcome
    assert refused[0].running.pk == runs[0].pk
    assert IndexRun.objects.filter(status=IndexRun.Status.RUNNING).count() == 1


@pytest.mark.django_db
def test_a_claim_without_one_at_a_time_does_not_wait_for_others() -> None:
    spec = index.load_spec("dk-tryghedsindeks")
    first = services._claim_run(spec, None, one_at_a_time=True)
    with pytest.raises(services.RunInProgressError) as refused:
        services._claim_run(spec, None, one_at_a_time=True)
    assert refused.value.running.pk == first.pk
    second = services._claim_run(spec, None, one_at_a_time=False)  # the command line's runs
    assert IndexRun.objects.filter(status=IndexRun.Status.RUNNING).count() == 2
    assert second.pk != first.pk
