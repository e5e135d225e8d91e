"""count_records (dense counting, rows in code order) against the sort-based way it replaced."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from tryg.readers import records as rec
from tryg.readers.records import Records, count_records


def reference(records: Records, places: pd.Categorical[Any]) -> pd.DataFrame:
    """The former implementation: np.unique of the keys, then a sort by label."""
    months = records.dates.astype("datetime64[M]").astype(np.int64)
    uniq_q, inverse = np.unique(months // 3, return_inverse=True)
    quarters = pd.Categorical.from_codes(
        inverse.astype(np.int32),
        categories=pd.Index([f"{1970 + int(k) // 4}Q{int(k) % 4 + 1}" for k in uniq_q]))
    keep = np.flatnonzero(places.codes >= 0)
    sizes = (len(places.categories), len(quarters.categories), len(records.offences.categories))
    key = np.ravel_multi_index(
        (places.codes[keep].astype(np.int64), quarters.codes[keep].astype(np.int64),
         records.offences.codes[keep].astype(np.int64)), sizes)
    uniq, first, counts = np.unique(key, return_index=True, return_counts=True)
    lines = np.minimum.reduceat(records.lines[keep][np.argsort(key, kind="stable")],
                                np.r_[0, np.cumsum(counts)[:-1]]) if len(uniq) else first
    p, q, o = np.unravel_index(uniq, sizes)
    frame = pd.DataFrame({
        "place": np.asarray(places.categories, dtype=object)[p],
        "quarter": np.asarray(quarters.categories, dtype=object)[q],
        "offence": np.asarray(records.offences.categories, dtype=object)[o],
        "count": counts.astype(np.int64),
        "line": np.asarray(lines, dtype=np.int64),
    })
    return frame.sort_values(["place", "quarter", "offence"], kind="stable", ignore_index=True)


def random_case(rng: np.random.Generator, n: int, *, n_places: int, n_offences: int,
                years: int, sorted_lines: bool, missing: float, int_places: bool,
                sorted_categories: bool) -> tuple[Records, pd.Categorical[Any]]:
    lines = np.arange(2, n + 2, dtype=np.int64) * rng.integers(1, 3)
    if not sorted_lines:
        lines = rng.permutation(lines)
    days = rng.integers(0, 365 * years, n)
    dates = np.datetime64("2010-01-01") + days.astype("timedelta64[D]")
    offence_labels = [f"o{k:03d}" for k in range(n_offences)]
    offences = pd.Categorical(np.array(offence_labels, dtype=object)[
        rng.integers(0, n_offences, n)])
    labels: list[Any] = (list(rng.permutation(np.arange(10, 10 + n_places)).tolist())
                         if int_places else [f"p{k}" for k in rng.permutation(n_places)])
    if sorted_categories:
        labels = sorted(labels)
    codes = rng.integers(0, n_places, n).astype(np.int32)
    codes[rng.random(n) < missing] = -1
    places = pd.Categorical.from_codes(codes, categories=pd.Index(labels))
    return Records("test.csv", lines, dates, offences), places


@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("seed", range(12))
def test_count_records_matches_the_sort_based_counts(seed: int, dense: bool,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    if not dense:
        monkeypatch.setattr(rec, "DENSE_KEYS", 0)
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 3)) if seed == 0 else int(rng.integers(50, 3000))
    records, places = random_case(
        rng, n, n_places=int(rng.integers(1, 60)), n_offences=int(rng.integers(1, 25)),
        years=int(rng.integers(1, 12)), sorted_lines=bool(seed % 2), missing=(seed % 3) * 0.1,
        int_places=seed % 4 == 1, sorted_categories=seed % 5 != 0)
    got = count_records(records, places)
    want = reference(records, places)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.index.equals(pd.RangeIndex(len(want)))
    assert [type(v) for v in got["place"]] == [type(v) for v in want["place"]]


def test_all_places_missing_gives_an_empty_frame() -> None:
    rng = np.random.default_rng(5)
    records, places = random_case(rng, 100, n_places=3, n_offences=2, years=1,
                                  sorted_lines=True, missing=1.0, int_places=False,
                                  sorted_categories=True)
    pd.testing.assert_frame_equal(count_records(records, places), reference(records, places),
                                  check_exact=True)
