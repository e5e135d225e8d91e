"""Write a file all at once or not at all.

A results file that is half written (a full disk, a killed process, an error while
serialising) is worse than none: it looks like a result. So the bytes go to a temporary file
in the same folder (same file system, so the final rename is atomic), are flushed to disk,
and only then replace the target with :func:`os.replace`. On any failure the temporary file
is removed and the target is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; return the path written."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    # os.open with 0o666 lets the process umask decide the final permissions, as for any
    # ordinary file (tempfile would make it private, 0o600).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return target
