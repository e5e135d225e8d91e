"""``tryg restore`` of a damaged or crafted archive: a clear error, and the site untouched.

Every check is made before the database is written: an archive that is not a gzip'd tar,
lacks or garbles its manifest, holds no database or a file that is none, or names a stored
file outside the storage is refused with a sentence, not a traceback; and a site's database
is not replaced by an archive that is refused afterwards.
"""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
from pathlib import Path

import pytest

from jobs.ops_sites import tryg, tryg_env

MANIFEST = {"format": "tryg-backup/1", "vendor": "sqlite", "created": "2026-01-01T00:00:00",
            "tables": {}, "files": {}}


def _archive(path: Path, members: list[tuple[str, bytes]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _sqlite_file(folder: Path) -> bytes:
    """A small SQLite database (a real one, so only the file names give the archive away)."""
    path = folder / "tiny.sqlite3"
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    return path.read_bytes()


def _tables(site: Path) -> int:
    db = sqlite3.connect(site / "tryg.sqlite3")
    try:
        return int(db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                              "AND name LIKE 'walks_%'").fetchone()[0])
    finally:
        db.close()


@pytest.mark.slow
def test_damaged_and_crafted_archives_are_refused_before_anything_is_written(
        tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = tryg_env(site, DATABASE_URL="")
    made = tryg("manage", "migrate", env=env)  # a migrated, empty site
    assert _tables(site) > 0, made.stderr[-2000:]
    manifest = json.dumps(MANIFEST).encode()
    gz = tmp_path / "plain.tar.gz"
    gz.write_bytes(b"\x1f\x8b" + b"junk" * 50)
    cases = {
        "not a gzip'd tar": (gz, "is not a readable tryg backup"),
        "no manifest": (_archive(tmp_path / "a.tar.gz", [("x", b"1")]),
                        "is not a readable tryg backup"),
        "manifest not JSON": (_archive(tmp_path / "b.tar.gz", [("manifest.json", b"{")]),
                              "is not a readable tryg backup"),
        "manifest a list": (_archive(tmp_path / "c.tar.gz", [("manifest.json", b"[1]")]),
                            "not a tryg backup"),
        "manifest damaged": (_archive(tmp_path / "d.tar.gz", [("manifest.json", json.dumps(
            {**MANIFEST, "tables": {"t": {"rows": "many"}}}).encode())]),
            "the manifest is damaged"),
        "no database": (_archive(tmp_path / "e.tar.gz", [("manifest.json", manifest)]),
                        "holds no database.sqlite3"),
        "not a database": (_archive(tmp_path / "f.tar.gz", [
            ("manifest.json", manifest), ("database.sqlite3", b"not a database")]),
            "is not a sqlite database file"),
        "a file outside the storage": (_archive(tmp_path / "g.tar.gz", [
            ("manifest.json", json.dumps({**MANIFEST, "files": {"../../evil.txt": "0"}})
             .encode()), ("database.sqlite3", _sqlite_file(tmp_path)),
            ("files/../../evil.txt", b"x")]), "leads outside the stored files"),
        "files not in the manifest": (_archive(tmp_path / "h.tar.gz", [
            ("manifest.json", manifest), ("database.sqlite3", _sqlite_file(tmp_path)),
            ("files/exports/extra.txt", b"x")]), "do not match the manifest"),
    }
    for case, (archive, words) in cases.items():
        done = tryg("restore", str(archive), env=env)
        assert done.returncode == 1, (case, done.stderr[-2000:])
        assert "Traceback" not in done.stderr and words in done.stderr, (case, done.stderr)
        assert _tables(site) > 0, case  # the site's database was not replaced
    assert not (tmp_path / "evil.txt").exists() and not (site / "evil.txt").exists()
