"""Running ``tryg`` as a user does: a subprocess with the environment of the test run cleaned
(no test settings, no PostgreSQL URL), and a free port to serve on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

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
