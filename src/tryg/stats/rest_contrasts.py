"""Every area against the rest of its parent area, for thousands of areas at once.

The difference ``ȳ_a − ȳ_rest`` has a score that spans the whole parent (the rest's rows
count too), so building it column by column costs (areas per parent) × (respondents). Written
out, the score is the area's own part plus area-specific multiples of two parent vectors,
``Σ w·y`` and ``Σ w`` over the parent:

    d = u_a + γ_a · Y_p + δ_a · W_p,  γ_a = −1/W_rest,  δ_a = ȳ_rest / W_rest,
    u_a = w (y − ȳ_a)/W_a + w (y − ȳ_rest)/W_rest   on the area's own rows.

Its variance is assembled from area moments, parent moments and area–parent covariances
(:func:`tryg.stats.variance.covariance_with_aggregate`), so no column spans a parent and the
cost is that of a few ordinary variance passes. Exact: the same numbers as building each
contrast's score directly (checked against R's ``svycontrast`` in the tests).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tryg.stats import intervals
from tryg.stats.design import Design, FloatArray
from tryg.stats.estimators import By, domains
from tryg.stats.variance import covariance_with_aggregate, linearized_variance

COLUMNS = ["variable", "estimate_first", "estimate_second", "difference", "se", "ci_low",
           "ci_high", "p_value", "df"]


def _matrix(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n: int, k: int
) -> sp.csc_matrix:
    rr, cc, vv = (np.concatenate(x) for x in zip(*parts, strict=True))
    ok = np.isfinite(vv)
    return sp.csc_matrix((vv[ok], (rr[ok], cc[ok])), shape=(n, k))


def compare_with_rest_many(
    design: Design,
    values: Mapping[str, FloatArray],
    *,
    area: str,
    parent: str,
    by: By = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Means of several row-aligned variables (NaN = outside the base), each area against the
    rest of its parent within each ``by`` group. Columns: the ``by`` columns, ``parent``,
    ``area``, then ``variable, estimate_first, estimate_second, difference, se, ci_low,
    ci_high, p_value, df`` (t with the design degrees of freedom of the parent's rows).
    Areas alone in their parent have no rest and are left out."""
    extra = [] if by is None else ([by] if isinstance(by, str) else list(by))
    names = list(values)
    dom = domains(design, [*extra, parent, area])
    keys = dom.keys
    D = len(keys)
    pcodes, _ = pd.MultiIndex.from_frame(keys[[*extra, parent]]).factorize()
    pi = np.asarray(pcodes, dtype=np.int64)
    P = int(pi.max()) + 1 if D else 0
    w = np.asarray(design.weights)
    n = design.n
    stage = design.stages[0]
    n_str = int(stage.stratum.max()) + 1
    U_parts, Y_parts, W_parts = [], [], []
    est_a, est_r, g_all, d_all, ok_all, df_all = [], [], [], [], [], []
    for j, name in enumerate(names):
        y = np.asarray(values[name], dtype=np.float64)
        valid = (dom.codes >= 0) & ~np.isnan(y)
        r = np.flatnonzero(valid)
        a = dom.codes[r]
        Wa = np.bincount(a, weights=w[r], minlength=D)
        Ya = np.bincount(a, weights=w[r] * y[r], minlength=D)
        Wp = np.bincount(pi, weights=Wa, minlength=P)
        Yp = np.bincount(pi, weights=Ya, minlength=P)
        Wr = Wp[pi] - Wa
        with np.errstate(divide="ignore", invalid="ignore"):
            ya, yr = Ya / Wa, (Yp[pi] - Ya) / Wr
            own = w[r] * ((y[r] - ya[a]) / Wa[a] + (y[r] - yr[a]) / Wr[a])
            g_all.append(-1.0 / Wr)
            d_all.append(yr / Wr)
        shift = j * D
        U_parts.append((r, a + shift, own))
        Y_parts.append((r, a + shift, w[r] * y[r]))
        W_parts.append((r, a + shift, w[r]))
        est_a.append(ya)
        est_r.append(yr)
        ok_all.append((Wa > 0) & (Wr > 0))
        # degrees of freedom: PSUs minus strata among the parent's rows in the base
        pr = pi[a]
        psus = np.bincount(np.unique(pr * stage.n_units + stage.unit[r]) // stage.n_units,
                           minlength=P)
        strata = np.bincount(np.unique(pr * n_str + stage.stratum[r]) // n_str, minlength=P)
        df_all.append((psus - strata)[pi].astype(np.float64))
    K = len(names) * D
    U, Ys, Ws = (_matrix(parts, n, K) for parts in (U_parts, Y_parts, W_parts))
    pairs = np.concatenate([pi + j * P for j in range(len(names))])
    M = sp.csr_matrix((np.ones(K), (np.arange(K), pairs)), shape=(K, P * len(names)))
    Yp_s, Wp_s = (Ys @ M).tocsc(), (Ws @ M).tocsc()
    v_u = linearized_variance(design, U)
    v_yp = linearized_variance(design, Yp_s)[pairs]
    v_wp = linearized_variance(design, Wp_s)[pairs]
    c_pp = (linearized_variance(design, Yp_s + Wp_s)[pairs] - v_yp - v_wp) / 2
    c_uy = covariance_with_aggregate(design, U, Ys, M, pairs)
    c_uw = covariance_with_aggregate(design, U, Ws, M, pairs)
    first, second = np.concatenate(est_a), np.concatenate(est_r)
    g, d = np.concatenate(g_all), np.concatenate(d_all)
    df = np.concatenate(df_all)
    diff = first - second
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        var = v_u + g**2 * v_yp + 2 * g * d * c_pp + d**2 * v_wp + 2 * g * c_uy + 2 * d * c_uw
        se = np.sqrt(np.maximum(var, 0.0))
        lo, hi = intervals.wald(diff, se, df, level)
        p = intervals.p_value(diff / se, df)
    out = pd.concat([keys] * len(names), ignore_index=True)
    out = out[[*extra, parent, area]]
    out["variable"] = np.repeat(np.array(names, dtype=object), D)
    for col, vals in zip(COLUMNS[1:], (first, second, diff, se, lo, hi, p, df), strict=True):
        out[col] = vals
    keep = np.concatenate(ok_all) & np.isfinite(diff)
    result: pd.DataFrame = out.loc[keep].reset_index(drop=True)
    return result
