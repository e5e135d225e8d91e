"""Row counts and checksums of every table, the same on the backup and on its restore.

Each table's rows are read in primary-key order and each value is written in one canonical
text form (numbers by ``repr``, bytes in hex, JSON with sorted keys); the checksum is the
SHA-256 of those lines. A restore compares its tables with the archive's manifest, so a
restore that lost or changed a row is refused rather than served.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol


class Cursor(Protocol):
    def execute(self, sql: str, params: Any = ..., /) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int = ..., /) -> list[Any]: ...


@dataclass(frozen=True)
class TableSum:
    rows: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "sha256": self.sha256}


def canonical(value: Any) -> str:
    """One value as text, the same for the same value read back from the same kind of
    database."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value.normalize())
    if isinstance(value, str) and value[:1] in ("{", "["):
        # JSON columns come as text through Django's connection and as objects through a
        # plain psycopg one: written alike
        try:
            return json.dumps(json.loads(value), sort_keys=True, ensure_ascii=False)
        except ValueError:
            pass
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_sum(cursor: Cursor, table: str, order: Iterable[str]) -> TableSum:
    """The row count and checksum of ``table``, read in the order of the columns ``order``."""
    columns = ", ".join(_quote(c) for c in order)
    cursor.execute(f"SELECT * FROM {_quote(table)} ORDER BY {columns}")
    digest = hashlib.sha256()
    rows = 0
    while True:
        chunk = cursor.fetchmany(5000)
        if not chunk:
            break
        for row in chunk:
            digest.update(("\t".join(canonical(v) for v in row) + "\n").encode())
        rows += len(chunk)
    return TableSum(rows, digest.hexdigest())


def sqlite_sums(cursor: Cursor) -> dict[str, TableSum]:
    """Every table of an SQLite database (``sqlite_`` internal tables excepted)."""
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                   "AND name NOT LIKE 'sqlite_%' ORDER BY name")
    names = [r[0] for r in cursor.fetchall()]
    out = {}
    for name in names:
        cursor.execute(f"PRAGMA table_info({_quote(name)})")
        info = cursor.fetchall()  # cid, name, type, notnull, default, pk
        keys = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]]
        out[name] = table_sum(cursor, name, keys or [r[1] for r in info])
    return out


def postgres_sums(cursor: Cursor) -> dict[str, TableSum]:
    """Every table of the current PostgreSQL schema (times read in UTC, whatever the
    session's time zone was)."""
    cursor.execute("SET TIME ZONE 'UTC'")
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                   "ORDER BY tablename")
    names = [r[0] for r in cursor.fetchall()]
    out = {}
    for name in names:
        cursor.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
            [_quote(name)])
        keys = [r[0] for r in cursor.fetchall()]
        if not keys:
            cursor.execute("SELECT column_name FROM information_schema.columns WHERE "
                           "table_schema = current_schema() AND table_name = %s "
                           "ORDER BY ordinal_position", [name])
            keys = [r[0] for r in cursor.fetchall()]
        out[name] = table_sum(cursor, name, keys)
    return out


def table_problems(found: dict[str, TableSum], expected: dict[str, TableSum]) -> list[str]:
    """How the tables ``found`` differ from the ``expected`` ones (a manifest's), one sentence
    a table; tables not expected are not compared."""
    problems = []
    for table, want in sorted(expected.items()):
        have = found.get(table)
        if have != want:
            problems.append(f"table {table}: {have} after the restore, {want} in the backup")
    return problems
