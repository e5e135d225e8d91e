"""tryg.police_register.bulk: the binary COPY (PostgreSQL, encoded by pgpq) stores exactly what
the CSV COPY stores; the dates' text for SQLite is what ``str`` of each day gives."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from django.db import connection, transaction

from tryg.imports.register import COUNT_COLUMNS, RECORD_COLUMNS
from tryg.police_register import bulk
from tryg.police_register.models import RegisterCount, RegisterRecord

Opener = Callable[[str, str], AbstractContextManager[bulk.Writer]]


def record_columns(n: int, seed: int) -> list[Any]:
    rng = np.random.default_rng(seed)
    labels = ["vold", "tyveri", "æøå – ünïcode ✓", "", "x" * 200, "a,b\"c\nd"]
    area = rng.integers(1, 2**40, n)
    lon = rng.normal(10, 50, n)
    lon[rng.random(n) < 0.1] = np.nan
    special = [0.1, -0.0, 1e-300, 1.7976931348623157e308, 5e-324, 12.345678]
    lon[:6] = special[:min(n, 6)]
    lat = np.round(rng.uniform(54, 58, n), 6)
    lat[rng.random(n) < 0.05] = np.nan
    days = rng.integers(-700_000, 2_900_000, n).astype("timedelta64[D]")
    return [7, rng.integers(-2**31, 2**31, n), np.datetime64("1970-01-01") + days,
            pd.Categorical.from_codes(rng.integers(0, len(labels), n), categories=pd.Index(labels)),
            (area, rng.random(n) < 0.2), lon, lat]


def count_columns(n: int, seed: int) -> list[Any]:
    rng = np.random.default_rng(seed)
    quarters = pd.Categorical.from_codes(rng.integers(0, 3, n),
                                         categories=pd.Index(["2014Q1", "2014Q2", "2021Q4"]))
    offences = pd.Categorical.from_codes(rng.integers(0, 2, n),
                                         categories=pd.Index(["vold", "indbrud"]))
    line = rng.integers(0, 2**31, n)
    return [3, rng.integers(1, 5000, n), quarters, offences, rng.integers(0, 2**31, n),
            (line, rng.random(n) < 0.3)]


def stored(model: Any, names: Sequence[str]) -> list[tuple[Any, ...]]:
    return list(model.objects.order_by("id").values_list(*names))


def write_with(opener: Opener, table: str, names: Sequence[str],
               chunks: Iterator[list[Any]]) -> int:
    quoted = ", ".join(connection.ops.quote_name(n) for n in names)
    written = 0
    with transaction.atomic():
        connection.ensure_connection()
        with opener(connection.ops.quote_name(table), quoted) as write:
            for columns in chunks:
                written += write(columns)
    return written


@pytest.mark.django_db
def test_the_fast_writer_stores_what_the_reference_writer_stores() -> None:
    if connection.vendor == "postgresql":
        fast: Opener = bulk._copy
        reference: Opener = bulk._copy_csv
    else:
        pytest.skip("the binary COPY is PostgreSQL's")
    cases: list[tuple[Any, Sequence[str], Callable[[int, int], list[Any]]]] = [
        (RegisterRecord, RECORD_COLUMNS, record_columns),
        (RegisterCount, COUNT_COLUMNS, count_columns)]
    for model, names, make in cases:
        def chunks(make: Callable[[int, int], list[Any]]) -> Iterator[list[Any]]:
            for seed in range(3):
                yield make([0, 1, 2500][seed], seed)  # an empty chunk, one row, many

        results = []
        for opener in (reference, fast):
            assert write_with(opener, model._meta.db_table, names, chunks(make)) == 2501
            results.append(stored(model, names))
            model.objects.all().delete()
        assert results[0] == results[1]
        assert len(results[0]) == 2501


@pytest.mark.django_db
def test_an_empty_binary_copy_writes_nothing() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the binary COPY is PostgreSQL's")
    with transaction.atomic(), bulk.bulk_insert(RegisterCount._meta.db_table,
                                                COUNT_COLUMNS) as write:
        del write
    assert RegisterCount.objects.count() == 0


@pytest.mark.parametrize("span", [10, 3652, 3_000_000])
@pytest.mark.parametrize("missing", [0.0, 0.2, 1.0])
def test_date_text_is_str_of_each_day(span: int, missing: float) -> None:
    rng = np.random.default_rng(span)
    days = np.datetime64("2014-01-01") + rng.integers(-span, span, 3000).astype(
        "timedelta64[D]")
    days[rng.random(len(days)) < missing] = np.datetime64("NaT")
    want = [None if np.isnat(d) else str(d) for d in days]
    got = bulk._date_text(days)
    assert got.dtype == object and got.tolist() == want
    assert [type(v) for v in got] == [type(v) for v in want]


@pytest.mark.django_db(transaction=True)
def test_a_number_too_large_for_its_column_stops_the_binary_copy() -> None:
    # line is a 4-byte integer: the cast to the column's type refuses 2**31 (it would wrap
    # silently in a careless encoder) and nothing is stored
    if connection.vendor != "postgresql":
        pytest.skip("the binary COPY is PostgreSQL's")
    columns = count_columns(3, 0)
    columns[5] = (np.array([1, 2**31, 3]), np.zeros(3, dtype=bool))
    with pytest.raises(pa.ArrowInvalid, match="not in range"):
        write_with(bulk._copy, RegisterCount._meta.db_table, COUNT_COLUMNS, iter([columns]))
    assert RegisterCount.objects.count() == 0
