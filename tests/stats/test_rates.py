"""Tests for tryg.stats.rates: Garwood intervals and Marshall empirical-Bayes rates.

References, in order of authority:
* R spdep 1.2.7 ``EBest`` / ``EBlocal`` and R's ``poisson.test``, frozen in
  ``tests/golden/rates_spdep.csv`` by ``tests/golden/make_rates_golden.R`` (re-run live below
  when R with spdep is present);
* PySAL esda ``Empirical_Bayes`` / ``Spatial_Empirical_Bayes``, run live;
* closed forms and the Poisson tail identity, computed with the standard library only.

The spatial neighbour list is the k = 5 nearest neighbours of each North Carolina county on the
projected centroids (nc_sids.csv columns ``x``, ``y``; Euclidean distance), built with libpysal's
``KNN`` here and with ``knearneigh(k = 5)`` + ``knn2nb`` in R; a test checks the two agree.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tryg.stats.rates import eb_global, eb_local, poisson_rate

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
GOLDEN_CSV = GOLDEN_DIR / "rates_spdep.csv"
GOLDEN_SCRIPT = GOLDEN_DIR / "make_rates_golden.R"
RTOL_R = 1e-9  # the golden CSV holds 15 significant digits
RTOL_ESDA = 1e-10
K_NEIGHBOURS = 5


def _missing(reason: str) -> NoReturn:
    """Skip locally, fail under CI=true (same rule as tests/conftest.py)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


def _read_golden(path: Path) -> pd.DataFrame:
    return pd.read_csv(
        path,
        dtype={"dataset": str, "name": str, "neighbours": str},
        keep_default_na=False,
        na_values={c: [""] for c in ("count", "population", "level", "ci_low", "ci_high")}
        | {c: [""] for c in ("raw", "ebest", "ebest_a", "ebest_b", "eblocal", "eblocal_a")}
        | {c: [""] for c in ("eblocal_m", "eblocal_geoda", "eblocal_geoda_a")},
    )


def _parse_neighbours(column: pd.Series) -> list[list[int]]:
    return [[int(j) for j in text.split()] for text in column]


@pytest.fixture(scope="module")
def golden() -> pd.DataFrame:
    return _read_golden(GOLDEN_CSV)


@pytest.fixture(scope="module")
def anchors(shared_data: Path) -> Path:
    path = shared_data / "stats-anchors"
    if not (path / "nc_sids.csv").is_file():
        _missing(f"stats-anchors data not found in {path}")
    return path


@pytest.fixture(scope="module")
def nc(anchors: Path) -> pd.DataFrame:
    return pd.read_csv(anchors / "nc_sids.csv")


@pytest.fixture(scope="module")
def nc_knn(nc: pd.DataFrame) -> object:
    """libpysal KNN weights (binary, asymmetric) on the projected county centroids."""
    weights = pytest.importorskip("libpysal.weights")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. "not fully connected": irrelevant here
        return weights.KNN.from_array(nc[["x", "y"]].to_numpy(), k=K_NEIGHBOURS)


def _nb_list(w: object) -> list[list[int]]:
    return [sorted(int(j) for j in w.neighbors[i]) for i in w.id_order]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- PySAL esda


def test_eb_global_matches_esda(nc: pd.DataFrame) -> None:
    smoothing = pytest.importorskip("esda.smoothing")
    ref = smoothing.Empirical_Bayes(nc["SID74"].to_numpy(), nc["BIR74"].to_numpy()).r.ravel()
    ours = eb_global(nc["SID74"], nc["BIR74"], per=1.0)
    np.testing.assert_allclose(ours["eb_rate"].to_numpy(), ref, rtol=RTOL_ESDA, atol=0)


def test_eb_local_geoda_matches_esda(nc: pd.DataFrame, nc_knn: object) -> None:
    smoothing = pytest.importorskip("esda.smoothing")
    ref = smoothing.Spatial_Empirical_Bayes(
        nc["SID74"].to_numpy(), nc["BIR74"].to_numpy(), nc_knn
    ).r.ravel()
    ours = eb_local(nc["SID74"], nc["BIR74"], _nb_list(nc_knn), per=1.0, convention="geoda")
    np.testing.assert_allclose(ours["eb_rate"].to_numpy(), ref, rtol=RTOL_ESDA, atol=0)


def test_esda_and_spdep_conventions_really_differ(nc: pd.DataFrame, nc_knn: object) -> None:
    """Guards the reason the ``convention`` option exists (else it would be dead weight)."""
    nb = _nb_list(nc_knn)
    spdep = eb_local(nc["SID74"], nc["BIR74"], nb)["eb_rate"].to_numpy()
    geoda = eb_local(nc["SID74"], nc["BIR74"], nb, convention="geoda")["eb_rate"].to_numpy()
    assert np.max(np.abs(spdep / geoda - 1)) > 1e-3


# --------------------------------------------------------------------------- R spdep (golden)


def test_golden_inputs_match_shared_data(golden: pd.DataFrame, nc: pd.DataFrame) -> None:
    g = golden[golden["dataset"] == "nc_sids"]
    assert list(g["name"]) == list(nc["row_name"])
    np.testing.assert_array_equal(g["count"], nc["SID74"])
    np.testing.assert_array_equal(g["population"], nc["BIR74"])


def test_libpysal_knn_equals_spdep_knn(golden: pd.DataFrame, nc_knn: object) -> None:
    spdep_nb = _parse_neighbours(golden.loc[golden["dataset"] == "nc_sids", "neighbours"])
    assert _nb_list(nc_knn) == spdep_nb


@pytest.mark.parametrize("dataset", ["nc_sids", "auckland", "homogeneous"])
def test_eb_global_matches_spdep_ebest(golden: pd.DataFrame, dataset: str) -> None:
    g = golden[golden["dataset"] == dataset]
    ours = eb_global(g["count"], g["population"], per=1.0)
    np.testing.assert_allclose(ours["raw_rate"], g["raw"], rtol=RTOL_R, atol=0)
    np.testing.assert_allclose(ours["eb_rate"], g["ebest"], rtol=RTOL_R, atol=0)
    np.testing.assert_allclose(ours["prior_mean"], g["ebest_b"], rtol=RTOL_R, atol=0)
    np.testing.assert_allclose(ours["prior_variance"], g["ebest_a"], rtol=RTOL_R, atol=0)


@pytest.mark.parametrize(
    ("convention", "column", "a_column"),
    [("spdep", "eblocal", "eblocal_a"), ("geoda", "eblocal_geoda", "eblocal_geoda_a")],
)
def test_eb_local_matches_spdep_eblocal(
    golden: pd.DataFrame, convention: str, column: str, a_column: str
) -> None:
    g = golden[golden["dataset"] == "nc_sids"]
    nb = _parse_neighbours(g["neighbours"])
    ours = eb_local(g["count"], g["population"], nb, per=1.0, convention=convention)  # type: ignore[arg-type]
    np.testing.assert_allclose(ours["eb_rate"], g[column], rtol=RTOL_R, atol=0)
    np.testing.assert_allclose(ours["prior_mean"], g["eblocal_m"], rtol=RTOL_R, atol=0)
    # a_i is clipped to exactly 0 in both implementations, so atol=0 holds there too.
    np.testing.assert_allclose(ours["prior_variance"], g[a_column], rtol=RTOL_R, atol=0)
    assert (ours["prior_variance"] == 0).any()  # the clipping branch is exercised


def test_auckland_is_smoothed(golden: pd.DataFrame) -> None:
    """Marshall's data: small CAUs move most, and the spread of rates shrinks."""
    g = golden[golden["dataset"] == "auckland"]
    ours = eb_global(g["count"], g["population"])
    assert ours["eb_rate"].std() < ours["raw_rate"].std()
    assert ours["shrinkage"].corr(ours["population"], method="spearman") > 0.99


def test_golden_script_reproduces_csv(anchors: Path, tmp_path: Path) -> None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        _missing("Rscript not found (install r-base-core r-cran-spdep)")
    check = subprocess.run(
        [rscript, "-e", 'quit(status = !requireNamespace("spdep", quietly = TRUE))'],
        capture_output=True,
        timeout=120,
        check=False,
    )
    if check.returncode != 0:
        _missing("R package spdep not installed")
    out = tmp_path / "rates_spdep.csv"
    run = subprocess.run(
        [rscript, str(GOLDEN_SCRIPT), str(anchors.parent), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    fresh, committed = _read_golden(out), _read_golden(GOLDEN_CSV)
    assert list(fresh.columns) == list(committed.columns)
    text = ["dataset", "area", "name", "neighbours"]
    pd.testing.assert_frame_equal(fresh[text], committed[text])
    numeric = [c for c in committed.columns if c not in text]
    np.testing.assert_allclose(fresh[numeric], committed[numeric], rtol=RTOL_R, atol=0)


# --------------------------------------------------------------------------- Garwood intervals


def test_garwood_matches_r_poisson_test(golden: pd.DataFrame) -> None:
    g = golden[golden["dataset"] == "poisson_test"]
    for _, rows in g.groupby("level"):
        ours = poisson_rate(
            rows["count"], rows["population"], per=1.0, level=float(rows["level"].iloc[0])
        )
        np.testing.assert_allclose(ours["ci_low"], rows["ci_low"], rtol=RTOL_R, atol=0)
        np.testing.assert_allclose(ours["ci_high"], rows["ci_high"], rtol=RTOL_R, atol=0)


@pytest.mark.parametrize("level", [0.95, 0.90, 0.99])
def test_garwood_closed_forms(level: float) -> None:
    """k = 0: upper = -log(alpha/2); k = 1: lower = -log(1 - alpha/2) (Gamma(1) quantiles)."""
    alpha = 1 - level
    out = poisson_rate([0, 1], [1, 1], per=1.0, level=level)
    assert out["ci_low"].iloc[0] == 0.0
    assert out["ci_high"].iloc[0] == pytest.approx(-math.log(alpha / 2), rel=1e-12)
    assert out["ci_low"].iloc[1] == pytest.approx(-math.log(1 - alpha / 2), rel=1e-12)


def _poisson_cdf(k: int, mu: float) -> float:
    """P(X <= k) for X ~ Poisson(mu), by direct summation (standard library only)."""
    return math.fsum(math.exp(j * math.log(mu) - mu - math.lgamma(j + 1)) for j in range(k + 1))


@pytest.mark.parametrize("k", [1, 4, 5, 17, 250])
def test_garwood_tail_identity(k: int) -> None:
    """The exact limits solve P(X >= k | lower) = alpha/2 and P(X <= k | upper) = alpha/2."""
    out = poisson_rate([k], [1], per=1.0)
    lower, upper = out["ci_low"].iloc[0], out["ci_high"].iloc[0]
    assert 1 - _poisson_cdf(k - 1, lower) == pytest.approx(0.025, rel=1e-8)
    assert _poisson_cdf(k, upper) == pytest.approx(0.025, rel=1e-8)


def test_garwood_textbook_values() -> None:
    """Standard tables give 1.62-11.67 for 5 events and 0-3.69 for none (95 %)."""
    out = poisson_rate([5, 0], [1000, 1000])
    np.testing.assert_allclose(out["ci_low"], [1.62, 0.0], atol=0.005)
    np.testing.assert_allclose(out["ci_high"], [11.67, 3.69], atol=0.005)
    assert list(out.columns) == ["count", "population", "rate", "ci_low", "ci_high"]


# --------------------------------------------------------------------------- edge cases


def test_negative_between_area_variance_gives_global_mean() -> None:
    """Rates varying less than Poisson noise: a is clipped to 0, so every EB rate equals m."""
    k = np.array([3, 5, 7, 9, 12])
    n = np.array([1000, 1500, 2400, 3100, 4000])
    m = k.sum() / n.sum()
    s2 = np.sum(n * (k / n - m) ** 2) / n.sum()
    assert s2 - m / n.mean() < 0  # the moment estimate really is negative
    out = eb_global(k, n, per=1000.0)
    np.testing.assert_array_equal(out["shrinkage"], 0.0)
    np.testing.assert_array_equal(out["prior_variance"], 0.0)
    np.testing.assert_allclose(out["eb_rate"], 1000 * m, rtol=1e-15)


def test_all_zero_counts_give_zero_not_nan() -> None:
    out = eb_global([0, 0, 0], [10, 20, 30])
    np.testing.assert_array_equal(out["eb_rate"], 0.0)
    local = eb_local([0, 0, 5], [10, 20, 30], [[1], [0], [1]], include_self=False)
    assert np.isfinite(local["eb_rate"]).all()


def test_per_only_changes_units(nc: pd.DataFrame) -> None:
    one = eb_global(nc["SID74"], nc["BIR74"], per=1.0)
    thousand = eb_global(nc["SID74"], nc["BIR74"])
    for col in ("raw_rate", "eb_rate", "prior_mean"):
        np.testing.assert_allclose(thousand[col], 1000 * one[col], rtol=1e-14)
    np.testing.assert_allclose(thousand["prior_variance"], 1e6 * one["prior_variance"], rtol=1e-14)
    np.testing.assert_array_equal(thousand["shrinkage"], one["shrinkage"])


def _naive_local(
    k: np.ndarray, n: np.ndarray, nb: list[list[int]], include_self: bool, geoda: bool
) -> np.ndarray:
    """Loop-by-loop transcription of spdep::EBlocal, as an independent check of the vector code."""
    sets = [sorted([*js, i]) if include_self else list(js) for i, js in enumerate(nb)]
    r = k / n
    m = np.array([k[s].sum() / n[s].sum() for s in sets])
    out = np.empty_like(r)
    for i, s in enumerate(sets):
        centre = np.full(len(s), m[i]) if geoda else m[s]
        c = np.sum(n[s] * (r[s] - centre) ** 2)
        a = max(c / n[s].sum() - m[i] / np.mean(n[s]), 0.0)
        w = a / (a + m[i] / n[i]) if a + m[i] / n[i] > 0 else 0.0
        out[i] = m[i] + w * (r[i] - m[i])
    return np.asarray(out, dtype=float)


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("convention", ["spdep", "geoda"])
def test_eb_local_matches_naive_loop(include_self: bool, convention: str) -> None:
    rng = np.random.default_rng(20240611)
    size = 40
    n = rng.integers(50, 20000, size).astype(float)
    k = rng.poisson(n * rng.gamma(4.0, 0.004 / 4.0, size)).astype(float)
    nb = [
        sorted(rng.choice([j for j in range(size) if j != i], 4, replace=False).tolist())
        for i in range(size)
    ]
    ours = eb_local(k, n, nb, per=1.0, include_self=include_self, convention=convention)  # type: ignore[arg-type]
    ref = _naive_local(k, n, nb, include_self, geoda=convention == "geoda")
    np.testing.assert_allclose(ours["eb_rate"], ref, rtol=1e-12)


def test_series_index_is_kept() -> None:
    idx = pd.Index(["0101", "0147", "0151"], name="kommune")
    k = pd.Series([3, 10, 0], index=idx)
    n = pd.Series([1200, 5300, 800], index=idx)
    for out in (poisson_rate(k, n), eb_global(k, n), eb_local(k, n, [[1], [0, 2], [1]])):
        assert out.index.equals(idx)
    assert poisson_rate(k, n.to_numpy()).index.equals(idx)
    assert poisson_rate([1, 2], [10, 20]).index.equals(pd.RangeIndex(2))


@pytest.mark.parametrize("func", [poisson_rate, eb_global])
def test_input_errors(func: Callable[..., pd.DataFrame]) -> None:
    f = func
    with pytest.raises(ValueError, match=r"population is 0 .*position 2 \(index 'c'\)"):
        f(pd.Series([1, 2, 3], index=list("abc")), pd.Series([5, 5, 0], index=list("abc")))
    with pytest.raises(ValueError, match="counts is negative at position 1"):
        f([1, -2], [5, 5])
    with pytest.raises(ValueError, match="population is negative at position 0"):
        f([1, 2], [-5, 5])
    with pytest.raises(ValueError, match="counts is NaN at position 1"):
        f([1, np.nan], [5, 5])
    with pytest.raises(ValueError, match="population is NaN at position 0"):
        f([1, 1], [np.nan, 5])
    with pytest.raises(ValueError, match="differ in length"):
        f([1, 2, 3], [5, 5])
    with pytest.raises(ValueError, match="different indexes"):
        f(pd.Series([1, 2], index=[0, 1]), pd.Series([5, 5], index=[1, 0]))
    with pytest.raises(ValueError, match="per must be"):
        f([1], [5], per=0.0)


def test_poisson_specific_errors() -> None:
    with pytest.raises(ValueError, match="whole numbers; position 1"):
        poisson_rate([1, 2.5], [10, 10])
    with pytest.raises(ValueError, match="level"):
        poisson_rate([1], [10], level=1.0)


@pytest.mark.parametrize(
    ("nb", "message"),
    [
        ([[1], [0]], "sequence of 3"),
        ([[1], [0, 0], [1]], r"neighbours\[1\] lists an area more than once"),
        ([[1], [0, 3], [1]], r"neighbours\[1\] has an index outside"),
        ([[1], [1], [1]], r"neighbours\[1\] contains area 1 itself"),
        ([[1], [0.5], [1]], r"neighbours\[1\] must hold integer"),
    ],
)
def test_neighbour_errors(nb: list[list[int]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        eb_local([1, 2, 3], [10, 20, 30], nb)


def test_isolated_area() -> None:
    """An area with no neighbours keeps its own rate with include_self, errors without it."""
    out = eb_local([1, 2, 3], [10, 20, 30], [[1], [0], []])
    assert out["eb_rate"].iloc[2] == pytest.approx(out["raw_rate"].iloc[2])
    with pytest.raises(ValueError, match="area 2 has no neighbours"):
        eb_local([1, 2, 3], [10, 20, 30], [[1], [0], []], include_self=False)
    with pytest.raises(ValueError, match="convention"):
        eb_local([1], [10], [[]], convention="pysal")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- properties

areas = st.lists(st.tuples(st.integers(0, 2000), st.integers(1, 10**6)), min_size=2, max_size=40)


def _between(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> bool:
    tol = 1e-12 * np.maximum(np.abs(lo), np.abs(hi)) + 1e-300
    return bool(np.all((np.minimum(lo, hi) - tol <= x) & (x <= np.maximum(lo, hi) + tol)))


@settings(max_examples=300, deadline=None)
@given(areas)
def test_eb_rate_between_prior_mean_and_raw(data: list[tuple[int, int]]) -> None:
    k, n = (np.array(v, dtype=float) for v in zip(*data, strict=True))
    out = eb_global(k, n)
    assert _between(
        out["eb_rate"].to_numpy(), out["prior_mean"].to_numpy(), out["raw_rate"].to_numpy()
    )
    assert ((out["shrinkage"] >= 0) & (out["shrinkage"] <= 1)).all()
    ring = [[(i - 1) % len(k), (i + 1) % len(k)] for i in range(len(k))]
    ring = [sorted(set(js) - {i}) for i, js in enumerate(ring)]
    for convention in ("spdep", "geoda"):
        loc = eb_local(k, n, ring, convention=convention)
        assert _between(
            loc["eb_rate"].to_numpy(), loc["prior_mean"].to_numpy(), loc["raw_rate"].to_numpy()
        )


@settings(max_examples=300, deadline=None)
@given(areas, st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_interval_contains_rate(data: list[tuple[int, int]], level: float) -> None:
    k, n = (np.array(v, dtype=float) for v in zip(*data, strict=True))
    out = poisson_rate(k, n, level=level)
    assert (out["ci_low"] <= out["rate"]).all()
    assert (out["rate"] < out["ci_high"]).all()
    assert (out.loc[out["count"] == 0, "ci_low"] == 0).all()


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 50), st.integers(1, 10_000), st.integers(1, 200), st.integers(1, 200))
def test_width_shrinks_with_population(c: int, d: int, t1: int, step: int) -> None:
    """Same rate c/d, population d*t: more residents, narrower interval."""
    t2 = t1 + step
    out = poisson_rate([c * t1, c * t2], [d * t1, d * t2])
    width = (out["ci_high"] - out["ci_low"]).to_numpy()
    assert out["rate"].iloc[0] == pytest.approx(out["rate"].iloc[1], rel=1e-12)
    assert width[1] < width[0]
