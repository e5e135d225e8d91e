"""``tryg backup`` → ``tryg restore`` into a fresh installation, on SQLite and PostgreSQL.

Each installation is made as a site is: a seeded database and a stored file; the restore goes
into a new data folder (and, on PostgreSQL, a new database). The restored installation has the
same tables (row counts and checksums, read here independently of the restore's own check),
the same stored file, and serves the same public pages.
"""

from __future__ import annotations

import json
import sqlite3
import tarfile
from pathlib import Path

import psycopg
import pytest
import requests

from jobs.ops_sites import Processes, free_port, fresh_postgres, seed, tryg, tryg_env
from tryg.backup.tables import TableSum, postgres_sums, sqlite_sums

PAGES = ("/", "/methods/", "/map/", "/downloads/", "/downloads/results.csv")


def _pages(processes: Processes, env: dict[str, str]) -> dict[str, bytes]:
    base = processes.serve(free_port(), env)
    return {path: requests.get(base + path, timeout=60,
                               headers={"Accept-Language": "en"}).content for path in PAGES}


def _round_trip(tmp_path: Path, processes: Processes, old: dict[str, str],
                new: dict[str, str]) -> dict[str, object]:
    archive = tmp_path / "site.tar.gz"
    made = tryg("backup", str(archive), env=old)
    assert made.returncode == 0, made.stderr[-3000:]
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        names = set(tar.getnames())
    assert "files/exports/seeded.txt" in names
    restored = tryg("restore", str(archive), env=new)
    assert restored.returncode == 0, restored.stderr[-3000:]
    assert "every table and file checked" in restored.stdout
    # a second restore into the now full installation is refused, and changes nothing
    refused = tryg("restore", str(archive), env=new)
    assert refused.returncode != 0 and "empty installation" in refused.stderr
    assert _pages(processes, old) == _pages(processes, new)
    data_dir = Path(new["TRYG_DATA_DIR"])
    assert (data_dir / "uploads" / "exports" / "seeded.txt").read_bytes() == b"a stored file\n"
    return dict(manifest)


def _as_sums(manifest: dict[str, object]) -> dict[str, TableSum]:
    tables = manifest["tables"]
    assert isinstance(tables, dict)
    return {k: TableSum(v["rows"], v["sha256"]) for k, v in tables.items()}


@pytest.mark.slow
def test_backup_and_restore_on_sqlite(tmp_path: Path, processes: Processes) -> None:
    old = tryg_env(tmp_path / "old", DATABASE_URL="")
    new = tryg_env(tmp_path / "new", DATABASE_URL="")
    seed(old)
    manifest = _round_trip(tmp_path, processes, old, new)
    assert manifest["vendor"] == "sqlite"
    sums = []
    for env in (old, new):
        db = sqlite3.connect(Path(env["TRYG_DATA_DIR"]) / "tryg.sqlite3")
        sums.append(sqlite_sums(db.cursor()))
        db.close()
    # the serving wrote sessions? no: anonymous pages only; every table is as it was
    assert sums[0] == sums[1] == _as_sums(manifest)
    assert sums[0]["runs_resultrow"].rows > 1000


@pytest.mark.slow
def test_backup_and_restore_on_postgres(tmp_path: Path, processes: Processes) -> None:
    old_db, new_db = fresh_postgres("backup_old"), fresh_postgres("backup_new")
    old = tryg_env(tmp_path / "old", DATABASE_URL=old_db)
    new = tryg_env(tmp_path / "new", DATABASE_URL=new_db)
    seed(old)
    # a backup cannot go into the other kind of database
    wrong = tryg("backup", str(tmp_path / "pg.tar.gz"), env=old)
    assert wrong.returncode == 0, wrong.stderr
    sqlite_site = tryg_env(tmp_path / "sqlite", DATABASE_URL="")
    mixed = tryg("restore", str(tmp_path / "pg.tar.gz"), env=sqlite_site)
    assert mixed.returncode != 0 and "postgresql database" in mixed.stderr
    manifest = _round_trip(tmp_path, processes, old, new)
    assert manifest["vendor"] == "postgresql"
    sums = []
    for url in (old_db, new_db):
        with psycopg.connect(url) as conn:
            sums.append(postgres_sums(conn.cursor()))
    assert sums[0] == sums[1] == _as_sums(manifest)
    assert sums[0]["runs_resultrow"].rows > 1000
