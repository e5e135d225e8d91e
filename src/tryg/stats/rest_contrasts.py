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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tryg.stats import intervals
from tryg.stats.calibration_blocks import supported
from tryg.stats.cell_moments import CellEngine, CellMoments, Family
from tryg.stats.design import Design, FloatArray
from tryg.stats.estimators import By, Domains, domains
from tryg.stats.score_patterns import ScorePattern, engine_for
from tryg.stats.variance import covariance_with_aggregate, linearized_variance

COLUMNS = ["variable", "estimate_first", "estimate_second", "difference", "se", "ci_low",
           "ci_high", "p_value", "df"]


def _matrix(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n: int, k: int
) -> sp.csc_matrix:
    rr, cc, vv = (np.concatenate(x) for x in zip(*parts, strict=True))
    ok = np.isfinite(vv)
    return sp.csc_matrix((vv[ok], (rr[ok], cc[ok])), shape=(n, k))


@dataclass(frozen=True)
class RestContrasts:
    """:func:`compare_with_rest_many` before its table: per variable (major) × domain (minor),
    flat arrays; ``keys`` the domains (``[*by, parent, area]``), ``keep`` the rows the table
    holds."""

    keys: pd.DataFrame
    names: list[str]
    columns: dict[str, FloatArray]  # COLUMNS[1:] (without ci_low, ci_high, p_value if not asked)
    keep: np.ndarray


def compare_with_rest_many(
    design: Design,
    values: Mapping[str, FloatArray],
    *,
    area: str,
    parent: str,
    by: By = None,
    level: float = 0.95,
    cells: tuple[CellEngine, CellMoments, Sequence[tuple[np.ndarray, Family]]] | None = None,
    known_domains: Domains | None = None,
) -> pd.DataFrame:
    """Means of several row-aligned variables (NaN = outside the base), each area against the
    rest of its parent within each ``by`` group. Columns: the ``by`` columns, ``parent``,
    ``area``, then ``variable, estimate_first, estimate_second, difference, se, ci_low,
    ci_high, p_value, df`` (t with the design degrees of freedom of the parent's rows).
    Areas alone in their parent have no rest and are left out.

    ``cells``: a :class:`~tryg.stats.cell_moments.CellEngine` of this design whose cells nest
    in the ``by`` × area domains, with the moments of ``values`` (same columns, same order)
    and families it has built already (with their rows' domain codes; used where they hold
    the same domains as the areas or parents here, whatever their numbering); the variances
    then come from the cells' moments (same numbers up to rounding). ``known_domains``: the
    domains of ``[*by, parent, area]`` exactly as :func:`~tryg.stats.estimators.domains`
    numbers them, if the caller has them already."""
    res = compare_with_rest_arrays(design, values, area=area, parent=parent, by=by, level=level,
                                   cells=cells, known_domains=known_domains)
    extra = [] if by is None else ([by] if isinstance(by, str) else list(by))
    D = len(res.keys)
    out = pd.concat([res.keys] * len(res.names), ignore_index=True)
    out = out[[*extra, parent, area]]
    out["variable"] = np.repeat(np.array(res.names, dtype=object), D)
    for col in COLUMNS[1:]:
        out[col] = res.columns[col]
    result: pd.DataFrame = out.loc[res.keep].reset_index(drop=True)
    return result


def compare_with_rest_arrays(
    design: Design,
    values: Mapping[str, FloatArray],
    *,
    area: str,
    parent: str,
    by: By = None,
    level: float = 0.95,
    cells: tuple[CellEngine, CellMoments, Sequence[tuple[np.ndarray, Family]]] | None = None,
    known_domains: Domains | None = None,
    tests: bool = True,
) -> RestContrasts:
    """:func:`compare_with_rest_many` as flat arrays, for callers that build their own table
    (the text key columns repeated per variable cost more than the numbers). ``tests=False``:
    without the intervals and p-values (for callers that need no more than the difference,
    its standard error and degrees of freedom)."""
    extra = [] if by is None else ([by] if isinstance(by, str) else list(by))
    names = list(values)
    dom = known_domains or domains(design, [*extra, parent, area])
    keys = dom.keys
    D = len(keys)
    # the parent (within the by groups) of every domain, numbered by first appearance
    combined = np.zeros(D, dtype=np.int64)
    for col in [*extra, parent]:
        codes, uniques = pd.factorize(keys[col])
        combined = np.asarray(pd.factorize(
            combined * (len(uniques) + 1) + np.asarray(codes, dtype=np.int64) + 1)[0],
            dtype=np.int64)  # renumbered at each step: no overflow
    pi = combined
    P = int(pi.max()) + 1 if D else 0
    fast = _moments_by_cells(cells, dom.codes, pi, P) if cells is not None and D else None
    if fast is not None:
        first, second, se, df, ok = fast
    elif supported(design) and D:
        first, second, se, df, ok = _moments_by_pattern(design, values, dom.codes, pi, P)
    else:
        first, second, se, df, ok = _moments_sparse(design, values, dom.codes, pi, P)
    diff = first - second
    columns = {"estimate_first": first, "estimate_second": second, "difference": diff, "se": se,
               "df": df}
    if tests:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            columns["ci_low"], columns["ci_high"] = intervals.wald(diff, se, df, level)
            columns["p_value"] = intervals.p_value(diff / se, df)
    return RestContrasts(keys, names, columns, ok & np.isfinite(diff))


Moments = tuple[FloatArray, FloatArray, FloatArray, FloatArray, np.ndarray]


def _moments_by_pattern(
    design: Design, values: Mapping[str, FloatArray], codes: np.ndarray, pi: np.ndarray, P: int
) -> Moments:
    """Area mean, rest mean, SE of the difference, df and usability, variable-major, with
    :class:`~tryg.stats.score_patterns.PatternEngine` (all variables in one evaluation)."""
    names = list(values)
    D = len(pi)
    areas = ScorePattern.of_domains(codes, D)
    rows, a = areas.rows, areas.cols
    parents = ScorePattern(rows, pi[a], P)
    e_area, e_parent = engine_for(design, areas), engine_for(design, parents)
    w_rows = np.asarray(design.weights)[rows]
    ind = sp.csc_matrix((np.ones(len(rows)), (a, np.arange(len(rows)))), shape=(D, len(rows)))
    up = sp.csc_matrix((np.ones(D), (pi, np.arange(D))), shape=(P, D))
    parts: dict[str, list[FloatArray]] = {k: [] for k in ("ya", "yr", "se", "df", "ok")}
    for name in names:  # one variable at a time: the work arrays stay small
        y = np.asarray(values[name], dtype=np.float64)[rows]
        valid = ~np.isnan(y)
        w = np.where(valid, w_rows, 0.0)
        wy = np.where(valid, w * y, 0.0)
        Wa, Ya = ind @ w, ind @ wy
        Wp, Yp = up @ Wa, up @ Ya
        Wr = Wp[pi] - Wa
        with np.errstate(divide="ignore", invalid="ignore"):
            ya, yr = Ya / Wa, (Yp[pi] - Ya) / Wr
            own = w * ((y - ya[a]) / Wa[a] + (y - yr[a]) / Wr[a])
            g, d = -1.0 / Wr, yr / Wr
        own = np.where(valid & np.isfinite(own), own, 0.0)
        v_u = e_area.variance(own[:, None])[:, 0]
        v_p = e_parent.variance(np.column_stack([wy, w, wy + w]))[pi]
        v_yp, v_wp = v_p[:, 0], v_p[:, 1]
        c_pp = (v_p[:, 2] - v_yp - v_wp) / 2
        c_u = e_area.covariance(np.column_stack([own, own]), e_parent,
                                np.column_stack([wy, w]), pi)
        c_uy, c_uw = c_u[:, 0], c_u[:, 1]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            var = v_u + g**2 * v_yp + 2 * g * d * c_pp + d**2 * v_wp + 2 * g * c_uy + 2 * d * c_uw
        parts["ya"].append(ya)
        parts["yr"].append(yr)
        parts["se"].append(np.sqrt(np.maximum(var, 0.0)))
        parts["df"].append(e_parent.degrees_of_freedom(valid[:, None])[pi, 0])
        parts["ok"].append((Wa > 0) & (Wr > 0))
    first, second, se, df, ok = (np.concatenate(parts[k]) for k in ("ya", "yr", "se", "df", "ok"))
    return first, second, se, df, ok


def _moments_by_cells(
    cells: tuple[CellEngine, CellMoments, Sequence[tuple[np.ndarray, Family]]],
    codes: np.ndarray, pi: np.ndarray, P: int,
) -> Moments | None:
    """:func:`_moments_by_pattern` from per-cell moments (``None`` if the cells do not nest in
    the areas). With ``D = Σ w (y − ȳ)`` and ``W = Σ w`` of the area (a) and of its parent
    (p), the difference's score is ``u − T / W_rest`` with ``u = α D_a + β W_a`` and
    ``T = D_p + γ W_p`` (``α = 1/W_a + 1/W_rest``, ``β = (ȳ_a − ȳ_rest)/W_rest``,
    ``γ = ȳ_p − ȳ_rest``), so its variance is a quadratic form in the 2 × 2 covariances of
    area and parent and their cross covariances (:meth:`CellEngine.nested`)."""
    engine, mom, families = cells
    D = len(pi)
    codes = np.asarray(codes, dtype=np.int64)
    inside = engine.cell >= 0
    dom = codes[engine.first]
    if not np.array_equal(dom[engine.cell[inside]], codes[inside]) or (codes[~inside] >= 0).any():
        return None
    prow = np.where(codes >= 0, pi[np.maximum(codes, 0)], -1)
    # families the engine has built already (their parts are kept), in their own numbering
    a_known, p_known = _matching(families, codes, D), _matching(families, prow, P)
    if a_known is not None and p_known is not None:
        # computed in the families' numbering of the areas (the formulas are per area), put
        # into this one once at the end
        (fa, a_map), (fp, p_map) = a_known, p_known
        p_inv = np.empty(P, dtype=np.int64)
        p_inv[p_map] = np.arange(P)
        a_inv = np.empty(D, dtype=np.int64)
        a_inv[a_map] = np.arange(D)
        up: np.ndarray = p_inv[pi[a_map]]  # every area's parent, numbered in fp
        back: np.ndarray | None = a_inv
    else:
        fa = engine.family(dom, D)
        fp = engine.family(np.where(dom >= 0, pi[np.maximum(dom, 0)], -1), P)
        up, back = pi, None
    out = engine.nested(mom, fa, fp, up)
    df = engine.degrees_of_freedom(mom, fp)[up]
    ya, Wa, v_da, c_dwa, v_wa = out[:5]
    mp, Wp, v_dp, c_dwp, v_wp = (x[up] for x in out[5:10])
    x_dd, x_dw, x_wd, x_ww = out[10:]
    Wr = Wp - Wa
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # the rest's mean from the parent's: exactly the area's when all answers are equal
        yr = ya + Wp * (mp - ya) / Wr
        alpha, beta, gamma = 1.0 / Wa + 1.0 / Wr, (ya - yr) / Wr, mp - yr
        v_u = alpha**2 * v_da + 2 * alpha * beta * c_dwa + beta**2 * v_wa
        v_t = v_dp + 2 * gamma * c_dwp + gamma**2 * v_wp
        c_ut = alpha * x_dd + alpha * gamma * x_dw + beta * x_wd + beta * gamma * x_ww
        var = np.maximum(v_u, 0.0) + v_t / Wr**2 - 2 * c_ut / Wr
    ok = (Wa > 0) & (Wr > 0)

    def flat(a: np.ndarray) -> np.ndarray:
        return np.asarray(a if back is None else a[back]).T.reshape(-1)

    return (flat(ya), flat(yr), flat(np.sqrt(np.maximum(var, 0.0))), flat(df), flat(ok))


def _matching(
    families: Sequence[tuple[np.ndarray, Family]], codes: np.ndarray, D: int
) -> tuple[Family, np.ndarray] | None:
    """A family of ``families`` (given with its rows' domain codes) whose domains are those of
    ``codes`` (D domains), and the number here of each of its domains."""
    inside = codes >= 0
    for row_codes, fam in families:
        if fam.n_dom != D or not np.array_equal(row_codes >= 0, inside):
            continue
        mine = np.full(D, -1, dtype=np.int64)
        mine[row_codes[inside]] = codes[inside]
        if (mine >= 0).all() and np.array_equal(mine[row_codes[inside]], codes[inside]):
            return fam, mine
    return None


def _moments_sparse(
    design: Design, values: Mapping[str, FloatArray], codes: np.ndarray, pi: np.ndarray, P: int
) -> Moments:
    """As :func:`_moments_by_pattern`, with sparse score matrices (any linearised design)."""
    names = list(values)
    D = len(pi)
    w = np.asarray(design.weights)
    n = design.n
    stage = design.stages[0]
    n_str = int(stage.stratum.max()) + 1
    U_parts, Y_parts, W_parts = [], [], []
    est_a, est_r, g_all, d_all, ok_all, df_all = [], [], [], [], [], []
    for j, name in enumerate(names):
        y = np.asarray(values[name], dtype=np.float64)
        valid = (codes >= 0) & ~np.isnan(y)
        r = np.flatnonzero(valid)
        a = codes[r]
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
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        var = v_u + g**2 * v_yp + 2 * g * d * c_pp + d**2 * v_wp + 2 * g * c_uy + 2 * d * c_uw
        se = np.sqrt(np.maximum(var, 0.0))
    return first, second, se, df, np.concatenate(ok_all)
