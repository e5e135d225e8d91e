"""An import that fails at any point leaves the database exactly as it was.

Three ways to fail: a validation error at the last row (nothing but the audit event of the
failure is written), an exception while the rows are being written (rolled back), and the
process killed with SIGKILL half-way through writing (the database rolls the open transaction
back). Every table is compared in full before and after.

The kill is not timed: the importer runs in a subprocess with a progress callback that, after
the first chunk of rows is written inside the transaction, says so and sleeps. The test waits
for that line, checks that the database really has an open write transaction, and kills.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from tryg.accounts.models import AuditEvent
from tryg.imports.areas import import_areas
from tryg.imports.base import CHUNK
from tryg.imports.population import import_population
from tryg.imports.survey import import_survey
from tryg.surveys.models import Response, Wave

Snapshot = dict[str, list[tuple[Any, ...]]]
AREAS = ("code,name,level,parent\n0851,Aalborg,kommune,\nS1,Budolfi,sogn,0851\n"
         "S2,Vor Frue,sogn,0851\n")


def snapshot(cursor: Any, tables: list[str]) -> Snapshot:
    """Every row of every table, in a stable order."""
    out: Snapshot = {}
    for table in sorted(tables):
        cursor.execute(f'SELECT * FROM "{table}"')
        out[table] = sorted((tuple(row) for row in cursor.fetchall()), key=repr)
    return out


def django_snapshot() -> Snapshot:
    with connection.cursor() as cursor:
        return snapshot(cursor, connection.introspection.table_names(cursor))


def survey_text(n: int, *, wave: int = 2022, prefix: str = "r", last_area: str = "S2") -> str:
    lines = ["respondent_id,wave,area_code,weight,q1,q2"]
    for i in range(n):
        area = last_area if i == n - 1 else ("S1" if i % 2 else "S2")
        lines.append(f"{prefix}{i},{wave},{area},{1 + i % 3},{1 + i % 4},{1 + i % 5}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def stored(tmp_path: Path) -> None:
    """Areas and one survey wave already in the database."""
    (tmp_path / "areas.csv").write_text(AREAS, encoding="utf-8")
    assert import_areas(tmp_path / "areas.csv").ok
    (tmp_path / "wave.csv").write_text(survey_text(1500), encoding="utf-8")
    assert import_survey(tmp_path / "wave.csv").ok
    (tmp_path / "pop.csv").write_text("area_code,year,population\nS1,2022,100\n",
                                      encoding="utf-8")
    assert import_population(tmp_path / "pop.csv").ok


LAST_ROW_ERRORS: dict[str, tuple[str, str, Callable[..., Any], dict[str, Any]]] = {
    "survey": ("survey.csv", survey_text(2500, wave=2023, last_area="NOWHERE"),
               import_survey, {}),
    "survey-replace": ("survey.csv", survey_text(2500, prefix="x", last_area="NOWHERE"),
                       import_survey, {"replace": True}),
    "population": ("pop.csv", "area_code,year,population\n" + "".join(
        f"{'S1' if i % 2 else 'S2'},{1990 + i},{i}\n" for i in range(30)) + "S9,2030,1\n",
        import_population, {}),
    "areas": ("more.csv", "code,name,level,parent\n" + "".join(
        f"N{i},Kvarter {i},kvarter,S1\n" for i in range(30)) + "N99,Sidst,kvarter,S9\n",
        import_areas, {}),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(LAST_ROW_ERRORS))
def test_an_error_at_the_last_row_changes_nothing(case: str, stored: None,
                                                  tmp_path: Path) -> None:
    name, text, importer, options = LAST_ROW_ERRORS[case]
    path = tmp_path / "in" / name
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    lines = text.count("\n")
    before = django_snapshot()
    report = importer(path, **options)
    after = django_snapshot()
    assert not report.ok
    assert [p.row for p in report.errors] == [lines]  # the last line of the file
    audit = AuditEvent._meta.db_table
    assert {t: r for t, r in after.items() if t != audit} == \
        {t: r for t, r in before.items() if t != audit}
    new_events = [e for e in after[audit] if e not in before[audit]]
    assert len(new_events) == 1  # only the failure is recorded
    assert AuditEvent.objects.order_by("-id")[0].action == "import_failed"


class BoomError(RuntimeError):
    pass


@pytest.mark.django_db
@pytest.mark.parametrize("replace", [False, True])
def test_a_failure_while_writing_rolls_everything_back(replace: bool, stored: None,
                                                       tmp_path: Path) -> None:
    rows = 3 * CHUNK - 10
    path = tmp_path / "big.csv"
    path.write_text(survey_text(rows, wave=2022 if replace else 2023, prefix="y"),
                    encoding="utf-8")
    calls: list[int] = []

    def fail_at_the_last_chunk(what: str, done: int, total: int) -> None:
        calls.append(done)
        if done == total:  # every row is written; the commit has not happened
            assert Response.objects.count() == 1500 + rows - (1500 if replace else 0)
            raise BoomError

    before = django_snapshot()
    with pytest.raises(BoomError):
        import_survey(path, replace=replace, progress=fail_at_the_last_chunk)
    assert calls == [CHUNK, 2 * CHUNK, rows]
    assert django_snapshot() == before
    assert Wave.objects.count() == 1 and Response.objects.count() == 1500
    assert import_survey(path, replace=replace).ok  # nothing is left half-done


# --- SIGKILL ---------------------------------------------------------------------------------

HOLD = """
import os, sys, time
from tryg.cli.site import setup_site
setup_site()
from tryg.imports.survey import import_survey
def hold(what, done, total):
    print(f"WRITING {what} {done}/{total}", flush=True)
    time.sleep(600)
report = import_survey(sys.argv[1], replace=True, progress=hold)
print("FINISHED", report.ok, flush=True)
"""


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tryg.cli.main", *args], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def site_env(data_dir: Path, database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE="tryg.site.settings", TRYG_DATA_DIR=str(data_dir),
               DATABASE_URL=database_url)
    return env


def kill_mid_write(env: dict[str, str], path: Path, is_writing: Callable[[], bool]) -> str:
    """Run the import in a subprocess, wait until it has written rows inside its transaction,
    check ``is_writing()``, SIGKILL it; return what it printed."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(300, process.kill)  # a hung subprocess fails the test
    watchdog.start()
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("WRITING responses"), (line, process.stderr and
                                                      process.stderr.read())
        assert is_writing()
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=60) == -signal.SIGKILL
        return line
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def sqlite_locked(database: Path) -> bool:
    """Whether another connection holds the write lock (an open write transaction)."""
    probe = sqlite3.connect(database, timeout=0)
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        return "locked" in str(exc)
    else:
        probe.rollback()
        return False
    finally:
        probe.close()


def sqlite_snapshot(database: Path) -> Snapshot:
    with sqlite3.connect(database) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return snapshot(db.cursor(), tables)


def postgres_writing(table: str) -> bool:
    """Whether another backend holds a write lock on ``table`` (it inserted or deleted rows
    in a transaction that is still open)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                       "WHERE c.relname = %s AND l.mode = 'RowExclusiveLock' AND l.granted "
                       "AND l.pid <> pg_backend_pid()", [table])
        row = cursor.fetchone()
    return bool(row and row[0] > 0)


@pytest.mark.django_db(transaction=True)
def test_sigkill_half_way_leaves_the_database_as_before(tmp_path: Path) -> None:
    """On SQLite (a file database, the default site) in the SQLite run, on PostgreSQL (the
    test database) in the PostgreSQL run."""
    writing: Callable[[], bool]
    take: Callable[[], Snapshot]
    if settings.TEST_DATABASE == "postgres":
        db = connection.settings_dict
        url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/" \
              f"{db['NAME']}"
        writing = lambda: postgres_writing(Response._meta.db_table)  # noqa: E731
        take = django_snapshot
    else:
        url = ""
        database = tmp_path / "site" / "tryg.sqlite3"
        writing = lambda: sqlite_locked(database)  # noqa: E731
        take = lambda: sqlite_snapshot(database)  # noqa: E731
    (tmp_path / "site").mkdir()
    env = site_env(tmp_path / "site", url)
    (tmp_path / "areas.csv").write_text(AREAS, encoding="utf-8")
    (tmp_path / "wave.csv").write_text(survey_text(1500), encoding="utf-8")
    for kind, name in (("areas", "areas.csv"), ("survey", "wave.csv")):
        done = cli(env, "import", kind, str(tmp_path / name))
        assert done.returncode == 0, done.stderr
    # the replacement deletes wave 2022's answers, writes new ones and adds wave 2023
    new = tmp_path / "replacement.csv"
    new.write_text(survey_text(4 * CHUNK, prefix="n") + survey_text(CHUNK, wave=2023)
                   .split("\n", 1)[1], encoding="utf-8")
    before = take()
    assert len(before[Response._meta.db_table]) == 1500
    assert not writing()

    line = kill_mid_write(env, new, writing)
    assert line.strip() == f"WRITING responses {CHUNK}/{5 * CHUNK}"
    assert take() == before

    again = cli(env, "import", "survey", "--replace", str(new))
    assert again.returncode == 0, again.stderr
    assert "5,000 responses" in again.stdout
    after = take()
    assert len(after[Response._meta.db_table]) == 5 * CHUNK
    assert len(after[Wave._meta.db_table]) == 2
