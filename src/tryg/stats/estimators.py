"""Means, totals, proportions and ratios for every domain at once.

Each estimator returns a DataFrame with the ``by`` columns and
``estimate, se, ci_low, ci_high, n, n_eff, deff, df``: one row per domain, all domains computed
in one vectorised pass. Domains are estimated with the full design (the score is zero outside
the domain), never by dropping rows, so strata and clusters without members of a domain still
count, as in R `survey`.

Missing values: with ``na_rm=True`` (the default) a respondent with a missing answer is left
out of the domain's base, exactly as R's ``na.rm=TRUE`` (which turns the missing rows into
zero-weight rows of the design). With ``na_rm=False`` a domain with any missing answer gets
NaN. ``n`` counts the respondents in the base; ``n_eff`` is Kish's (Σw)²/Σw²; ``deff`` is the
design effect against simple random sampling without replacement (R's ``deff=TRUE``); ``df``
is the number of PSUs minus strata that have respondents in the domain (R's ``degf``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tryg.stats import intervals
from tryg.stats.design import FloatArray, IntArray, SurveyDesign
from tryg.stats.domain_means import means_table
from tryg.stats.domain_totals import totals_for
from tryg.stats.errors import EstimationError

By = str | Sequence[str] | None
RESULT_COLUMNS = ["estimate", "se", "ci_low", "ci_high", "n", "n_eff", "deff", "df"]


@dataclass(frozen=True)
class Domains:
    """Which domain every row falls in (-1: none) and the domains' key values."""

    codes: IntArray
    keys: pd.DataFrame

    @property
    def count(self) -> int:
        return len(self.keys)


def domains(design: SurveyDesign, by: By) -> Domains:
    """Number the domains formed by the ``by`` columns; rows with a missing key are in none."""
    if by is None:
        return Domains(np.zeros(design.n, dtype=np.int64), pd.DataFrame(index=[0]))
    cols = [by] if isinstance(by, str) else list(by)
    frame = pd.DataFrame({c: design.column(c) for c in cols})
    grouped = frame.groupby(cols, sort=True, dropna=True, observed=True)
    codes = np.asarray(grouped.ngroup().fillna(-1).to_numpy(), dtype=np.int64)
    keys = grouped.size().reset_index()[cols]
    return Domains(codes, keys)


def _numeric(design: SurveyDesign, variable: str) -> FloatArray:
    series = design.column(variable)
    values = pd.to_numeric(series, errors="coerce")
    bad = values.isna() & series.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise EstimationError(
            f"column {variable!r} is not numeric: row {row} holds {series.iloc[row]!r}"
        )
    return values.to_numpy(dtype=np.float64)


@dataclass(frozen=True)
class _Problem:
    """Rows that count (in a domain and answered), their domain, and the totals needed."""

    design: SurveyDesign
    dom: IntArray  # domain code of each counted row
    rows: IntArray  # row numbers of counted rows
    keys: pd.DataFrame
    nan_domains: FloatArray  # 1.0 where a domain had missing answers and na_rm=False


def _problem(design: SurveyDesign, by: By, missing: np.ndarray, na_rm: bool) -> _Problem:
    d = domains(design, by)
    inside = d.codes >= 0
    nan_domains = np.zeros(d.count)
    if not na_rm:
        hit = d.codes[inside & missing]
        nan_domains[np.unique(hit)] = 1.0
    keep = inside & ~missing
    rows = np.flatnonzero(keep)
    return _Problem(design, d.codes[rows], rows, d.keys, nan_domains)


def _sum(pr: _Problem, values: FloatArray) -> FloatArray:
    return np.bincount(pr.dom, weights=values, minlength=len(pr.keys)).astype(np.float64)


def _scores(pr: _Problem, values: FloatArray) -> sp.csc_matrix:
    return sp.csc_matrix((values, (pr.rows, pr.dom)), shape=(pr.design.n, len(pr.keys)))


def variance_of(
    design: SurveyDesign,
    point: Callable[[FloatArray], FloatArray],
    scores: Callable[[], Any],
) -> FloatArray:
    """Variance of estimates, as the design gives it (:meth:`SurveyDesign.variance`: by
    linearisation for a :class:`Design`, from replicate weights for a
    :class:`~tryg.stats.replicates.ReplicateDesign`)."""
    return np.asarray(design.variance(point, scores), dtype=np.float64)


def _domain_df(pr: _Problem) -> FloatArray:
    """The domains' degrees of freedom, as the design gives them (R's ``degf`` of each
    domain's subset)."""
    return np.asarray(pr.design.domain_degrees_of_freedom(pr.rows, pr.dom, len(pr.keys)),
                      dtype=np.float64)


def _table(
    pr: _Problem,
    est: FloatArray,
    var: FloatArray,
    ci: tuple[FloatArray, FloatArray],
    vsrs: FloatArray,
    df: FloatArray,
) -> pd.DataFrame:
    w = np.asarray(pr.design.weights)[pr.rows]
    n = np.bincount(pr.dom, minlength=len(pr.keys)).astype(np.float64)
    sw = _sum(pr, w)
    sw2 = _sum(pr, w * w)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(sw2 > 0, sw**2 / sw2, 0.0)
        deff = np.where(vsrs > 0, var / vsrs, np.nan)
    out = pr.keys.copy().reset_index(drop=True)
    nan = pr.nan_domains > 0
    se = np.sqrt(var)
    values = {
        "estimate": est, "se": se, "ci_low": ci[0], "ci_high": ci[1], "n": n, "n_eff": n_eff,
        "deff": deff, "df": df,
    }
    empty = n == 0  # a domain without respondents has no estimate and no uncertainty
    for name, column in values.items():
        col = np.asarray(column, dtype=np.float64).copy()
        if name in ("estimate", "se", "ci_low", "ci_high", "deff"):
            col[nan | empty] = np.nan
        out[name] = col
    out["n"] = out["n"].astype(np.int64)
    return out


def _srs_variance_of_mean(pr: _Problem, y: FloatArray, mean: FloatArray) -> FloatArray:
    """R's deff denominator: the SRS-without-replacement variance of the domain mean."""
    w = np.asarray(pr.design.weights)[pr.rows]
    sw = _sum(pr, w)
    nobs = np.bincount(pr.dom, weights=(w != 0).astype(np.float64), minlength=len(pr.keys))
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = _sum(pr, w * (y - mean[pr.dom]) ** 2) / sw * nobs / (nobs - 1)
        fpc = np.where(sw >= nobs, (sw - nobs) / (sw * nobs), np.nan)
    return np.asarray(s2 * fpc, dtype=np.float64)


def _mean_core(
    pr: _Problem, y: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    w = np.asarray(pr.design.weights)
    wr = w[pr.rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        est = _sum(pr, wr * y) / _sum(pr, wr)

    def point(weights: FloatArray) -> FloatArray:
        ww = weights[pr.rows]
        return _domain_ratio(pr, ww, y, np.ones_like(y))

    def scores() -> sp.csc_matrix:
        W = _sum(pr, wr)
        return _scores(pr, wr * (y - est[pr.dom]) / W[pr.dom])

    var = variance_of(pr.design, point, scores)
    return est, var, _srs_variance_of_mean(pr, y, est)


def _domain_ratio(pr: _Problem, w: FloatArray, y: FloatArray, x: FloatArray) -> FloatArray:
    """Σ w y / Σ w x per domain, for weights of shape (rows,) or (rows, replicates)."""
    D = len(pr.keys)
    ind = sp.csr_matrix((np.ones(len(pr.dom)), (pr.dom, np.arange(len(pr.dom)))),
                        shape=(D, len(pr.dom)))
    num = ind @ (w * y[:, None] if w.ndim == 2 else w * y)
    den = ind @ (w * x[:, None] if w.ndim == 2 else w * x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(num / den, dtype=np.float64)


def mean(
    design: SurveyDesign,
    variable: str,
    *,
    by: By = None,
    level: float = 0.95,
    ci: intervals.MeanCI = "t",
    na_rm: bool = True,
) -> pd.DataFrame:
    """Weighted mean of ``variable`` in every domain of ``by``, with its design-based SE."""
    values = _numeric(design, variable)
    pr = _problem(design, by, np.isnan(values), na_rm)
    y = values[pr.rows]
    est, var, vsrs = _mean_core(pr, y)
    df = _domain_df(pr)
    bounds = intervals.wald(est, np.sqrt(var), df if ci == "t" else None, level)
    return _table(pr, est, var, bounds, vsrs, df)


def total(
    design: SurveyDesign,
    variable: str,
    *,
    by: By = None,
    level: float = 0.95,
    ci: intervals.MeanCI = "t",
    na_rm: bool = True,
) -> pd.DataFrame:
    """Estimated population total of ``variable`` in every domain of ``by``."""
    values = _numeric(design, variable)
    pr = _problem(design, by, np.isnan(values), na_rm)
    y = values[pr.rows]
    wr = np.asarray(design.weights)[pr.rows]
    est = _sum(pr, wr * y)

    def point(weights: FloatArray) -> FloatArray:
        ww = weights[pr.rows]
        ind = sp.csr_matrix((np.ones(len(pr.dom)), (pr.dom, np.arange(len(pr.dom)))),
                            shape=(len(pr.keys), len(pr.dom)))
        return np.asarray(ind @ (ww * y[:, None] if ww.ndim == 2 else ww * y))

    var = variance_of(design, point, lambda: _scores(pr, wr * y))
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_y = est / _sum(pr, wr)
    vsrs = _srs_variance_of_mean(pr, y, mean_y) * _sum(pr, wr) ** 2
    df = _domain_df(pr)
    bounds = intervals.wald(est, np.sqrt(var), df if ci == "t" else None, level)
    return _table(pr, est, var, bounds, vsrs, df)


def _code_set(codes: Hashable | Iterable[Hashable]) -> list[Hashable]:
    if isinstance(codes, (str, bytes)) or not isinstance(codes, Iterable):
        return [codes]
    return list(codes)


def indicator(
    design: SurveyDesign, variable: str, codes: Hashable | Iterable[Hashable],
    exclude: Iterable[Hashable],
) -> tuple[FloatArray, np.ndarray]:
    """1 where the answer is one of ``codes``, 0 otherwise; and which answers are outside the
    base (missing, or one of ``exclude`` such as "don't know")."""
    series = design.column(variable)
    wanted = _code_set(codes)
    if not wanted:
        raise EstimationError("codes= must name at least one answer code")
    excluded = _code_set(exclude)
    overlap = set(map(str, wanted)) & set(map(str, excluded))
    if overlap:
        raise EstimationError(f"codes {sorted(overlap)} are both counted and excluded")
    missing = (series.isna() | series.isin(excluded)).to_numpy()
    hit = series.isin(wanted).to_numpy().astype(np.float64)
    return hit, missing


def _logit_interval_se(pr: _Problem, y: FloatArray, est: FloatArray, se: FloatArray) -> FloatArray:
    """The SE behind the logit interval, on the proportion scale.

    R's ``svyciprop`` takes it from ``svyglm``: by linearisation that is the delta method (the
    SE of the proportion itself), but with replicate weights it is the spread of the
    replicates' logits, which differs; it is returned here as ``se_logit * p (1 - p)``.
    """
    if not pr.design.by_replicates:
        return se

    def point(weights: FloatArray) -> FloatArray:
        p = _domain_ratio(pr, weights[pr.rows], y, np.ones_like(y))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(np.log(p / (1 - p)), dtype=np.float64)

    var_logit = variance_of(pr.design, point, lambda: None)
    with np.errstate(invalid="ignore"):  # p = 0 or 1: the caller uses the beta interval there
        return np.where(np.isfinite(var_logit), np.sqrt(var_logit), np.inf) * est * (1 - est)


def proportion(
    design: SurveyDesign,
    variable: str,
    codes: Hashable | Iterable[Hashable],
    *,
    exclude: Iterable[Hashable] = (),
    by: By = None,
    level: float = 0.95,
    ci: intervals.ProportionCI = "logit",
    na_rm: bool = True,
) -> pd.DataFrame:
    """Share of answers that are one of ``codes`` (e.g. 1–3 on a 1–7 scale), per domain.

    Answers in ``exclude`` (e.g. 8 = "don't know") and missing answers are outside the base.
    ``ci`` is ``"logit"`` (R ``svyciprop`` default), ``"beta"`` (Korn–Graubard), or a Wald
    interval (``"t"``/``"normal"``).
    """
    hit, missing = indicator(design, variable, codes, exclude)
    pr = _problem(design, by, missing, na_rm)
    y = hit[pr.rows]
    est, var, vsrs = _mean_core(pr, y)
    df = _domain_df(pr)
    se = np.sqrt(var)
    n = np.bincount(pr.dom, minlength=len(pr.keys)).astype(np.float64)
    if ci == "logit":
        bounds = intervals.share(est, var, n, df, level, _logit_interval_se(pr, y, est, se))
    elif ci == "beta":
        bounds = intervals.korn_graubard(est, var, n, df, level)
    elif ci in ("t", "normal"):
        bounds = intervals.wald(est, se, df if ci == "t" else None, level)
    else:
        raise EstimationError(f"ci={ci!r} is not one of logit, beta, t, normal")
    return _table(pr, est, var, bounds, vsrs, df)


def ratio(
    design: SurveyDesign,
    numerator: str,
    denominator: str,
    *,
    by: By = None,
    level: float = 0.95,
    ci: intervals.MeanCI = "t",
    na_rm: bool = True,
) -> pd.DataFrame:
    """Ratio of two totals, Σ w y / Σ w x, per domain (R ``svyratio``)."""
    y_all = _numeric(design, numerator)
    x_all = _numeric(design, denominator)
    pr = _problem(design, by, np.isnan(y_all) | np.isnan(x_all), na_rm)
    y, x = y_all[pr.rows], x_all[pr.rows]
    wr = np.asarray(design.weights)[pr.rows]
    X = _sum(pr, wr * x)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = _sum(pr, wr * y) / X
        resid = (y - est[pr.dom] * x) / X[pr.dom]

    def point(weights: FloatArray) -> FloatArray:
        return _domain_ratio(pr, weights[pr.rows], y, x)

    var = variance_of(design, point, lambda: _scores(pr, wr * resid))
    vsrs = _srs_variance_of_mean(pr, resid, _sum(pr, wr * resid) / _sum(pr, wr)) * _sum(pr, wr) ** 2
    df = _domain_df(pr)
    bounds = intervals.wald(est, np.sqrt(var), df if ci == "t" else None, level)
    return _table(pr, est, var, bounds, vsrs, df)


def means(
    design: SurveyDesign,
    values: Mapping[str, FloatArray],
    *,
    by: By = None,
    combinations: Mapping[str, Mapping[str, float]] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Means of several variables per domain, and linear combinations of them, in one pass.

    ``values`` maps a name to a row-aligned array (NaN = outside that variable's base, as with
    ``na_rm=True``); a 0/1 array gives a proportion. ``combinations`` maps a name to
    ``{variable: coefficient}``: e.g. a composite index as a weighted sum of sub-index means,
    whose variance then includes the covariances between them. The result is long: the ``by``
    columns, ``variable``, and the usual estimate columns (Wald t intervals; apply
    :func:`tryg.stats.intervals.logit` to proportions if wanted). One call costs about as much as
    one :func:`mean`, which is what keeps an index run close to the cost of its headline
    estimate.
    """
    combos = dict(combinations or {})
    unknown = {v for c in combos.values() for v in c if v not in values}
    if unknown:
        raise EstimationError(f"combinations use unknown variables {sorted(unknown)}")
    dom = domains(design, by)
    totals = totals_for(design, values, [dom.codes])
    return means_table(totals, dom, dom.keys, combos, level)
