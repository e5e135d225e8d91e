"""Confidence intervals, vectorised over many estimates.

Proportions near 0 or 1 with small samples need intervals that stay inside [0, 1]: the logit
interval (R ``svyciprop(method="logit")``) and Korn–Graubard's beta interval
(``method="beta"``). Degrees of freedom are the design's (PSUs minus strata) per domain; an
estimate with no degrees of freedom gets no interval (NaN) rather than a false one.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import special, stats

from tryg.stats.design import FloatArray

MeanCI = Literal["t", "normal"]
ProportionCI = Literal["logit", "beta", "t", "normal"]


def quantile(level: float, df: FloatArray | float | None) -> FloatArray:
    """Two-sided critical value: Student t with ``df`` (normal when ``df`` is None or inf)."""
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, not {level}")
    p = 1 - (1 - level) / 2
    if df is None:
        return np.asarray(stats.norm.ppf(p), dtype=np.float64)
    # many estimates share a few degrees of freedom: one quantile for each distinct value
    d = np.asarray(df, dtype=np.float64)
    # hashed, not sorted: the order of the distinct values does not matter here
    inverse, distinct = pd.factorize(d.reshape(-1), use_na_sentinel=False)
    distinct = np.asarray(distinct, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        q = np.where(np.isinf(distinct), stats.norm.ppf(p),
                     stats.t.ppf(p, np.where(distinct > 0, distinct, np.nan)))
    return np.asarray(q, dtype=np.float64)[inverse].reshape(d.shape)


def wald(
    est: FloatArray, se: FloatArray, df: FloatArray | None, level: float
) -> tuple[FloatArray, FloatArray]:
    """estimate ± t (or z) × se."""
    q = quantile(level, df)
    return est - q * se, est + q * se


def logit(
    p: FloatArray, se: FloatArray, df: FloatArray | None, level: float
) -> tuple[FloatArray, FloatArray]:
    """Wald interval on the logit scale, transformed back (R ``svyciprop(method="logit")``).

    At p = 0 or 1 the logit interval does not exist; there the beta interval with the
    unweighted n stands in, so the bounds stay informative.
    """
    q = quantile(level, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = special.logit(p)
        half = q * se / (p * (1 - p))
        return special.expit(centre - half), special.expit(centre + half)


def korn_graubard(
    p: FloatArray, var: FloatArray, n: FloatArray, df: FloatArray | None, level: float
) -> tuple[FloatArray, FloatArray]:
    """Korn–Graubard (beta) interval, as R ``svyciprop(method="beta")``.

    The effective sample size ``p(1-p)/var`` is adjusted by the ratio of t quantiles with
    ``n - 1`` and the design degrees of freedom. When the variance is zero (p = 0 or 1) the
    unweighted ``n`` is used as the effective size: the Clopper–Pearson interval.
    """
    alpha = 1 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(var > 0, p * (1 - p) / var, n)
        if df is not None:
            adj = _t_ppf(alpha / 2, np.maximum(n - 1, 1)) / _t_ppf(
                alpha / 2, np.where(df > 0, df, np.nan)
            )
            n_eff = n_eff * np.where(var > 0, adj**2, 1.0)
        x = n_eff * p
        lower = np.where(x > 0, stats.beta.ppf(alpha / 2, x, n_eff - x + 1), 0.0)
        upper = np.where(n_eff - x > 0, stats.beta.ppf(1 - alpha / 2, x + 1, n_eff - x), 1.0)
    return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)


def share(
    p: FloatArray, var: FloatArray, n: FloatArray, df: FloatArray, level: float,
    logit_se: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """The interval of a share as R's ``svyciprop`` gives it by default: the logit interval
    (with ``logit_se`` where that differs from the share's own SE, as with replicate weights),
    and Korn–Graubard's beta interval with the unweighted ``n`` where the logit one does not
    exist (p = 0 or 1, or no variance). The beta interval is computed only there (it costs)."""
    p, var = np.asarray(p, dtype=np.float64), np.asarray(var, dtype=np.float64)
    n, df = np.asarray(n, dtype=np.float64), np.asarray(df, dtype=np.float64)
    se = np.sqrt(var)
    lo, hi = logit(p, se if logit_se is None else logit_se, df, level)
    lo, hi = np.array(lo, dtype=np.float64), np.array(hi, dtype=np.float64)
    flat = (p <= 0) | (p >= 1) | (var <= 0)
    if flat.any():
        lo[flat], hi[flat] = korn_graubard(p[flat], var[flat], n[flat], df[flat], level)
    return lo, hi


def _t_ppf(q: float, df: FloatArray) -> FloatArray:
    """``stats.t.ppf(q, df)``, computed once per distinct ``df``."""
    d = np.asarray(df, dtype=np.float64)
    # hashed, not sorted: the order of the distinct values does not matter here
    inverse, distinct = pd.factorize(d.reshape(-1), use_na_sentinel=False)
    distinct = np.asarray(distinct, dtype=np.float64)
    return np.asarray(stats.t.ppf(q, distinct), dtype=np.float64)[inverse].reshape(d.shape)


def p_value(stat: FloatArray, df: FloatArray | None) -> FloatArray:
    """Two-sided p-value of a t (or z) statistic.

    The distributions' own functions (``special.stdtr``, ``special.ndtr``: what
    ``stats.t.sf`` and ``stats.norm.sf`` evaluate, with the same results), each on the
    estimates it applies to: the ``scipy.stats`` wrappers check and broadcast their arguments
    at a cost comparable to the evaluation itself on hundreds of thousands of statistics."""
    s = np.abs(np.asarray(stat, dtype=np.float64))
    if df is None:
        return np.asarray(2 * special.ndtr(-s), dtype=np.float64)
    s, d = np.broadcast_arrays(s, np.asarray(df, dtype=np.float64))
    out = np.empty(s.shape, dtype=np.float64)
    normal = np.isinf(d)
    out[normal] = 2 * special.ndtr(-s[normal])
    t = ~normal
    with np.errstate(invalid="ignore"):
        dt = d[t]
        out[t] = 2 * special.stdtr(np.where(dt > 0, dt, np.nan), -s[t])
    return out
