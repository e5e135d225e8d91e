"""Turning the caller's table cells into chart values and text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from tryg.charts.labels import format_number, is_missing

#: A chart's input: a data frame, or the same rows as dicts (cheaper for a few rows).
Table = pd.DataFrame | Sequence[Mapping[str, Any]]


def require_columns(frame: Table, columns: tuple[str, ...], what: str) -> None:
    """ValueError naming the columns ``frame`` lacks (or saying it has no rows)."""
    if isinstance(frame, pd.DataFrame):
        present = set(frame.columns)
        empty = frame.empty
    else:
        present = set(frame[0]) if frame else set(columns)
        empty = not frame
    missing = [c for c in columns if c not in present]
    if missing:
        raise ValueError(f"{what} needs the columns {', '.join(missing)}")
    if empty:
        raise ValueError(f"{what} needs at least one row")


def records(frame: Table, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """``frame``'s rows as dicts of ``columns`` (cheaper than ``to_dict`` on small frames)."""
    if not isinstance(frame, pd.DataFrame):
        return [{column: row[column] for column in columns} for row in frame]
    lists = [frame[column].tolist() for column in columns]
    return [dict(zip(columns, values, strict=True)) for values in zip(*lists, strict=True)]


def as_number(value: Any) -> float | None:
    """A float for JSON, or None for a missing value (None, NaN, NA)."""
    return None if is_missing(value) else float(value)


def interval_text(low: float | None, high: float | None, language: str) -> str:
    """`` (low–high)`` for a screen reader, or nothing without an interval."""
    if low is None or high is None:
        return ""
    return f" ({format_number(low, language)}–{format_number(high, language)})"
