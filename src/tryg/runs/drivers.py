"""A run's drivers of insecurity and area problems (:mod:`tryg.index.drivers`): stored with
its results, read back as tables, and their public view.

The public view is the core's (:func:`tryg.index.drivers.public_drivers`,
:func:`~tryg.index.drivers.public_problems`) with the run's own specification's minimum n;
:func:`published_drivers` and :func:`published_problems` refuse an unpublished run, as
:func:`tryg.runs.published.public_results` does.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from tryg.index.drivers import (
    DRIVER_COLUMNS,
    PROBLEM_COLUMNS,
    IndexDrivers,
    public_drivers,
    public_problems,
)
from tryg.runs.models import AreaProblemRow, DriverRow, IndexRun

BATCH_SIZE = 2000
_DRIVER_FIELDS = tuple(c for c in DRIVER_COLUMNS)
_PROBLEM_FIELDS = tuple(c for c in PROBLEM_COLUMNS)
_INTS = {"wave", "rank", "n"}


def _value(column: str, value: Any, *, ints: set[str]) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "" if column in ("problem",) else None
    if isinstance(value, bool) or column in ("significant", "more_often", "suppressed"):
        return bool(value)
    if column in ints:
        return int(value)
    if isinstance(value, str):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def store(run: IndexRun, found: IndexDrivers | None) -> tuple[int, int]:
    """Store a run's drivers and area problems (inside the run's own transaction); the
    numbers of rows stored."""
    if found is None:
        return 0, 0
    drivers = [DriverRow(run=run, **{c: _value(c, v, ints=_INTS)
                                     for c, v in zip(_DRIVER_FIELDS, row, strict=True)})
               for row in found.drivers[list(_DRIVER_FIELDS)].itertuples(index=False)]
    DriverRow.objects.bulk_create(drivers, batch_size=BATCH_SIZE)
    problems = [AreaProblemRow(run=run, **{c: _value(c, v, ints={"wave"})
                                           for c, v in zip(_PROBLEM_FIELDS, row, strict=True)})
                for row in found.problems[list(_PROBLEM_FIELDS)].itertuples(index=False)]
    AreaProblemRow.objects.bulk_create(problems, batch_size=BATCH_SIZE)
    return len(drivers), len(problems)


def drivers_frame(run: IndexRun) -> pd.DataFrame:
    """The run's stored drivers (every cell, suppressed ones included)."""
    values = list(DriverRow.objects.filter(run=run).order_by("pk")
                  .values_list(*_DRIVER_FIELDS))
    frame = pd.DataFrame.from_records(values, columns=list(_DRIVER_FIELDS))
    frame["problem"] = frame["problem"].replace("", None)
    return frame


def problems_frame(run: IndexRun, area_code: str | None = None) -> pd.DataFrame:
    """The run's stored area problems (of one area, when given)."""
    rows = AreaProblemRow.objects.filter(run=run)
    if area_code is not None:
        rows = rows.filter(area_code=area_code)
    values = list(rows.order_by("pk").values_list(*_PROBLEM_FIELDS))
    return pd.DataFrame.from_records(values, columns=list(_PROBLEM_FIELDS))


def has_drivers(run: IndexRun) -> bool:
    return DriverRow.objects.filter(run=run).exists()


def _published(run: IndexRun) -> None:
    if not run.is_published:
        raise ValueError(f"run {run.pk} is not published")


def published_drivers(run: IndexRun, min_n: int) -> pd.DataFrame:
    """What may be published of a published run's drivers (``min_n``: the run's
    specification's publication minimum)."""
    _published(run)
    return public_drivers(drivers_frame(run), min_n)


def published_problems(run: IndexRun, min_n: int, area_code: str | None = None
                       ) -> pd.DataFrame:
    """What may be published of a published run's area problems (of one area, when given)."""
    _published(run)
    return public_problems(problems_frame(run, area_code), min_n)
