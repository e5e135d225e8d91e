"""Two app servers and one worker on one PostgreSQL database and one Redis, as in production.

An index run started on server A runs on the worker; its progress shows on server B; the
worker, killed with SIGKILL half-way (held at a known step by the jobs' test hook), leaves no
result rows, and a new worker takes the job back and completes it; publishing the run changes
the cached public pages of both servers at once.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

import psycopg
import pytest
import requests

from jobs.ops_sites import (
    Processes,
    form_fields,
    free_port,
    fresh_postgres,
    log_in,
    poll,
    seed,
    tryg_env,
)

SPEC = "dk-tryghedsindeks"


def _job_page(session: requests.Session, url: str) -> tuple[str, str, str]:
    """(state, step, page) of a job's page."""
    page = session.get(url, timeout=30).text
    state = re.search(r'data-state="([a-z]+)"', page)
    step = re.search(r'<span class="job-step">([^<]*)</span>', page)
    assert state is not None, page[-1000:]
    return state.group(1), step.group(1) if step else "", page


def _published_run_shown(base: str) -> int | None:
    """The run the public methods page names (an anonymous request: the page cache)."""
    page = requests.get(f"{base}/methods/", timeout=30).text
    found = re.search(r"published index run #(\d+)", page)
    return int(found.group(1)) if found else None


@pytest.mark.slow
def test_a_run_started_on_one_server_runs_on_the_worker_and_survives_a_kill(
        tmp_path: Path, redis_url: str, processes: Processes) -> None:
    database = fresh_postgres("e2e")
    common = {"DATABASE_URL": database, "TRYG_CACHE_URL": redis_url,
              "TRYG_WARM_ON_PUBLISH": "0"}
    seed(tryg_env(tmp_path / "seed", **common))
    with psycopg.connect(database) as db:
        first = db.execute("SELECT id FROM runs_indexrun WHERE published_at IS NOT NULL"
                           ).fetchone()
    assert first is not None
    # each server has a data folder of its own: nothing they share is on their disks
    a = processes.serve(free_port(), tryg_env(tmp_path / "a", **common))
    b = processes.serve(free_port(), tryg_env(tmp_path / "b", **common))
    assert _published_run_shown(a) == _published_run_shown(b) == first[0]

    release = tmp_path / "release"  # never made: the first worker stays at the step
    paused = processes.start("worker", env=tryg_env(
        tmp_path / "w1", **common, TRYG_JOB_PAUSE_STEP="storing",
        TRYG_JOB_PAUSE_FILE=str(release)))

    session = requests.Session()
    log_in(session, a)
    runs = session.get(f"{a}/analyse/runs/", timeout=30).text
    fields = form_fields(runs, "/analyse/runs/new/")
    assert set(fields) == {"csrfmiddlewaretoken", "request_key"}
    form = {**fields, "spec": SPEC, "survey": "on"}
    answer = session.post(f"{a}/analyse/runs/new/", data=form, timeout=30,
                          allow_redirects=False)
    assert answer.status_code == 302 and "/analyse/jobs/" in answer.headers["Location"]
    job_path = answer.headers["Location"]
    # the same form posted again (a double click, a reload) is the same job
    again = session.post(f"{a}/analyse/runs/new/", data=form, timeout=30,
                         allow_redirects=False)
    assert again.headers["Location"] == job_path

    # server B (the same session: sessions live in the database) shows the worker's progress
    def at_pause() -> str | None:
        state, step, page = _job_page(session, b + job_path)
        assert state in ("queued", "running"), page[-2000:] + processes.output()
        return step if state == "running" and step.startswith("storing") else None

    step = poll(at_pause, "the job to reach its storing step on server B", attempts=2400)
    assert re.fullmatch(r"storing [\d,]+ result rows", step)
    paused.send_signal(signal.SIGKILL)
    paused.wait()
    with psycopg.connect(database) as db:
        (killed_run,) = db.execute("SELECT id FROM runs_indexrun ORDER BY id DESC LIMIT 1"
                                   ).fetchone() or (None,)
        rows = db.execute("SELECT count(*) FROM runs_resultrow WHERE run_id = %s",
                          [killed_run]).fetchone()
        jobs = db.execute("SELECT count(*), min(state) FROM jobs_job").fetchone()
    assert killed_run != first[0] and rows == (0,)  # nothing half-written
    assert jobs == (1, "running")  # one job for the two posts, still marked running

    # a new worker sees the job's worker is gone, takes it back, and completes it
    processes.start("worker", env=tryg_env(tmp_path / "w2", **common))

    def finished() -> tuple[str, str] | None:
        state, _step, page = _job_page(session, b + job_path)
        return (state, page) if state in ("done", "failed") else None

    state, page = poll(finished, "the retried job to finish", attempts=2400)
    assert state == "done", page[-2000:] + processes.output()
    new_run = int(re.search(r"/analyse/runs/(\d+)/", page).group(1))  # type: ignore[union-attr]
    with psycopg.connect(database) as db:
        killed = db.execute("SELECT status, log FROM runs_indexrun WHERE id = %s",
                            [killed_run]).fetchone()
        done = db.execute("SELECT status FROM runs_indexrun WHERE id = %s", [new_run]
                          ).fetchone()
        stored = db.execute("SELECT count(*) FROM runs_resultrow WHERE run_id = %s",
                            [new_run]).fetchone()
        attempts = db.execute("SELECT attempts FROM jobs_job").fetchone()
        killed_rows = db.execute("SELECT count(*) FROM runs_resultrow WHERE run_id = %s",
                                 [killed_run]).fetchone()
    assert killed is not None and killed[0] == "failed" and "stopped" in killed[1]
    assert killed_rows == (0,)
    assert done == ("done",) and stored is not None and stored[0] > 0
    assert attempts == (2,)

    # publishing on B changes the cached pages of both servers at once
    confirm = session.get(f"{b}/analyse/runs/{new_run}/publish/", timeout=30).text
    publish = form_fields(confirm, f"/analyse/runs/{new_run}/publish/")
    published = session.post(f"{b}/analyse/runs/{new_run}/publish/", data=publish,
                             timeout=30, allow_redirects=False)
    assert published.status_code == 302
    assert _published_run_shown(a) == new_run
    assert _published_run_shown(b) == new_run
