"""Two imports of one file at the same moment store it once, on SQLite and on PostgreSQL.

Two real ``tryg import register`` processes against one database (a file database in the
SQLite run, the test database in the PostgreSQL run). The race is made certain, not timed:
each process, once it has read and checked the file (the duplicate check before reading
found nothing) and right before its transaction, says READY and waits for a line on its
stdin; the test answers GO to both only when both are ready. Both then write at once; the
batch row's unique checksum lets one through, and the other reports "already imported"
having written nothing. Two different files with counts for the same area × quarter ×
offence racing: one is stored, the other refused (it sees the first's counts) and writes
nothing.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count
from test_import_atomic import AREAS, cli, site_env

from tryg.accounts.models import AuditEvent
from tryg.imports.models import ImportBatch
from tryg.police_register.models import RegisterCount

# Waits before its transaction until the test says GO (stdin): both processes then race.
AT_THE_LINE = """
import sys
from tryg.cli.site import setup_site
setup_site()
import tryg.imports.register as register
checked = register._check
def check_then_wait(data):
    plan = checked(data)
    print("READY", flush=True)
    assert sys.stdin.readline().strip() == "GO"
    return plan
register._check = check_then_wait
from tryg.cli.main import main
sys.argv = ["tryg", "import", "register", *sys.argv[1:]]
main()
"""


def counts_file(path: Path, quarters: int = 40, scale: int = 1) -> Path:
    lines = ["area_code,quarter,offence,count"]
    for year in range(2000, 2000 + quarters // 4):
        for q in range(1, 5):
            for area in ("S1", "S2"):
                for offence in ("vold", "tyveri", "indbrud"):
                    lines.append(f"{area},{year}Q{q},{offence},{scale * ((year + q) % 17)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def race(env: dict[str, str], *files: Path) -> list[tuple[int, str, str]]:
    """Import each file in its own process, released together once all are at the line;
    (exit code, stdout, stderr) of each."""
    processes = [subprocess.Popen([sys.executable, "-c", AT_THE_LINE, str(f)], env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for f in files]
    watchdogs = [threading.Timer(300, p.kill) for p in processes]  # a hang fails the test
    for w in watchdogs:
        w.start()
    try:
        for p in processes:
            assert p.stdout is not None
            line = p.stdout.readline()
            assert line.strip() == "READY", (line, p.stderr and p.stderr.read())
        for p in processes:
            assert p.stdin is not None
            p.stdin.write("GO\n")
            p.stdin.flush()
        results = []
        for p in processes:
            out, err = p.communicate(timeout=300)
            results.append((p.returncode, out, err))
        return results
    finally:
        for w in watchdogs:
            w.cancel()
        for p in processes:
            if p.poll() is None:
                p.kill()


def database_url() -> str:
    if settings.TEST_DATABASE != "postgres":
        return ""  # the site's SQLite file in its data folder
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/" \
           f"{db['NAME']}"


def site_with_areas(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    site = tmp_path / "site"
    site.mkdir()
    env = site_env(site, database_url())
    (tmp_path / "areas.csv").write_text(AREAS, encoding="utf-8")
    done = cli(env, "import", "areas", str(tmp_path / "areas.csv"))
    assert done.returncode == 0, done.stderr
    return site, env


def stored_counts(site: Path) -> list[tuple[int, int]]:
    """(import, rows) of every register import's counts."""
    if settings.TEST_DATABASE == "postgres":
        return sorted((b, n) for b, n in RegisterCount.objects.values("import_batch")
                      .annotate(n=Count("id")).values_list("import_batch", "n"))
    with sqlite3.connect(site / "tryg.sqlite3") as db:
        return sorted(db.execute("SELECT import_batch_id, count(*) FROM crime_registercount "
                                 "GROUP BY import_batch_id").fetchall())


@pytest.mark.django_db(transaction=True)
def test_one_file_imported_twice_at_once_is_stored_once(tmp_path: Path) -> None:
    site, env = site_with_areas(tmp_path)
    path = counts_file(tmp_path / "counts.csv")
    rows = 40 * 2 * 3

    results = race(env, path, path)

    assert [code for code, _, _ in results] == [0, 0], results
    said = sorted(out.strip() for _, out, _ in results)
    imported = [s for s in said if "imported as #" in s]
    duplicate = [s for s in said if "already imported" in s]
    assert len(imported) == 1 and len(duplicate) == 1, said
    if settings.TEST_DATABASE == "postgres":
        batches = list(ImportBatch.objects.filter(kind="register"))
        assert len(batches) == 1
        assert f"imported as #{batches[0].pk}" in imported[0]
        assert f"(import #{batches[0].pk}, same SHA-256)" in duplicate[0]
        assert RegisterCount.objects.count() == rows
        assert RegisterCount.objects.filter(import_batch=batches[0]).count() == rows
        assert AuditEvent.objects.filter(action="import", target="register: counts.csv") \
            .count() == 1
    else:
        with sqlite3.connect(site / "tryg.sqlite3") as db:
            ids = db.execute("SELECT id FROM imports_importbatch WHERE kind = 'register'"
                                 ).fetchall()
            stored = db.execute("SELECT count(*), count(DISTINCT import_batch_id) FROM "
                                "crime_registercount").fetchone()
            events = db.execute("SELECT count(*) FROM accounts_auditevent WHERE action = "
                                "'import' AND target = 'register: counts.csv'").fetchone()
        assert len(ids) == 1
        assert f"(import #{ids[0][0]}, same SHA-256)" in duplicate[0]
        assert stored == (rows, 1)
        assert events == (1,)


@pytest.mark.django_db(transaction=True)
def test_two_files_over_the_same_counts_at_once_store_one(tmp_path: Path) -> None:
    site, env = site_with_areas(tmp_path)
    files = [counts_file(tmp_path / "counts.csv"),
             counts_file(tmp_path / "corrected.csv", scale=2)]

    results = race(env, *files)

    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, _, err in results if code == 2)
    assert "nothing written" in refused and "is already stored (import #" in refused
    stored = next(out for code, out, _ in results if code == 0)
    [(batch, rows)] = stored_counts(site)
    assert f"imported as #{batch}: 240 counts" in stored and rows == 40 * 2 * 3
