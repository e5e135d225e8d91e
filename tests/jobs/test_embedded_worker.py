"""The embedded site: ``tryg serve`` on SQLite starts its own worker, which runs the runs
started from the pages, and ends with the server."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest
import requests

from jobs.ops_sites import Processes, form_fields, free_port, log_in, poll, seed, tryg_env
from tryg.jobs.services import process_alive


@pytest.mark.slow
def test_tryg_serve_runs_jobs_with_a_worker_of_its_own(tmp_path: Path,
                                                       processes: Processes) -> None:
    env = tryg_env(tmp_path / "site", DATABASE_URL="", TRYG_WARM_ON_PUBLISH="0")
    seed(env)
    port = free_port()
    server = processes.start("serve", "--port", str(port), env=env)
    base = f"http://127.0.0.1:{port}"
    session = requests.Session()
    poll(lambda: _up(base), "the server")
    log_in(session, base)
    runs = session.get(f"{base}/analyse/runs/", timeout=30).text
    answer = session.post(f"{base}/analyse/runs/new/", data={
        **form_fields(runs, "/analyse/runs/new/"), "spec": "dk-tryghedsindeks",
        "survey": "on"}, timeout=30, allow_redirects=False)
    job = base + answer.headers["Location"]

    def finished() -> str | None:
        page = session.get(job, timeout=30).text
        state = re.search(r'data-state="([a-z]+)"', page)
        assert state is not None
        return page if state.group(1) in ("done", "failed") else None

    page = poll(finished, "the job", attempts=2400)
    assert 'data-state="done"' in page, page[-2000:] + processes.output()
    jobs = session.get(f"{base}/analyse/jobs/", timeout=30).text
    assert "A worker was last seen" in jobs
    worker = re.search(r"worker (\d+) waiting for jobs",
                       (tmp_path / "logs" / "0-serve.log").read_text())
    assert worker is not None
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    poll(lambda: True if not process_alive(int(worker.group(1))) else None,
         "the worker to end with its server")


def _up(base: str) -> bool | None:
    try:
        return True if requests.get(f"{base}/healthz", timeout=5).status_code == 200 else None
    except requests.ConnectionError:
        return None
