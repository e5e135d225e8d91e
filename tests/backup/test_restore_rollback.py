"""``tryg restore`` whose result would not match the archive's manifest: refused, and the site
left exactly as it was (its tables and stored files), on SQLite and on PostgreSQL.

The database is put in place only once its tables match the manifest (SQLite: the copy is
checked before it replaces the site's; PostgreSQL: the restore and the check are one
transaction), and the stored files are removed again when anything fails.
"""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
from pathlib import Path

import psycopg
import pytest

from jobs.ops_sites import fresh_postgres, tryg, tryg_env
from tryg.backup.tables import TableSum, postgres_sums, sqlite_sums

MAKE = ("from tryg.accounts.models import Organisation; "
        "from django.core.files.base import ContentFile; "
        "from django.core.files.storage import default_storage; "
        "Organisation.objects.create(name='Aalborg Kommune', kind='municipality'); "
        "default_storage.save('exports/kept.txt', ContentFile(b'a stored file'))")


def _sums(env: dict[str, str]) -> dict[str, TableSum]:
    if env["DATABASE_URL"]:
        with psycopg.connect(env["DATABASE_URL"]) as conn:
            return postgres_sums(conn.cursor())
    db = sqlite3.connect(Path(env["TRYG_DATA_DIR"]) / "tryg.sqlite3")
    try:
        return sqlite_sums(db.cursor())
    finally:
        db.close()


def _stored(env: dict[str, str]) -> list[str]:
    uploads = Path(env["TRYG_DATA_DIR"]) / "uploads"
    return sorted(str(p.relative_to(uploads)) for p in uploads.rglob("*")
                  if p.is_file() and p.relative_to(uploads).parts[0] != "tmp")


def _with_manifest(archive: Path, target: Path, change: dict[str, object]) -> Path:
    """``archive`` copied to ``target`` with its manifest's entries replaced by ``change``
    (``"tables.x"``: a table's sum; ``"files.x"``: a file's digest)."""
    with tarfile.open(archive, "r:gz") as tar, tarfile.open(target, "w:gz") as out:
        for member in tar.getmembers():
            stream = tar.extractfile(member)
            assert stream is not None
            data = stream.read()
            if member.name == "manifest.json":
                manifest = json.loads(data)
                for key, value in change.items():
                    part, name = key.split(".", 1)
                    manifest[part][name] = value
                data = json.dumps(manifest).encode()
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return target


@pytest.mark.slow
@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"])
def test_a_restore_that_does_not_match_leaves_the_site_as_it_was(tmp_path: Path,
                                                                 vendor: str) -> None:
    urls = ((fresh_postgres("rollback_old"), fresh_postgres("rollback_new"))
            if vendor == "postgresql" else ("", ""))
    old = tryg_env(tmp_path / "old", DATABASE_URL=urls[0])
    new = tryg_env(tmp_path / "new", DATABASE_URL=urls[1])
    for env in (old, new):
        done = tryg("manage", "migrate", env=env)
        assert done.returncode == 0, done.stderr[-2000:]
    made = tryg("manage", "shell", "-c", MAKE, env=old)
    assert made.returncode == 0, made.stderr[-2000:]
    archive = tmp_path / "site.tar.gz"
    made = tryg("backup", str(archive), env=old)
    assert made.returncode == 0, made.stderr[-2000:]
    before = _sums(new)
    assert before["accounts_organisation"].rows == 0 and _stored(new) == []
    wrong_table = _with_manifest(archive, tmp_path / "table.tar.gz", {
        "tables.accounts_organisation": {"rows": 1, "sha256": "0" * 64}})
    wrong_file = _with_manifest(archive, tmp_path / "file.tar.gz", {
        "files.exports/kept.txt": "0" * 64})
    for case, words in ((wrong_table, "table accounts_organisation"),
                        (wrong_file, "file exports/kept.txt")):
        done = tryg("restore", str(case), env=new)
        assert done.returncode == 1, (case, done.stdout, done.stderr[-2000:])
        assert words in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert "nothing was restored" in done.stderr, done.stderr
        assert _sums(new) == before, case  # the database as it was
        assert _stored(new) == [], case  # and no stored file left behind
    done = tryg("restore", str(archive), env=new)  # the site can still take the good archive
    assert done.returncode == 0, done.stderr[-2000:]
    assert _sums(new)["accounts_organisation"] == _sums(old)["accounts_organisation"]
    assert _stored(new) == ["exports/kept.txt"]
