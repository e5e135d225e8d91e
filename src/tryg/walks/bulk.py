"""Writing hundreds of thousands of findings and actions inside the caller's transaction.

``bulk_create`` compiles every row through the ORM (about 1 ms a finding on a loaded
machine: minutes for a national file). Here rows are plain tuples: every concrete field of the
model, the given values where the caller gives them and the field's default otherwise (so a
field added later with a default needs nothing here). They go to PostgreSQL by ``COPY … FROM
STDIN`` (psycopg 3 adapts each value) and to SQLite by ``executemany`` of multi-row INSERTs
on the raw connection, in Django's connection and so in the caller's ``transaction.atomic()``.
(:mod:`tryg.police_register.bulk` does the same for numeric columns from numpy; findings
carry texts, times and JSON, row by row.)

Primary keys are reserved first (PostgreSQL: from the table's sequence; SQLite: after the
largest id, which is safe because a write transaction holds SQLite's write lock from its
``BEGIN IMMEDIATE``), so the caller can write rows that refer to them (an action's finding).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.db import connection, models

SQLITE_ROWS = 200  # rows per INSERT statement (SQLite allows 32,766 variables)
SQLITE_CACHE_KIB = 256 * 1024  # index pages kept in memory during the write


def reserve_ids(model: type[models.Model], n: int) -> list[int]:
    """``n`` unused primary keys of ``model`` (call inside the writing transaction)."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
                           "FROM generate_series(1, %s)", [model._meta.db_table, n])
            return [int(r[0]) for r in cursor.fetchall()]
        if not connection.in_atomic_block:
            raise RuntimeError("reserve ids inside the writing transaction")
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        top = int(cursor.fetchone()[0])
    return list(range(top + 1, top + 1 + n))


def _utc_text(value: dt.datetime | None) -> str | None:
    """A datetime as Django stores it in SQLite: naive UTC text."""
    if value is None:
        return None
    return str(value.astimezone(dt.UTC).replace(tzinfo=None))


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    if isinstance(field, models.JSONField):
        return lambda v: None if v is None else json.dumps(v)
    if connection.vendor != "sqlite":
        return lambda v: v
    if isinstance(field, models.DateTimeField):
        return _utc_text
    if isinstance(field, models.DateField):
        return lambda v: None if v is None else v.isoformat()
    if isinstance(field, models.BooleanField):
        return lambda v: None if v is None else int(v)
    return lambda v: v


def _constant(value: Any) -> Callable[[int], Any]:
    return lambda _i: value


def insert(model: type[models.Model], n: int, given: Mapping[str, Sequence[Any] | Any],
           *, now: dt.datetime) -> int:
    """Insert ``n`` rows of ``model``: ``given`` maps a field's column name (``attname``) to
    its values (a sequence of ``n``) or to one value for every row; other fields get their
    default (``auto_now``/``auto_now_add`` fields: ``now``)."""
    fields = [f for f in model._meta.concrete_fields
              if f.attname in given or not f.primary_key]
    columns: list[Callable[[int], Any]] = []
    for f in fields:
        convert = _converter(f)
        if f.attname in given:
            value = given[f.attname]
            if isinstance(value, list | tuple):
                if len(value) != n:
                    raise ValueError(f"{f.attname}: {len(value)} values for {n} rows")
                converted = [convert(v) for v in value]
                columns.append(converted.__getitem__)
                continue
            constant = convert(value)
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            constant = convert(now)
        else:
            constant = convert(f.get_default())
        columns.append(_constant(constant))
    rows = (tuple(col(i) for col in columns) for i in range(n))
    names = [str(f.column) for f in fields]
    _write(model._meta.db_table, names, rows)
    return n


def _write(table: str, names: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    quoted = ", ".join(connection.ops.quote_name(c) for c in names)
    target = connection.ops.quote_name(table)
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    if connection.vendor == "postgresql":
        with raw.cursor() as cursor, cursor.copy(
                f"COPY {target} ({quoted}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    if connection.vendor != "sqlite":  # pragma: no cover - tryg runs on these two
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {target} ({quoted}) VALUES "
                               f"({', '.join(['%s'] * len(names))})", list(rows))
        return
    one = "(" + ", ".join(["?"] * len(names)) + ")"
    many = f"INSERT INTO {target} ({quoted}) VALUES " + ", ".join([one] * SQLITE_ROWS)
    cursor = raw.cursor()
    previous = cursor.execute("PRAGMA cache_size").fetchone()[0]
    cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    try:
        block: list[Any] = []
        count = 0
        for row in rows:
            block.extend(row)
            count += 1
            if count == SQLITE_ROWS:
                cursor.execute(many, block)
                block, count = [], 0
        if count:
            cursor.execute(f"INSERT INTO {target} ({quoted}) VALUES "
                           + ", ".join([one] * count), block)
    finally:
        cursor.execute(f"PRAGMA cache_size = {int(previous)}")
        cursor.close()
