"""Running ``tryg`` as a user does: a subprocess with the environment of the test run cleaned
(no test settings, no PostgreSQL URL), and a free port to serve on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from tryg.cli.site import SERVED_ON

TRYG = Path(sys.executable).parent / "tryg"


def env() -> dict[str, str]:
    """The environment without the test suite's Django and tryg settings."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "TRYG_")) and k != "DATABASE_URL"}


def tryg(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(TRYG), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, check=False, env=env())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_serving(command: Sequence[str | Path], *, env: Mapping[str, str],
                  cwd: Path | None = None, log: Path | None = None,
                  timeout: float = 300) -> subprocess.Popen[str]:
    """Start ``tryg serve ...`` and return once it listens: it prints a line beginning with
    :data:`tryg.cli.site.SERVED_ON` after binding its port, so nothing polls or reads a clock.
    A watchdog kills a process that never prints it (the test then fails, with its output).
    stderr goes to ``log`` (else with stdout); stdout is drained in the background."""
    errors = log.open("w", encoding="utf-8") if log is not None else None
    process = subprocess.Popen([str(c) for c in command], env=dict(env), cwd=cwd, text=True,
                               stdout=subprocess.PIPE,
                               stderr=errors if errors is not None else subprocess.STDOUT)
    if errors is not None:
        errors.close()  # the child holds its own copy
    assert process.stdout is not None
    watchdog = threading.Timer(timeout, process.kill)
    watchdog.start()
    seen: list[str] = []
    try:
        for line in process.stdout:
            seen.append(line)
            if line.startswith(SERVED_ON):
                break
        else:
            code = process.wait()
            logged = log.read_text(errors="replace") if log is not None else ""
            raise RuntimeError(f"{command!r} exited with {code} before serving:\n"
                               f"{''.join(seen)[-3000:]}{logged[-3000:]}")
    finally:
        watchdog.cancel()
    drain = threading.Thread(target=_drain, args=(process.stdout,), daemon=True)
    drain.start()
    _drains[process.pid] = drain
    return process


#: The thread reading each served process's stdout (so its pipe never fills), by pid.
_drains: dict[int, threading.Thread] = {}


def _drain(stream: IO[str]) -> None:
    with stream:
        stream.read()


def stop(process: subprocess.Popen[str]) -> None:
    """Terminate a served site (kill it if it does not stop)."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)
    drain = _drains.pop(process.pid, None)
    if drain is not None:
        drain.join(timeout=30)  # it ends at the end of the output, and closes the pipe
