"""Upload folders per process: what a killed process left is swept, a live one's never is.

Real processes, really killed (SIGKILL: no clean-up code runs), and no waiting on the clock:
the child says when its folder is made, and is waited for after the kill.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from tryg.cli.main import tryg
from tryg.imports.tempfiles import LOCK_SUFFIX, STRAY_AGE, process_folder, sweep

CHILD = """
import sys
from pathlib import Path
from tryg.imports.tempfiles import process_folder
folder = process_folder(Path(sys.argv[1]))
(folder / "tmpabc.upload.xlsx").write_bytes(b"half an upload")
print(folder, flush=True)
sys.stdin.read()
"""


def start_child(base: Path) -> tuple[subprocess.Popen[str], Path]:
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(base)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    return child, Path(child.stdout.readline().strip())


def kill(child: subprocess.Popen[str]) -> None:
    """SIGKILL (no clean-up code runs), then wait for it and close its pipes."""
    if child.poll() is None:
        os.kill(child.pid, signal.SIGKILL)
    child.communicate()


def test_a_killed_process_upload_is_swept_and_a_live_one_kept(tmp_path: Path) -> None:
    base = tmp_path / "tmp"
    mine = process_folder(base)
    (mine / "mine.upload").write_bytes(b"x")
    live, live_folder = start_child(base)
    killed, killed_folder = start_child(base)
    try:
        assert live_folder.parent == base.resolve() and killed_folder.is_dir()
        assert sweep(base) == []  # everyone is alive
        kill(killed)
        assert sweep(base) == [killed_folder]
        assert not killed_folder.exists()
        assert not killed_folder.with_name(killed_folder.name + LOCK_SUFFIX).exists()
        assert (live_folder / "tmpabc.upload.xlsx").exists() and (mine / "mine.upload").exists()
    finally:
        kill(live)
        kill(killed)
    assert sweep(base) == [live_folder]
    assert process_folder(base) == mine and mine.is_dir()


def test_orphan_folders_and_old_loose_files_are_swept(tmp_path: Path) -> None:
    base = tmp_path / "tmp"
    orphan = base / "123-abc"  # no lock file beside it
    orphan.mkdir(parents=True)
    (orphan / "tmp.upload").write_bytes(b"x")
    old, new = base / "old.upload", base / "new.upload"
    old.write_bytes(b"x")
    new.write_bytes(b"x")
    now = 1_800_000_000.0  # the sweep's clock, given: no test reads the wall clock
    os.utime(old, (now - STRAY_AGE - 1, now - STRAY_AGE - 1))  # older than a day
    os.utime(new, (now - STRAY_AGE + 1, now - STRAY_AGE + 1))  # not quite
    assert sorted(sweep(base, now=now)) == sorted([orphan.resolve(), old.resolve()])
    assert new.exists() and not old.exists() and not orphan.exists()


def test_a_site_starting_sweeps_its_upload_folder(tmp_path: Path) -> None:
    """Any process that sets the site up (serve, import, manage, a WSGI worker) sweeps."""
    base = tmp_path / "data" / "uploads" / "tmp"
    killed, folder = start_child(base)
    kill(killed)
    assert folder.is_dir()
    env = {**os.environ, "TRYG_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": "",
           "DJANGO_SETTINGS_MODULE": "tryg.site.settings"}
    subprocess.run([sys.executable, "-c", "from tryg.site import setup; setup()"], env=env,
                   check=True, timeout=120)
    assert base.is_dir() and not folder.exists()


def test_serve_help_lists_the_limits() -> None:
    result = CliRunner().invoke(tryg, ["serve", "--help"])
    assert result.exit_code == 0
    for name in ("TRYG_MAX_UPLOAD_MB", "TRYG_MAX_UNPACKED_MB", "TRYG_MAX_ROWS"):
        assert name in result.output
