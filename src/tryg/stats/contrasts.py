"""Differences between estimates, with their uncertainty: is a change real?

Three situations, three formulas:

* Two domains of one design (an area against the rest of its parent area, this wave against
  the pooled earlier waves of a stacked design): the difference is one more linear statistic
  of the same sample, so its variance comes from the design and includes the covariance.
  :func:`compare_domains`, :func:`compare_with_rest`, :func:`compare_with_pooled`.
* Two independent samples (two survey waves estimated separately): the variances add.
  :func:`change_between`.

Every result carries the difference, its standard error, a confidence interval and a two-sided
p-value, so "significantly better than last year" is a computed statement.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tryg.stats import intervals
from tryg.stats.design import Design, FloatArray, IntArray, SurveyDesign
from tryg.stats.errors import EstimationError
from tryg.stats.estimators import By, _numeric, domains, indicator, variance_of
from tryg.stats.rest_contrasts import compare_with_rest_many

Statistic = Literal["mean", "proportion", "total"]
DomainKey = Hashable
Side = DomainKey | Sequence[DomainKey]


def _values(
    design: SurveyDesign,
    variable: str,
    statistic: Statistic,
    codes: Hashable | Iterable[Hashable] | None,
    exclude: Iterable[Hashable],
) -> tuple[FloatArray, np.ndarray]:
    if statistic == "proportion":
        if codes is None:
            raise EstimationError("statistic='proportion' needs codes=")
        return indicator(design, variable, codes, exclude)
    values = _numeric(design, variable)
    return values, np.isnan(values)


def _key_tuple(key: DomainKey, width: int) -> tuple[object, ...]:
    return key if isinstance(key, tuple) and width > 1 else (key,)


def _side_codes(side: Side, lookup: dict[tuple[object, ...], int], width: int) -> list[int]:
    keys: Iterable[DomainKey]
    if isinstance(side, list) or (isinstance(side, tuple) and width == 1 and len(side) != 1):
        keys = side
    else:
        keys = [side]
    out = []
    for key in keys:
        t = _key_tuple(key, width)
        if t not in lookup:
            raise EstimationError(f"domain {key!r} has no respondents (or does not exist)")
        out.append(lookup[t])
    return out


def compare_domains(
    design: SurveyDesign,
    variable: str,
    *,
    by: By,
    pairs: Sequence[tuple[Side, Side]],
    statistic: Statistic = "mean",
    codes: Hashable | Iterable[Hashable] | None = None,
    exclude: Iterable[Hashable] = (),
    level: float = 0.95,
) -> pd.DataFrame:
    """Difference ``first - second`` for each pair of domains (or unions of domains).

    A side is one domain key (a value, or a tuple of values for several ``by`` columns) or a
    list of keys, whose union is estimated as one domain. Columns: ``first, second,
    estimate_first, estimate_second, difference, se, ci_low, ci_high, p_value, df``. Intervals
    and p-values use the t distribution with the design degrees of freedom of the rows
    involved.
    """
    values, missing = _values(design, variable, statistic, codes, exclude)
    dom = domains(design, by)
    width = dom.keys.shape[1]
    lookup = {tuple(row): i for i, row in enumerate(dom.keys.itertuples(index=False, name=None))}
    sides = [
        (_side_codes(a, lookup, width), _side_codes(b, lookup, width)) for a, b in pairs
    ]
    return _compare(design, values, missing, dom.codes, sides, statistic, level, pairs)


def _compare(
    design: SurveyDesign,
    values: FloatArray,
    missing: np.ndarray,
    codes: IntArray,
    sides: list[tuple[list[int], list[int]]],
    statistic: Statistic,
    level: float,
    labels: Sequence[tuple[object, object]],
) -> pd.DataFrame:
    """The shared engine: build one score column per pair and take its design variance."""
    valid = (codes >= 0) & ~missing
    rows_all = np.flatnonzero(valid)
    order = rows_all[np.argsort(codes[rows_all], kind="stable")]
    n_dom = int(codes.max()) + 1 if len(codes) else 0
    starts = np.searchsorted(codes[order], np.arange(n_dom + 1))
    w = np.asarray(design.weights)
    y = np.where(valid, values, 0.0)

    def rows_of(side: list[int]) -> IntArray:
        return np.concatenate([order[starts[c]:starts[c + 1]] for c in side])

    K = len(sides)
    est = np.zeros((2, K))
    parts_rows: list[IntArray] = []
    parts_cols: list[IntArray] = []
    parts_vals: list[FloatArray] = []
    side_rows: list[tuple[IntArray, IntArray]] = []
    for k, (a, b) in enumerate(sides):
        ra, rb = rows_of(a), rows_of(b)
        if np.intersect1d(ra, rb).size:
            raise EstimationError(f"pair {labels[k]!r}: the two sides overlap")
        side_rows.append((ra, rb))
        for s, (r, sign) in enumerate(((ra, 1.0), (rb, -1.0))):
            W = w[r].sum()
            if W <= 0:
                raise EstimationError(f"pair {labels[k]!r}: a side has no weight")
            if statistic == "total":
                est[s, k] = (w[r] * y[r]).sum()
                score = w[r] * y[r]
            else:
                est[s, k] = (w[r] * y[r]).sum() / W
                score = w[r] * (y[r] - est[s, k]) / W
            parts_rows.append(r)
            parts_cols.append(np.full(len(r), k))
            parts_vals.append(sign * score)

    def point(weights: FloatArray) -> FloatArray:
        out = []
        for ra, rb in side_rows:
            sides_est = []
            for r in (ra, rb):
                wr = weights[r]
                tot = (wr * (y[r][:, None] if wr.ndim == 2 else y[r])).sum(axis=0)
                sides_est.append(tot if statistic == "total" else tot / wr.sum(axis=0))
            out.append(sides_est[0] - sides_est[1])
        return np.asarray(out, dtype=np.float64)

    def scores() -> sp.csc_matrix:
        return sp.csc_matrix(
            (np.concatenate(parts_vals), (np.concatenate(parts_rows), np.concatenate(parts_cols))),
            shape=(design.n, K),
        )

    var = variance_of(design, point, scores)
    diff = est[0] - est[1]
    se = np.sqrt(var)
    df = np.array([_df(design, np.concatenate(rs)) for rs in side_rows])
    lo, hi = intervals.wald(diff, se, df, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        pval = intervals.p_value(diff / se, df)
    return pd.DataFrame({
        "first": [lab[0] for lab in labels], "second": [lab[1] for lab in labels],
        "estimate_first": est[0], "estimate_second": est[1], "difference": diff, "se": se,
        "ci_low": lo, "ci_high": hi, "p_value": pval, "df": df,
    })


def _df(design: SurveyDesign, rows: IntArray) -> float:
    return design.rows_degrees_of_freedom(rows)


def compare_with_rest(
    design: SurveyDesign,
    variable: str,
    *,
    area: str,
    parent: str,
    by: By = None,
    statistic: Statistic = "mean",
    codes: Hashable | Iterable[Hashable] | None = None,
    exclude: Iterable[Hashable] = (),
    level: float = 0.95,
) -> pd.DataFrame:
    """Every area against the rest of its parent area (within each ``by`` group, e.g. wave).

    Returns the ``by`` columns, ``parent``, ``area`` and the columns of
    :func:`compare_domains` (without ``first``/``second``). An area that is alone in its
    parent has no rest and is left out.
    """
    extra = [] if by is None else ([by] if isinstance(by, str) else list(by))
    cols = [*extra, parent, area]
    values, missing = _values(design, variable, statistic, codes, exclude)
    if statistic != "total" and isinstance(design, Design):
        # means and shares on a linearised design: all areas at once, without expanding the
        # parent for every area (see tryg.stats.rest_contrasts)
        fast = compare_with_rest_many(
            design, {variable: np.where(missing, np.nan, values)}, area=area, parent=parent,
            by=by, level=level,
        )
        return fast.drop(columns="variable")
    dom = domains(design, cols)
    keys = dom.keys
    sides: list[tuple[list[int], list[int]]] = []
    labels: list[tuple[object, object]] = []
    out_keys = []
    for members in keys.groupby([*extra, parent], sort=False).indices.values():
        if len(members) < 2:
            continue
        for m in members:
            sides.append(([int(m)], [int(x) for x in members if x != m]))
            labels.append((keys[area].iloc[m], "rest"))
            out_keys.append(keys.iloc[m])
    if not sides:
        return pd.DataFrame(columns=[*cols, "estimate_first", "estimate_second", "difference",
                                     "se", "ci_low", "ci_high", "p_value", "df"])
    res = _compare(design, values, missing, dom.codes, sides, statistic, level, labels)
    head = pd.DataFrame(out_keys).reset_index(drop=True)
    return pd.concat([head, res.drop(columns=["first", "second"])], axis=1)


def compare_with_pooled(
    design: SurveyDesign,
    variable: str,
    *,
    wave: str,
    current: Hashable,
    earlier: Sequence[Hashable],
    by: By = None,
    statistic: Statistic = "mean",
    codes: Hashable | Iterable[Hashable] | None = None,
    exclude: Iterable[Hashable] = (),
    level: float = 0.95,
) -> pd.DataFrame:
    """This wave against several earlier waves pooled into one sample ("2016–2018 samlet").

    The waves must be in one design (stacked, with wave-specific strata when the waves are
    independent samples, so that their covariance is zero by construction).
    """
    extra = [] if by is None else ([by] if isinstance(by, str) else list(by))
    dom = domains(design, [*extra, wave])
    keys = dom.keys
    lookup = {tuple(r): i for i, r in enumerate(keys.itertuples(index=False, name=None))}
    sides: list[tuple[list[int], list[int]]] = []
    labels: list[tuple[object, object]] = []
    heads = []
    groups = keys[extra].drop_duplicates().itertuples(index=False, name=None) if extra else [()]
    for g in groups:
        a = lookup.get((*g, current))
        b = [lookup[(*g, e)] for e in earlier if (*g, e) in lookup]
        if a is None or not b:
            continue
        sides.append(([a], b))
        labels.append((current, tuple(earlier)))
        heads.append(dict(zip(extra, g, strict=True)))
    values, missing = _values(design, variable, statistic, codes, exclude)
    res = _compare(design, values, missing, dom.codes, sides, statistic, level, labels)
    return pd.concat([pd.DataFrame(heads, columns=extra), res], axis=1)


def change_between(
    earlier: pd.DataFrame,
    later: pd.DataFrame,
    *,
    on: str | Sequence[str] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Change between estimates from two independent samples (e.g. two waves' results).

    Takes two result tables of an estimator and joins them on ``on`` (the domain columns).
    The standard error of the change is ``sqrt(se1² + se2²)``; intervals and p-values are
    normal (independent samples have no common degrees of freedom).
    """
    keys = [] if on is None else ([on] if isinstance(on, str) else list(on))
    for name, frame in (("earlier", earlier), ("later", later)):
        missing = [c for c in [*keys, "estimate", "se"] if c not in frame.columns]
        if missing:
            raise EstimationError(f"{name} results lack column(s) {missing}")
    left = earlier[[*keys, "estimate", "se"]]
    right = later[[*keys, "estimate", "se"]]
    merged = (
        left.merge(right, on=keys, suffixes=("_earlier", "_later"))
        if keys
        else pd.concat([left.add_suffix("_earlier"), right.add_suffix("_later")], axis=1)
    )
    diff = (merged["estimate_later"] - merged["estimate_earlier"]).to_numpy(np.float64)
    se = np.hypot(
        merged["se_later"].to_numpy(np.float64), merged["se_earlier"].to_numpy(np.float64)
    )
    lo, hi = intervals.wald(diff, se, None, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        pval = intervals.p_value(diff / se, None)
    out = merged[keys].copy() if keys else pd.DataFrame(index=merged.index)
    out["estimate_earlier"] = merged["estimate_earlier"]
    out["estimate_later"] = merged["estimate_later"]
    out["difference"] = diff
    out["se"] = se
    out["ci_low"] = lo
    out["ci_high"] = hi
    out["p_value"] = pval
    return out
