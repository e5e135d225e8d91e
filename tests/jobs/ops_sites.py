"""Helpers of the jobs and operations tests: Redis, a PostgreSQL database of their own, and
tryg processes (servers, workers) started as a production site starts them."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn, TypeVar

import pytest
import requests

T = TypeVar("T")
HERE = Path(__file__).resolve().parent
PASSWORD = "seeded-analyst-pw-1"
#: The Redis database the tests use (5–9 are this project's; CI's Redis is its own).
REDIS_URL = os.environ.get("TRYG_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


def missing(reason: str) -> NoReturn:
    """Skip locally; fail under CI, where Redis and PostgreSQL are started by .ci/run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture()
def redis_url() -> str:
    """A reachable, emptied Redis database."""
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.flushdb()
    except redis.RedisError as exc:
        missing(f"Redis not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL


def fresh_postgres(suffix: str) -> str:
    """The URL of a new empty database beside ``TRYG_TEST_POSTGRES_URL``'s (dropped first)."""
    import psycopg

    base = os.environ.get("TRYG_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
    head, _, name = base.rpartition("/")
    target = f"{name}_{suffix}"
    try:
        with psycopg.connect(base, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{target}"')
    except psycopg.Error as exc:
        missing(f"PostgreSQL not reachable at {base}: {exc}")
    return f"{head}/{target}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def poll(check: Callable[[], T | None], what: str, attempts: int = 600) -> T:
    """``check()`` until it gives a value, at most ``attempts`` times (each one a request or a
    query, a twentieth of a second apart so as not to spin); fails naming ``what``."""
    for _ in range(attempts):
        found = check()
        if found is not None:
            return found
        time.sleep(0.05)
    pytest.fail(f"gave up waiting for {what}")


def tryg_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TRYG_", "DJANGO_", "DATABASE_URL"))}
    env.update({"TRYG_DATA_DIR": str(data_dir),
                "TRYG_SECRET_KEY": "tryg-e2e-not-a-secret-" + "x" * 30,
                "TRYG_ALLOWED_HOSTS": "127.0.0.1,localhost", "TRYG_LANGUAGE": "en", **extra})
    return env


def tryg(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tryg.cli.main", *args], env=env,
                          capture_output=True, text=True, check=False, timeout=600)


def seed(env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, str(HERE / "seed_site.py"), PASSWORD], env=env,
                          capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


class Processes:
    """Child processes of a test, ended (SIGTERM, then SIGKILL) when it ends."""

    def __init__(self, logs: Path) -> None:
        self.started: list[subprocess.Popen[bytes]] = []
        self.logs = logs
        self.logs.mkdir(parents=True, exist_ok=True)

    def start(self, *args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        """``tryg *args``; its output goes to a file in the logs folder."""
        log = self.logs / f"{len(self.started)}-{args[0]}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "tryg.cli.main", *args], env=env,
                                    stdout=out, stderr=subprocess.STDOUT)
        self.started.append(proc)
        return proc

    def output(self) -> str:
        return "\n".join(f"== {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                         for p in sorted(self.logs.glob("*.log")))

    def serve(self, port: int, env: dict[str, str]) -> str:
        """A ``tryg serve`` (waitress, no worker of its own) answering on ``port``."""
        self.start("serve", "--no-worker", "--port", str(port), "--threads", "4", env=env)
        base = f"http://127.0.0.1:{port}"
        poll(lambda: _answers(f"{base}/healthz"), f"the server on port {port}")
        return base

    def end(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.started:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _answers(url: str) -> bool | None:
    try:
        return True if requests.get(url, timeout=5).status_code == 200 else None
    except requests.ConnectionError:
        return None


@pytest.fixture()
def processes(tmp_path: Path) -> Iterator[Processes]:
    started = Processes(tmp_path / "logs")
    yield started
    started.end()


def log_in(session: requests.Session, base: str) -> None:
    page = session.get(f"{base}/login/", timeout=30).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    answer = session.post(f"{base}/login/", data={
        "csrfmiddlewaretoken": token.group(1), "username": "analyst", "password": PASSWORD},
        timeout=30, allow_redirects=False)
    assert answer.status_code == 302, answer.text[-500:]


def form_fields(page: str, action: str) -> dict[str, str]:
    """The hidden fields (CSRF token, request key) of the form posting to ``action``."""
    form = page.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
