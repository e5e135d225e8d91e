"""A backup to a folder that does not exist is refused with the reason, before the database is
copied (the probe's ``tryg backup /nonexistent/dir/x.tar.gz`` ended in a FileNotFoundError
traceback), and leaves no partial file."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.ops_sites import tryg, tryg_env
from tryg.backup import archive
from tryg.backup.errors import BackupError


def test_the_service_refuses_a_target_in_a_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "backup.tar.gz"
    with pytest.raises(BackupError, match="no-such-folder does not exist"):
        archive.backup(target)
    assert not target.parent.exists()


def test_the_command_says_why_without_a_traceback(tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "backup.tar.gz"
    done = tryg("backup", str(target), env=tryg_env(tmp_path / "site", DATABASE_URL=""))
    assert done.returncode == 1
    assert "Error: cannot write" in done.stderr and "does not exist" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.glob("**/*.partial")) == []
