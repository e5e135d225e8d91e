"""Crime rates per 1,000 residents with exact intervals and empirical-Bayes smoothing.

Small municipalities and police districts have few residents, so one extra burglary can move
the raw rate a lot. This module gives two remedies that are standard in small-area statistics:

* :func:`poisson_rate` reports the raw rate with an exact (Garwood) Poisson interval, so the
  reader sees how uncertain a small area's rate is instead of a misleadingly precise number.
* :func:`eb_global` and :func:`eb_local` shrink each raw rate towards a global or neighbourhood
  mean, by Marshall's (1991) method-of-moments empirical Bayes.  They reproduce R's
  ``spdep::EBest`` and ``spdep::EBlocal`` exactly, because those are the reference
  implementations users will compare against.

The module is pure: it takes arrays and returns :class:`pandas.DataFrame` objects, with no I/O.
Rates are computed per person and multiplied by ``per`` only at the end, so ``per`` never
changes the estimates, only their unit.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from tryg.stats.numbering import float_vector

__all__ = ["eb_global", "eb_local", "poisson_rate"]

ArrayLike: TypeAlias = npt.ArrayLike | pd.Series
FloatArray: TypeAlias = npt.NDArray[np.float64]


def _as_vector(values: ArrayLike, name: str) -> tuple[FloatArray, pd.Index | None]:
    """Return ``values`` as a finite, non-negative 1-D float array and its Series index, if any.

    Errors name the offending position, because the inputs are usually long tables of areas and
    "NaN in counts" alone would leave the user hunting for the row.
    """
    index = values.index if isinstance(values, pd.Series) else None
    arr = float_vector(values, name)
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    bad = np.flatnonzero(np.isnan(arr))
    if bad.size:
        raise ValueError(f"{name} is NaN at position {int(bad[0])}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValueError(f"{name} is infinite at position {int(bad[0])}")
    bad = np.flatnonzero(arr < 0)
    if bad.size:
        raise ValueError(f"{name} is negative at position {int(bad[0])}: {arr[bad[0]]!r}")
    return arr, index


def _inputs(
    counts: ArrayLike, population: ArrayLike, per: float
) -> tuple[FloatArray, FloatArray, pd.Index]:
    """Validate the common inputs and choose the output index.

    A zero population gives an undefined rate (spdep refuses it too), so it is an error rather
    than a silent NaN or infinity that would propagate into every smoothed rate.
    """
    if not (np.isfinite(per) and per > 0):
        raise ValueError(f"per must be a positive finite number, got {per!r}")
    k, k_index = _as_vector(counts, "counts")
    n, n_index = _as_vector(population, "population")
    if k.shape != n.shape:
        raise ValueError(f"counts and population differ in length: {k.size} != {n.size}")
    if k_index is not None and n_index is not None and not k_index.equals(n_index):
        raise ValueError("counts and population are Series with different indexes; align them")
    index = k_index if k_index is not None else n_index
    if index is None:
        index = pd.RangeIndex(k.size)
    zero = np.flatnonzero(n == 0)
    if zero.size:
        i = int(zero[0])
        raise ValueError(f"population is 0 for area at position {i} (index {index[i]!r})")
    return k, n, index


def _shrinkage(a: FloatArray, m: FloatArray, n: FloatArray) -> FloatArray:
    """Weight on the raw rate, ``a / (a + m / n)``.

    When the prior mean and variance are both 0 (every count in the reference set is 0) the
    formula is 0/0; spdep returns NaN there.  We return 0 instead: the prior is then a point mass
    at 0, so the posterior is the prior, and the EB rate equals the (zero) prior mean.
    """
    denom = a + m / n
    out = np.zeros_like(denom)
    np.divide(a, denom, out=out, where=denom > 0)
    return out


def _eb_frame(
    k: FloatArray,
    n: FloatArray,
    m: FloatArray,
    a: FloatArray,
    index: pd.Index,
    per: float,
) -> pd.DataFrame:
    raw = k / n
    w = _shrinkage(a, m, n)
    eb = m + w * (raw - m)
    return pd.DataFrame(
        {
            "count": k,
            "population": n,
            "raw_rate": raw * per,
            "eb_rate": eb * per,
            "shrinkage": w,
            "prior_mean": m * per,
            "prior_variance": a * per**2,
        },
        index=index,
    )


def poisson_rate(
    counts: ArrayLike, population: ArrayLike, *, per: float = 1000.0, level: float = 0.95
) -> pd.DataFrame:
    """Rate per ``per`` residents with an exact (Garwood 1936) Poisson confidence interval.

    The exact interval is used because municipal counts are often small (0-20), where the normal
    approximation gives negative lower limits and undercovers.  For a count ``k`` and
    ``alpha = 1 - level`` the limits on the expected count are::

        lower = chi2.ppf(alpha/2, 2k) / 2     (0 when k = 0)
        upper = chi2.ppf(1 - alpha/2, 2k + 2) / 2

    which are the values of R's ``poisson.test(k)$conf.int``.  They are divided by the
    population and multiplied by ``per``.  Counts must be whole numbers since the interval is
    only defined for Poisson counts.

    Returns a DataFrame with columns ``count, population, rate, ci_low, ci_high``, indexed like
    the input Series (or 0..n-1).
    """
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")
    k, n, index = _inputs(counts, population, per)
    frac = np.flatnonzero(k != np.floor(k))
    if frac.size:
        i = int(frac[0])
        raise ValueError(f"counts must be whole numbers; position {i} is {k[i]!r}")
    alpha = 1.0 - level
    # chi2.ppf(., 0) is 0 in scipy, but set k = 0 explicitly rather than rely on that edge case.
    # the quantiles once per distinct count (counts repeat a lot across areas and waves)
    distinct, at = np.unique(k, return_inverse=True)
    lower = np.where(k > 0, (stats.chi2.ppf(alpha / 2, 2 * np.maximum(distinct, 1)) / 2)[at],
                     0.0)
    upper = (stats.chi2.ppf(1 - alpha / 2, 2 * distinct + 2) / 2)[at]
    scale = per / n
    return pd.DataFrame(
        {
            "count": k,
            "population": n,
            "rate": k * scale,
            "ci_low": lower * scale,
            "ci_high": upper * scale,
        },
        index=index,
    )


def eb_global(counts: ArrayLike, population: ArrayLike, *, per: float = 1000.0) -> pd.DataFrame:
    """Marshall's (1991) global empirical-Bayes rates, identical to ``spdep::EBest``.

    Each raw rate ``r_i = k_i / n_i`` is shrunk towards the overall rate by an amount that grows
    as the area's population falls, so that small areas stop dominating the extremes of a map
    or ranking purely through noise.  Method of moments, as in spdep 1.2 (``family="poisson"``)::

        m  = sum(k) / sum(n)                       prior mean (overall rate)
        s2 = sum(n * (r - m)**2) / sum(n)          population-weighted variance of raw rates
        a  = max(s2 - m / mean(n), 0)              between-area (prior) variance
        shrinkage_i = a / (a + m / n_i)            weight on the raw rate
        eb_i = m + shrinkage_i * (r_i - m)

    ``a`` is clipped at 0 like spdep: a negative moment estimate means the raw rates vary no
    more than Poisson noise alone would make them, so all areas get the overall rate.  (PySAL's
    ``esda.smoothing.Empirical_Bayes`` does not clip, and differs from spdep only in that case.)

    Returns columns ``count, population, raw_rate, eb_rate, shrinkage, prior_mean,
    prior_variance``; rates are per ``per`` residents and the variance per ``per**2``.
    """
    k, n, index = _inputs(counts, population, per)
    m, a = _eb_prior(k, n)
    size = k.size
    return _eb_frame(k, n, np.full(size, m), np.full(size, a), index, per)


def _eb_prior(k: FloatArray, n: FloatArray) -> tuple[float, float]:
    """Prior mean and variance (per person) of :func:`eb_global`."""
    r = k / n
    m = k.sum() / n.sum()
    s2 = np.sum(n * (r - m) ** 2) / n.sum()
    return float(m), float(max(s2 - m / n.mean(), 0.0))


def eb_arrays(counts: FloatArray, population: FloatArray) -> dict[str, FloatArray]:
    """:func:`eb_global` per person (``per`` = 1) as arrays, without validation or a frame:
    ``eb_rate``, ``shrinkage`` and ``prior_mean`` of each area, for callers that have
    validated whole-number counts and positive populations already."""
    k = np.asarray(counts, dtype=np.float64)
    n = np.asarray(population, dtype=np.float64)
    m, a = _eb_prior(k, n)
    mm, aa = np.full(k.size, m), np.full(k.size, a)
    raw = k / n
    w = _shrinkage(aa, mm, n)
    return {"eb_rate": mm + w * (raw - mm), "shrinkage": w, "prior_mean": mm}


def _neighbour_pairs(
    neighbours: Sequence[Sequence[int]], size: int, include_self: bool
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Flatten a neighbour list into (area, neighbour) index pairs, checking it on the way.

    Self-references and repeats are rejected rather than silently dropped: either would count an
    area twice in its neighbourhood sums, which is almost always a bug in how the list was built.
    """
    if isinstance(neighbours, str | bytes) or len(neighbours) != size:
        raise ValueError(f"neighbours must be a sequence of {size} index sequences, one per area")
    rows: list[int] = []
    cols: list[int] = []
    for i, nbrs in enumerate(neighbours):
        try:
            idx = [operator.index(j) for j in nbrs]
        except TypeError as exc:
            raise ValueError(f"neighbours[{i}] must hold integer indexes: {exc}") from exc
        if len(set(idx)) != len(idx):
            raise ValueError(f"neighbours[{i}] lists an area more than once")
        if any(j < 0 or j >= size for j in idx):
            raise ValueError(f"neighbours[{i}] has an index outside 0..{size - 1}")
        if i in idx:
            raise ValueError(
                f"neighbours[{i}] contains area {i} itself; leave it out "
                "(include_self=True adds it)"
            )
        if include_self:
            idx.append(i)
        if not idx:
            raise ValueError(f"area {i} has no neighbours and include_self=False")
        rows.extend([i] * len(idx))
        cols.extend(idx)
    return np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp)


def eb_local(
    counts: ArrayLike,
    population: ArrayLike,
    neighbours: Sequence[Sequence[int]],
    *,
    per: float = 1000.0,
    include_self: bool = True,
    convention: Literal["spdep", "geoda"] = "spdep",
) -> pd.DataFrame:
    """Local (spatial) empirical-Bayes rates, identical to ``spdep::EBlocal``.

    Like :func:`eb_global`, but each area is shrunk towards the rate of its own neighbourhood
    ``N_i`` (the area plus its neighbours, as spdep does), which keeps real regional differences
    such as an urban-rural gradient while still damping small-area noise::

        m_i    = sum_{j in N_i} k_j / sum_{j in N_i} n_j        local prior mean
        nbar_i = mean_{j in N_i} n_j
        C_i    = sum_{j in N_i} n_j * (r_j - m_j)**2            convention="spdep" (default)
        C_i    = sum_{j in N_i} n_j * (r_j - m_i)**2            convention="geoda"
        a_i    = max(C_i / sum_{j in N_i} n_j - m_i / nbar_i, 0)
        eb_i   = m_i + a_i / (a_i + m_i / n_i) * (r_i - m_i)

    Negative local variances are set to 0 (as spdep does), giving ``eb_i = m_i``.

    spdep's default deviates each neighbour's rate from *that neighbour's* local mean ``m_j``;
    ``convention="geoda"`` uses the area's own ``m_i``, which is ``spdep::EBlocal(geoda=TRUE)``,
    GeoDa, and PySAL's ``esda.smoothing.Spatial_Empirical_Bayes``.  We default to spdep because
    it is the documented reference; pass ``"geoda"`` to compare with GeoDa or PySAL.

    ``neighbours`` is a plain list of 0-based index sequences, one per area and not containing
    the area itself (e.g. ``[w.neighbors[i] for i in w.id_order]`` from a libpysal ``W``).  With
    ``include_self=False`` the area is left out of its own neighbourhood: a departure from
    Marshall/spdep, for leave-one-out style comparisons.
    """
    if convention not in ("spdep", "geoda"):
        raise ValueError(f"convention must be 'spdep' or 'geoda', got {convention!r}")
    k, n, index = _inputs(counts, population, per)
    size = k.size
    rows, cols = _neighbour_pairs(neighbours, size, include_self)
    r = k / n
    k_sum = np.bincount(rows, weights=k[cols], minlength=size)
    n_sum = np.bincount(rows, weights=n[cols], minlength=size)
    card = np.bincount(rows, minlength=size).astype(np.float64)
    m = k_sum / n_sum
    nbar = n_sum / card
    centre = m[cols] if convention == "spdep" else m[rows]
    c = np.bincount(rows, weights=n[cols] * (r[cols] - centre) ** 2, minlength=size)
    a = np.maximum(c / n_sum - m / nbar, 0.0)
    return _eb_frame(k, n, m, a, index, per)
