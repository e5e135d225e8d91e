"""The database half of a backup: copied out with its tables' sums, and put back all or nothing.

:func:`put_in_place` replaces the site's database only by one whose tables match the
manifest. On SQLite the archive's database file is checked before it is copied over the
site's (SQLite's backup API, one write transaction), and the site's own copy, saved first, is
copied back should the result still differ. On PostgreSQL the dump is turned into its SQL
script (``pg_restore -f``) and run through one psycopg transaction together with the check, so
a restore that does not match is rolled back and was never seen by the site.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from tryg.backup.errors import BackupError
from tryg.backup.tables import TableSum, postgres_sums, sqlite_sums, table_problems

#: A COPY of the dump's SQL script; its rows follow, up to a line ``\.``.
_COPY = re.compile(rb"^COPY .+ FROM stdin;$")
#: psql's guard lines around a script (PostgreSQL 15.14, 16.10, 17.6 and later): not SQL.
_PSQL_ONLY = (b"\\restrict ", b"\\unrestrict ")


def database_name() -> str:
    return f"database.{'sqlite3' if connection.vendor == 'sqlite' else 'pgdump'}"


def pg_env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"),
                      ("PASSWORD", "PGPASSWORD"), ("NAME", "PGDATABASE")):
        if db.get(key):
            env[name] = str(db[key])
    return env


def pg_params() -> dict[str, Any]:
    db = settings.DATABASES["default"]
    params = {"dbname": db["NAME"], "user": db.get("USER") or None,
              "password": db.get("PASSWORD") or None, "host": db.get("HOST") or None,
              "port": db.get("PORT") or None}
    return {k: v for k, v in params.items() if v}


def run(command: list[str], env: dict[str, str]) -> None:
    tool = shutil.which(command[0])
    if tool is None:
        raise BackupError(f"{command[0]} not found (install postgresql-client)")
    done = subprocess.run([tool, *command[1:]], env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def _site_file() -> Path:
    return Path(str(settings.DATABASES["default"]["NAME"]))


def _sqlite_copy(source: Path, target: Path) -> None:
    """``source`` copied over ``target`` with SQLite's backup API (one write transaction on
    ``target``, so a reader sees the old database or the new one)."""
    src, dst = sqlite3.connect(str(source)), sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _sqlite_sums(path: Path) -> dict[str, TableSum]:
    db = sqlite3.connect(str(path))
    try:
        return sqlite_sums(db.cursor())
    finally:
        db.close()


def snapshot(folder: Path) -> tuple[Path, dict[str, TableSum]]:
    """The database copied into ``folder``, and its tables' sums (of that very copy)."""
    target = folder / database_name()
    if connection.vendor == "sqlite":
        _sqlite_copy(_site_file(), target)
        return target, _sqlite_sums(target)
    if connection.vendor != "postgresql":
        raise BackupError(f"backups of {connection.vendor} databases are not supported")
    import psycopg

    with psycopg.connect(autocommit=True, **pg_params()) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        run(["pg_dump", "-Fc", "--no-owner", "--no-acl", f"--snapshot={row[0]}",
             "-f", str(target)], pg_env())
        sums = postgres_sums(conn.cursor())
        conn.execute("COMMIT")
    return target, sums


def mismatch(problems: list[str]) -> BackupError:
    return BackupError("the restore does not match the backup: " + "; ".join(problems))


def put_in_place(copy: Path, expected: dict[str, TableSum], *,
                 then: Callable[[], None]) -> None:
    """Make the database ``copy`` (from :func:`snapshot`) the site's, provided its tables
    match ``expected``; ``then`` (the stored files) runs once they do, before the site's
    database is replaced. Any failure, of the check or of ``then``, leaves the site's
    database as it was and raises."""
    if connection.vendor == "sqlite":
        _put_sqlite(copy, expected, then)
    else:
        _put_postgres(copy, expected, then)


def _put_sqlite(copy: Path, expected: dict[str, TableSum], then: Callable[[], None]) -> None:
    try:
        problems = table_problems(_sqlite_sums(copy), expected)
    except sqlite3.Error as exc:
        raise BackupError(f"the backup's database cannot be read: {exc}") from None
    if problems:
        raise mismatch(problems)
    then()
    site, saved = _site_file(), copy.with_name("before.sqlite3")
    _sqlite_copy(site, saved)
    try:
        _sqlite_copy(copy, site)
        problems = table_problems(_sqlite_sums(site), expected)
        if problems:
            raise mismatch(problems)
    except BaseException:
        _sqlite_copy(saved, site)
        raise


def _put_postgres(dump: Path, expected: dict[str, TableSum],
                  then: Callable[[], None]) -> None:
    import psycopg

    script = dump.with_suffix(".sql")
    run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-acl", "-f", str(script),
         str(dump)], pg_env())
    try:
        # one transaction: committed on leaving the block, rolled back on any exception
        with psycopg.connect(**pg_params()) as conn, conn.cursor() as cursor:
            _run_script(cursor, script)
            cursor.execute("SET search_path TO DEFAULT")  # the script empties it
            problems = table_problems(postgres_sums(cursor), expected)
            if problems:
                raise mismatch(problems)
            then()
    except psycopg.Error as exc:
        raise BackupError(f"the backup's database could not be restored: "
                          f"{type(exc).__name__}: {str(exc).strip()[:2000]}") from None


def _run_script(cursor: Any, script: Path) -> None:
    """Run the SQL script of ``pg_restore -f`` on ``cursor`` (psql's COPY … FROM stdin blocks
    through psycopg's COPY), in the cursor's transaction. Read as bytes, split on newlines
    only: a row's text never holds a raw one."""
    sql: list[bytes] = []

    def flush() -> None:
        if sql:
            cursor.execute(b"".join(sql))
            sql.clear()

    with script.open("rb") as lines:
        for line in lines:
            if line.startswith(_PSQL_ONLY):
                continue
            statement = line.rstrip(b"\n")
            if not _COPY.match(statement):
                sql.append(line)
                continue
            flush()
            with cursor.copy(statement.removesuffix(b";")) as copy:
                for row in lines:
                    if row == b"\\.\n":
                        break
                    copy.write(row)
    flush()
