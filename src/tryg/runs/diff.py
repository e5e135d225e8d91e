"""The difference between two index runs: their results, their inputs, their specifications.

Pure functions on plain data (results tables as :func:`tryg.runs.services.results_frame`
gives them, the runs' input fingerprints as stored, the specifications' TOML text), so they
can be tested without a database; :func:`tryg.runs.services.compare_runs` feeds them two
stored runs.

A result row is identified by its area, wave and measure (:data:`KEY`). A row of run A and a
row of run B with the same key are *unchanged* when every other results column holds the same
value in both (two missing values are the same; floats are compared exactly unless a
tolerance is given), else *changed*; rows whose key is in one run only are *only in A* or
*only in B*. The spec's id and hash are not compared row by row: they differ on every row
whenever the specifications differ, which :func:`spec_change` reports once.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tryg.exports import csv_bytes
from tryg.index.results import RESULT_COLUMNS, RESULT_DTYPES, SPEC_COLUMNS, conform

#: What identifies a result row in both runs.
KEY: tuple[str, ...] = ("area_code", "wave", "measure")
#: The columns compared between the two runs (everything but the key and the spec columns).
VALUE_COLUMNS: tuple[str, ...] = tuple(c for c in RESULT_COLUMNS
                                       if c not in KEY and c not in SPEC_COLUMNS)
#: The kinds of row in a difference, in the order they are listed.
STATUSES: tuple[str, ...] = ("changed", "only_a", "only_b")
#: Columns of :meth:`Difference.table`: status, key, name and level, then each compared
#: column for A and for B, the difference in estimate (B - A) and the changed columns.
TABLE_COLUMNS: tuple[str, ...] = (
    "status", "area_code", "area_name", "level", "wave", "measure",
    *(f"{c}_{side}" for c in VALUE_COLUMNS for side in ("a", "b")),
    "estimate_diff", "changed_columns",
)


@dataclass(frozen=True)
class Difference:
    """How the results of run B differ from those of run A.

    ``rows`` holds one row per key that is not unchanged (:data:`TABLE_COLUMNS`), ordered by
    measure, wave, level and area; ``unchanged`` counts the keys whose rows are equal.
    """

    rows: pd.DataFrame
    unchanged: int

    def count(self, status: str) -> int:
        return int((self.rows["status"] == status).sum())

    @property
    def changed(self) -> int:
        return self.count("changed")

    @property
    def only_a(self) -> int:
        return self.count("only_a")

    @property
    def only_b(self) -> int:
        return self.count("only_b")

    @property
    def identical(self) -> bool:
        return self.rows.empty

    def table(self, *, status: str = "", measure: str = "") -> pd.DataFrame:
        """The differing rows, optionally of one status and one measure only."""
        rows = self.rows
        if status:
            rows = rows[rows["status"] == status]
        if measure:
            rows = rows[rows["measure"] == measure]
        return rows.reset_index(drop=True)

    def by_measure(self, measures: list[str]) -> pd.DataFrame:
        """Per measure: rows changed, only in A, only in B (``measures``: every measure of
        either run, so a measure with no difference is listed with zeros)."""
        counts = (self.rows.groupby(["measure", "status"]).size()
                  .unstack(fill_value=0).reindex(index=measures, columns=list(STATUSES),
                                                 fill_value=0))
        counts.index.name = "measure"
        counts.columns.name = None
        return counts.astype("int64").reset_index()

    def csv_bytes(self) -> bytes:
        """The whole difference as CSV (UTF-8, ``\\n`` line ends, empty for missing; text
        cells neutralised against formula injection, see :func:`tryg.exports.csv_bytes`)."""
        return csv_bytes(self.rows)


def _unique(table: pd.DataFrame, name: str) -> None:
    duplicated = table.duplicated(list(KEY), keep=False)
    if duplicated.any():
        first = table.loc[duplicated, list(KEY)].iloc[0].tolist()
        raise ValueError(f"run {name} has more than one result row for area, wave and "
                         f"measure {first}")


def _same(x: pd.Series, y: pd.Series, tolerance: float | None) -> np.ndarray:
    """Where ``x`` and ``y`` hold the same value (both missing counts as the same);
    ``tolerance``: for float columns, the largest difference that counts as equal."""
    x_missing, y_missing = x.isna().to_numpy(dtype=bool), y.isna().to_numpy(dtype=bool)
    present = ~(x_missing | y_missing)
    equal = np.zeros(len(x), dtype=bool)
    if tolerance is not None:
        xv, yv = x.to_numpy(dtype=np.float64)[present], y.to_numpy(dtype=np.float64)[present]
        equal[present] = (xv == yv) | (np.abs(xv - yv) <= tolerance)
    else:
        xo, yo = x.to_numpy(dtype=object)[present], y.to_numpy(dtype=object)[present]
        equal[present] = [p == q for p, q in zip(xo.tolist(), yo.tolist(), strict=True)]
    return equal | (x_missing & y_missing)


def _side(table: pd.DataFrame, side: str) -> pd.DataFrame:
    """Rows of one run only, in the difference's columns (the other side left empty)."""
    out = pd.DataFrame({"status": "only_" + side}, index=table.index)
    for c in ("area_code", "area_name", "level", "wave", "measure"):
        out[c] = table[c]
    for c in VALUE_COLUMNS:
        out[f"{c}_{side}"] = table[c]
    return out


def compare(a: pd.DataFrame, b: pd.DataFrame, *, tolerance: float = 0.0) -> Difference:
    """The difference between the results tables ``a`` and ``b`` (B's values minus A's).

    ``tolerance``: float values closer than this (absolute) count as equal; 0 compares them
    exactly, as two runs on the same data give identical bytes. Raises ``ValueError`` when
    a table has two rows for one area, wave and measure, or lacks a results column.
    """
    if tolerance < 0 or not np.isfinite(tolerance):
        raise ValueError("the tolerance must be a finite number, 0 or more")
    a = conform(a).drop(columns=list(SPEC_COLUMNS))
    b = conform(b).drop(columns=list(SPEC_COLUMNS))
    _unique(a, "A")
    _unique(b, "B")
    keys = a[list(KEY)].merge(b[list(KEY)], on=list(KEY), how="outer", indicator=True)
    only_a = a.merge(keys.loc[keys["_merge"] == "left_only", list(KEY)], on=list(KEY))
    only_b = b.merge(keys.loc[keys["_merge"] == "right_only", list(KEY)], on=list(KEY))
    both = a.merge(b, on=list(KEY), suffixes=("_a", "_b"))
    same = np.ones(len(both), dtype=bool)
    differs: dict[str, np.ndarray] = {}
    for c in VALUE_COLUMNS:
        floats = RESULT_DTYPES[c] == "float64"
        equal = _same(both[f"{c}_a"], both[f"{c}_b"], tolerance if floats else None)
        differs[c] = ~equal
        same &= equal
    changed = both.loc[~same].copy()
    changed.insert(0, "status", "changed")
    changed["area_name"] = changed["area_name_b"]
    changed["level"] = changed["level_b"]
    which = [c for c in VALUE_COLUMNS if differs[c][~same].any()]
    columns_changed = np.full(len(changed), "", dtype=object)
    for c in which:
        mark = differs[c][~same]
        columns_changed[mark] = [f"{v};{c}" if v else c for v in columns_changed[mark]]
    changed["changed_columns"] = columns_changed
    parts = [frame for frame in (changed, _side(only_a, "a"), _side(only_b, "b"))
             if not frame.empty]
    if parts:
        rows = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    else:
        rows = pd.DataFrame({c: pd.Series([], dtype=object) for c in TABLE_COLUMNS})
    rows = rows.reindex(columns=list(TABLE_COLUMNS))
    rows["estimate_diff"] = (pd.to_numeric(rows["estimate_b"], errors="coerce")
                             - pd.to_numeric(rows["estimate_a"], errors="coerce"))
    rows["changed_columns"] = rows["changed_columns"].where(rows["changed_columns"].notna(), "")
    order = {s: i for i, s in enumerate(STATUSES)}
    rows = (rows.assign(_order=rows["status"].map(order))
            .sort_values(["measure", "wave", "level", "area_code", "_order"], kind="stable")
            .drop(columns="_order").reset_index(drop=True))
    return Difference(rows=rows, unchanged=int(same.sum()))


@dataclass(frozen=True)
class InputChange:
    """One input whose fingerprint differs between the runs (``None``: not used by that run)."""

    name: str
    a: Mapping[str, Any] | None
    b: Mapping[str, Any] | None

    @property
    def kind(self) -> str:
        if self.a is None:
            return "added"
        if self.b is None:
            return "removed"
        return "changed"


def input_changes(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[InputChange]:
    """The inputs (areas, population, survey, register) that run A and run B saw differently:
    a different table (SHA-256) or number of rows, or used by one of them only."""
    changes = []
    for name in sorted(set(a) | set(b)):
        fa, fb = a.get(name), b.get(name)
        if fa is None or fb is None or (fa.get("sha256"), fa.get("rows")) != (
                fb.get("sha256"), fb.get("rows")):
            changes.append(InputChange(name, fa, fb))
    return changes


@dataclass(frozen=True)
class SpecChange:
    """The two runs' specifications: the same hash, or the lines of TOML that differ."""

    same: bool
    lines: tuple[str, ...] = ()


def spec_change(hash_a: str, text_a: str, hash_b: str, text_b: str) -> SpecChange:
    """Whether the specifications are the same (by hash), and if not a unified diff of their
    TOML text (A to B)."""
    if hash_a == hash_b:
        return SpecChange(True)
    lines = difflib.unified_diff(text_a.splitlines(), text_b.splitlines(), "A", "B",
                                 lineterm="", n=2)
    return SpecChange(False, tuple(lines))
