"""Where uploads wait while they are checked: a folder per process in the data folder.

An upload is written to disk while it arrives (Django's upload handler) and copied under its
own name for the readers; both live in ``<data folder>/uploads/tmp/<pid>-<random>/``, never in
the system's temporary folder. They are removed when the request ends, whatever happened;
a process that is killed cannot do that, so every process sweeps the folder when it starts.

Several processes share the data folder (server workers, a ``tryg import`` on the side, even
several machines on a shared disk), so the sweep must never take a live upload. Each process
holds an exclusive lock on ``<name>.lock`` beside its folder for as long as it lives, and the
operating system releases it when the process dies, however it dies. The sweep removes a
folder only once it can take that lock itself. Process ids are not used: they are reused, and
mean nothing across containers.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from pathlib import Path

from filelock import FileLock, Timeout

LOCK_SUFFIX = ".lock"
#: Loose files (not in a process folder) older than this are removed by the sweep.
STRAY_AGE = 24 * 3600.0

_held: dict[Path, tuple[int, Path, FileLock]] = {}


def process_folder(base: Path) -> Path:
    """This process's folder under ``base``, made (and locked) on first use."""
    base = base.resolve()
    pid = os.getpid()
    current = _held.get(base)
    if current is not None and current[0] == pid and current[1].is_dir():
        return current[1]
    base.mkdir(parents=True, exist_ok=True)
    name = f"{pid}-{secrets.token_hex(6)}"
    lock = FileLock(base / f"{name}{LOCK_SUFFIX}", thread_local=False)
    lock.acquire(timeout=0)  # a new name: nobody else holds it
    folder = base / name
    folder.mkdir()  # only after the lock, so a sweep never sees it unlocked
    _held[base] = (pid, folder, lock)
    return folder


def sweep(base: Path, *, now: float | None = None) -> list[Path]:
    """Remove what dead processes left under ``base``: folders whose lock is free, and loose
    files older than a day at ``now`` (seconds since the epoch; default: the clock's time).
    Returns what was removed."""
    now = time.time() if now is None else now
    base = base.resolve()
    if not base.is_dir():
        return []
    mine = _held.get(base)
    own = mine[1] if mine is not None and mine[0] == os.getpid() else None
    removed: list[Path] = []
    for entry in sorted(base.iterdir()):
        if entry == own or (own is not None and entry.name == own.name + LOCK_SUFFIX):
            continue
        if entry.name.endswith(LOCK_SUFFIX):
            folder = entry.with_name(entry.name[: -len(LOCK_SUFFIX)])
            lock = FileLock(entry, thread_local=False)
            try:
                lock.acquire(timeout=0)
            except Timeout:
                continue  # its process is alive
            try:
                if folder.exists():
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(folder)
            finally:
                lock.release()
                entry.unlink(missing_ok=True)
        elif entry.is_dir():
            if not entry.with_name(entry.name + LOCK_SUFFIX).exists():
                # No lock beside it: its sweep was cut short. Nobody can own it.
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
        elif now - entry.stat().st_mtime > STRAY_AGE:
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed
