"""Every area against the rest of its parent area, for thousands of areas at once.

The difference ``ȳ_a − ȳ_rest`` of an area ``a`` and the rest of its parent ``p`` is a
function of the totals of the two nested domains: with ``D = Σ w (y − ȳ)`` and ``W = Σ w`` of
each, its score is ``u − T / W_rest`` with ``u = α D_a + β W_a`` and ``T = D_p + γ W_p``
(``α = 1/W_a + 1/W_rest``, ``β = (ȳ_a − ȳ_rest)/W_rest``, ``γ = ȳ_p − ȳ_rest``), so its
variance is a quadratic form in the 2 × 2 covariances of area and parent and their cross
covariances: exactly what :class:`~tryg.stats.domain_totals.DomainTotals` gives, whichever
back-end. No score column spans a parent, and the cost is that of a few ordinary variance
passes. Exact: the same numbers as building each contrast's score directly (checked against
R's ``svycontrast`` in the tests). The same contrast serves a wave against earlier waves pooled
(:mod:`tryg.stats.area_waves`): the "parent" is then the area in the window of waves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tryg.stats import intervals
from tryg.stats.design import Design, FloatArray, IntArray
from tryg.stats.domain_totals import DomainTotals, Grouping, Groups, totals_for
from tryg.stats.estimators import By, Domains, domains

COLUMNS = ["variable", "estimate_first", "estimate_second", "difference", "se", "ci_low",
           "ci_high", "p_value", "df"]


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
    totals: DomainTotals | None = None,
    known_domains: Domains | None = None,
) -> pd.DataFrame:
    """Means of several row-aligned variables (NaN = outside the base), each area against the
    rest of its parent within each ``by`` group. Columns: the ``by`` columns, ``parent``,
    ``area``, then ``variable, estimate_first, estimate_second, difference, se, ci_low,
    ci_high, p_value, df`` (t with the design degrees of freedom of the parent's rows).
    Areas alone in their parent have no rest and are left out.

    ``totals``: the back-end of ``values`` (same columns, same order) if the caller has one
    (:func:`~tryg.stats.domain_totals.totals_for`; per-cell moments must nest in the ``by`` ×
    area domains); by default one is chosen from the design. ``known_domains``: the
    domains of ``[*by, parent, area]`` exactly as :func:`~tryg.stats.estimators.domains`
    numbers them, if the caller has them already."""
    res = compare_with_rest_arrays(design, values, area=area, parent=parent, by=by, level=level,
                                   totals=totals, known_domains=known_domains)
    extra = [] if by is None else ([by] if isinstance(by, str) else list(by))
    return rest_table(res, [*extra, parent, area])


def rest_table(res: RestContrasts, keys: list[str]) -> pd.DataFrame:
    """The table of :func:`compare_with_rest_many` from its arrays (with the tests): the key
    columns ``keys`` (``[*by, parent, area]``), then :data:`COLUMNS`, a row per kept domain
    and variable."""
    D = len(res.keys)
    out = pd.concat([res.keys] * len(res.names), ignore_index=True)
    out = out[keys]
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
    totals: DomainTotals | None = None,
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
    parts: tuple[np.ndarray, ...]
    if D:
        if totals is None:
            totals = totals_for(design, values, [dom.codes])
        parent_rows = np.where(dom.codes >= 0, pi[np.maximum(dom.codes, 0)], -1)
        parts = rest_moments(totals, dom, Groups(parent_rows, P), pi)
    else:  # no domain: nothing to compare
        parts = tuple(np.zeros((0, len(names))) for _ in range(5))
    return rest_contrasts(keys, names, parts, level, tests)


def rest_contrasts(keys: pd.DataFrame, names: list[str], parts: tuple[np.ndarray, ...],
                   level: float = 0.95, tests: bool = True) -> RestContrasts:
    """The :class:`RestContrasts` of the domains ``keys`` from :func:`rest_moments`' arrays
    (a row per domain of ``keys``, a column per variable of ``names``)."""
    first, second, se, df, ok = (np.asarray(x).T.reshape(-1) for x in parts)
    ok = ok.astype(bool)
    diff = first - second
    columns = {"estimate_first": first, "estimate_second": second, "difference": diff, "se": se,
               "df": df}
    if tests:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            columns["ci_low"], columns["ci_high"] = intervals.wald(diff, se, df, level)
            columns["p_value"] = intervals.p_value(diff / se, df)
    return RestContrasts(keys, names, columns, ok & np.isfinite(diff))


def rest_moments(
    totals: DomainTotals, area: Grouping, parent: Grouping, up: IntArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, np.ndarray]:
    """Per area of ``area`` (A × V): its mean, the mean of the rest of its parent ``up[a]`` of
    ``parent`` (-1: none), the standard error of the difference, its degrees of freedom (the
    parent's) and whether both sides have weight."""
    up = np.asarray(up, dtype=np.int64)
    has = up >= 0
    up = np.where(has, up, 0)  # the results of areas without a parent are not used
    ya, Wa = totals.totals(area)
    mp, Wp = (x[up] for x in totals.totals(parent))
    v_da, c_dwa, v_wa = totals.pair(area)
    v_dp, c_dwp, v_wp = (x[up] for x in totals.pair(parent))
    x_dd, x_dw, x_wd, x_ww = totals.nested(area, parent, up)
    df = totals.degrees_of_freedom(parent)[up]
    Wr = Wp - Wa
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # the rest's mean from the parent's: exactly the area's when all answers are equal
        yr = ya + Wp * (mp - ya) / Wr
        alpha, beta, gamma = 1.0 / Wa + 1.0 / Wr, (ya - yr) / Wr, mp - yr
        v_u = alpha**2 * v_da + 2 * alpha * beta * c_dwa + beta**2 * v_wa
        v_t = v_dp + 2 * gamma * c_dwp + gamma**2 * v_wp
        c_ut = alpha * x_dd + alpha * gamma * x_dw + beta * x_wd + beta * gamma * x_ww
        var = np.maximum(v_u, 0.0) + v_t / Wr**2 - 2 * c_ut / Wr
    ok = (Wa > 0) & (Wr > 0) & has[:, None]
    return ya, yr, np.sqrt(np.maximum(var, 0.0)), df, ok
