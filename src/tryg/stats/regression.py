"""Design-based regression: linear and logistic models with survey standard errors (R's ``svyglm``).

A model is fitted by weighted least squares / IRLS with the design weights (the point estimates
of R's ``svyglm``). Its standard errors come from the design, not from the model:

* on a :class:`~tryg.stats.design.Design` by linearisation (the sandwich): the influence
  values ``w_i x_i (y_i - mu_i) A^-1`` (``A`` the weighted information matrix) are the scores
  of the coefficients, and their design covariance is that of
  :func:`tryg.stats.variance.linearized_variance` (strata, clusters, finite population
  corrections and calibration residuals enter exactly as they do for a mean). A domain's
  influence values are zero outside it, so the fit and its covariance are computed on the
  domain's rows only (:mod:`tryg.stats.regression_covariance`), plus small products with the
  calibration's projection: a domain of 3,000 rows costs about as much in a design of
  300,000 rows as on its own; rows with the same covariates and response are merged (their
  influence values differ only by the weight), so a model of categories is fitted on a few
  hundred merged rows per domain;
* on a :class:`~tryg.stats.replicates.ReplicateDesign` the model is refitted with every set of
  replicate weights (starting from the full-sample fit) and the coefficients' variance is the
  replicate variance.

Residual degrees of freedom are R's: the design's degrees of freedom (PSUs minus strata of the
rows used; the replicate rank for replicate designs) plus one minus the number of estimated
coefficients. A domain (``subset=`` or ``by=``) is R's ``subset()``: the rows outside get no
weight but the design's strata and clusters stay as they are. Rows with a missing value in any
variable of the model are dropped, as R's ``na.action = na.omit``.

Formulas are R-style and parsed by `formulaic` (``"y ~ x + C(region)"``; a text column is a
categorical term on its own); the reference level of a categorical term is its first level in
sorted order, R's default treatment contrast.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from formulaic import Formula, model_matrix
from scipy import stats as sps

from tryg.stats.design import Design, FloatArray, IntArray
from tryg.stats.errors import EstimationError
from tryg.stats.regression_covariance import (
    Prepared,
    ScoreRows,
    covariances,
    covariances_of_totals,
    cross_products,
    number_pairs,
    prepare,
    times,
)
from tryg.stats.regression_covariance import bounds_of as _bounds
from tryg.stats.replicates import ReplicateDesign

BoolArray = npt.NDArray[np.bool_]

Family = Literal["gaussian", "quasibinomial"]
FAMILIES: tuple[str, ...] = ("gaussian", "quasibinomial")
AnyDesign = Design | ReplicateDesign

#: R's qr() tolerance in glm.fit: a column whose weighted norm after removing the earlier
#: columns is below this fraction of its own norm is aliased (its coefficient is NA).
ALIAS_TOLERANCE = 1e-7
#: IRLS stops when no coefficient changes by more than this relative amount.
IRLS_TOLERANCE = 1e-11
IRLS_MAXIT = 100


# -- model frame -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelFrame:
    """Response and model matrix of a formula on a design's data (all rows).

    ``complete`` marks rows with every model variable present; ``terms`` maps each term
    label to the model-matrix columns it owns (R's ``assign``), ``spec`` is formulaic's model
    spec, which rebuilds the matrix for changed data with the same coding (for margins).
    """

    formula: str
    y: FloatArray
    X: FloatArray
    names: tuple[str, ...]
    terms: dict[str, tuple[int, ...]]
    complete: BoolArray
    spec: Any
    #: each complete row's number among the frame's distinct (covariates, response) rows; -1
    #: for the others (rows are merged by it, see :func:`_merged`)
    distinct: IntArray = field(repr=False)

    def distinct_rows(self) -> tuple[FloatArray, FloatArray]:
        """The distinct (covariates, response) rows numbered in ``distinct``: X and y."""
        n = int(self.distinct.max()) + 1
        first = np.empty(n, dtype=np.int64)
        at = np.flatnonzero(self.distinct >= 0)[::-1]
        first[self.distinct[at]] = at  # each distinct row's first row
        return self.X[first], self.y[first]


def model_frame(data: pd.DataFrame, formula: str) -> ModelFrame:
    """Build the response and model matrix of ``formula`` on ``data`` (missing rows flagged)."""
    try:
        parsed = Formula(formula)
        required = sorted(parsed.required_variables)
    except Exception as exc:  # formulaic raises many parser error types
        raise EstimationError(f"cannot read the formula {formula!r}: {exc}") from exc
    unknown = [v for v in required if v not in data.columns]
    if unknown:
        raise EstimationError(
            f"the formula {formula!r} names unknown column(s) {', '.join(map(repr, unknown))}"
        )
    if not hasattr(parsed, "lhs"):
        raise EstimationError(f"the formula {formula!r} has no response (write 'y ~ x')")
    # a formula of column names only (no transform, no expression) codes each row from its
    # own values: its matrix is built on the data's distinct rows and spread to every row
    # (formulaic reads the same categories from them, in far less time)
    by_row = all(factor.eval_method.value in ("lookup", "literal")
                 for side in (parsed.lhs, parsed.rhs) for term in side for factor in term.factors)
    rows, first = (_row_numbers(data, required) if by_row
                   else (np.arange(len(data)), np.arange(len(data))))
    source = data.iloc[first].reset_index(drop=True) if by_row else data
    complete = np.ones(len(source), dtype=bool)
    for name in required:
        complete &= source[name].notna().to_numpy()
    if not complete.any():
        raise EstimationError(f"no row has every variable of {formula!r}")
    # the categories are read from the complete rows only (R drops NA rows before coding)
    mm = model_matrix(formula, source, na_action="ignore")
    lhs = np.asarray(mm.lhs, dtype=np.float64)
    if lhs.ndim != 2 or lhs.shape[1] != 1:
        raise EstimationError(
            f"the response of {formula!r} must be one numeric column (got {lhs.shape[1]})"
        )
    X = np.asarray(mm.rhs, dtype=np.float64)
    y = lhs[:, 0]
    complete &= np.isfinite(y) & np.isfinite(X).all(axis=1)
    spec = mm.rhs.model_spec
    terms: dict[str, tuple[int, ...]] = {}
    for term, sl in spec.term_slices.items():
        terms[str(term)] = tuple(range(sl.start, sl.stop))
    # numbered in order of first appearance among the source's complete rows, which is that
    # among the data's rows (a distinct row's rows are all complete or all not)
    distinct = np.full(len(y), -1, np.int64)
    distinct[complete] = _distinct_rows(X[complete], y[complete])
    if by_row:
        X, y, complete, distinct = X[rows], y[rows], complete[rows], distinct[rows]
    return ModelFrame(
        formula=formula, y=y, X=X, names=tuple(map(str, mm.rhs.columns)), terms=terms,
        complete=complete, spec=spec, distinct=distinct,
    )


def _value_codes(column: pd.Series) -> tuple[IntArray, int]:
    """A number per row for the column's value (missing: one more) and how many numbers.
    Floats of a few whole values (0/1 indicators, answer codes) are their own numbers, far
    cheaper than a hash table's."""
    if column.dtype == np.float64:
        v = column.to_numpy()
        missing = np.isnan(v)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all missing
            lo, hi = np.nanmin(v), np.nanmax(v)
        if not np.isfinite(lo):
            return missing.astype(np.int64), 2
        if hi - lo < 2**16:
            span = int(hi - lo) + 1
            shifted = v - lo
            shifted[missing] = span
            codes = shifted.astype(np.int64)
            if (codes == shifted).all():  # whole values
                return codes, span + 1
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return np.asarray(codes, np.int64), max(len(uniques), 1)


def _row_numbers(data: pd.DataFrame, columns: Sequence[str]) -> tuple[IntArray, IntArray]:
    """Each row's number among the distinct rows of ``data[columns]`` (a missing value is a
    value), in order of first appearance, and each distinct row's first row."""
    key = np.zeros(len(data), np.int64)
    size = 1
    for name in columns:
        codes, levels = _value_codes(data[name])
        if size * levels >= 2**62:  # renumber the combinations seen so far
            key = np.asarray(pd.factorize(key)[0], np.int64)
            size = int(key.max()) + 1
        key = key * levels + np.asarray(codes, np.int64)
        size *= levels
    number = np.asarray(pd.factorize(key)[0], np.int64)
    first = np.empty(int(number.max()) + 1 if len(number) else 0, dtype=np.int64)
    first[number[::-1]] = np.arange(len(number) - 1, -1, -1)
    return number, first


# -- fitting ----------------------------------------------------------------------------------
# Every Design fit is computed for all its domains at once ("batched"): the domains' rows are
# stacked, sorted by domain, and ``bounds`` marks where each domain's rows start and end (every
# domain in a batch has rows). Per-domain matrices are (domains x p x p) arrays, solved with
# numpy's stacked ``linalg`` routines; a coefficient that a domain drops (aliased) keeps its
# place with a zero coefficient, an identity row and column in the matrices the fit solves
# (so that the kept ones solve their own system exactly) and a zero score.


def _domain_sums(values: FloatArray, bounds: IntArray) -> FloatArray:
    """Column sums of ``values`` over each domain's rows (every domain has rows)."""
    return np.asarray(np.add.reduceat(values, bounds[:-1], axis=0), np.float64)


def _per_row(values: FloatArray, bounds: IntArray) -> FloatArray:
    """Each domain's row of ``values`` repeated for each of its rows."""
    return np.repeat(values, np.diff(bounds), axis=0)


def _linear_predictor(X: FloatArray, beta: FloatArray, bounds: IntArray) -> FloatArray:
    """``X_i . beta_d`` for every row i of domain d."""
    return np.asarray(np.einsum("ij,ij->i", X, _per_row(beta, bounds)), np.float64)


def _grams(X: FloatArray, v: FloatArray, bounds: IntArray) -> FloatArray:
    """``X_d' diag(v_d) X_d`` of every domain d (domains x p x p)."""
    return cross_products(X, X * v[:, None], bounds)


def _distinct_rows(X: FloatArray, y: FloatArray) -> IntArray:
    """Each row's number among the distinct (covariates, response) rows, in order of first
    appearance."""
    columns = [*X.T, y]
    # 0/1 columns (dummies, a binary response) as the bits of one number; others numbered
    binary = [j for j, c in enumerate(columns) if ((c == 0.0) | (c == 1.0)).all()][:52]
    numbered = [(codes, len(uniques)) for codes, uniques in
                (pd.factorize(c) for j, c in enumerate(columns) if j not in binary)]
    if binary:
        bits = np.zeros(len(y))
        for at, j in enumerate(binary):
            bits += columns[j] * 2.0**at
        numbered.append((bits.astype(np.int64), 2 ** len(binary)))
    key = np.zeros(len(y), np.int64)
    size = 1
    for codes, levels in numbered:
        if size * levels >= 2**62:  # renumber the combinations seen so far
            key = np.asarray(pd.factorize(key)[0], np.int64)
            size = int(key.max()) + 1
        key = key * levels + np.asarray(codes, np.int64)
        size *= levels
    return np.asarray(pd.factorize(key)[0], np.int64)


def _merged(
    frame: ModelFrame, rows: IntArray, w: FloatArray, bounds: IntArray
) -> tuple[FloatArray, IntArray, IntArray, IntArray]:
    """The ``rows`` (sorted by domain, weights ``w``) with the same covariates and response in
    a domain merged into one, their weights summed (sorted by domain too): the merged rows'
    weights, bounds and first rows (positions in ``rows``), and each row's merged row.

    A weighted fit's likelihood, score and information are sums over rows of terms that
    depend on the row's covariates, response and weight only through the weight's factor, so
    the merged rows give the same fit: for a model of categories a few hundred distinct rows
    in a domain of thousands. The frame numbers its distinct rows once (``distinct``), so a
    merged row is a (domain, distinct row) pair.
    """
    D = len(bounds) - 1
    size = int(frame.distinct.max()) + 1
    key = np.repeat(np.arange(D, dtype=np.int64), np.diff(bounds)) * size + frame.distinct[rows]
    merged = np.asarray(pd.factorize(key)[0], np.int64)  # in order of first appearance
    n = int(merged.max()) + 1 if len(merged) else 0
    first = np.empty(n, dtype=np.int64)
    first[merged[::-1]] = np.arange(len(merged) - 1, -1, -1)  # each merged row's first row
    domain = key[first] // size
    merged_w = np.asarray(np.bincount(merged, weights=w, minlength=n), np.float64)
    return merged_w, _bounds(np.bincount(domain, minlength=D)), first, merged


@dataclass(frozen=True)
class DomainRows:
    """The rows the fits of domains use (:func:`domain_rows`), sorted by domain, and the same
    rows merged (:func:`_merged`): what :func:`newton_from_zero` and
    :func:`fit_domain_effects` would each sort and merge again, prepared once for both.

    ``rows`` (sorted by domain and row number), their ``weight`` and ``merged`` row, and each
    domain's count of rows (``counts``, all ``n_domains``); the merged rows' ``X``, ``y``,
    summed weights ``w``, ``distinct`` row of the frame and their ``bounds`` among the domains
    with rows (``present``).
    """

    rows: IntArray
    counts: IntArray
    weight: FloatArray
    merged: IntArray
    X: FloatArray
    y: FloatArray
    w: FloatArray
    distinct: IntArray
    bounds: IntArray

    @property
    def present(self) -> IntArray:
        return np.flatnonzero(self.counts)

    def without(self, domains: BoolArray) -> DomainRows:
        """These rows without those of the marked ``domains`` (n_domains): the same as
        :func:`domain_rows` of codes that leave those domains out, without sorting and
        merging again (sorting is stable and merged rows are numbered in order of first
        appearance, so the other domains' rows and merged rows keep their order)."""
        counts = np.where(domains, 0, self.counts)
        keep = ~np.repeat(domains, self.counts)
        by_merged = ~np.repeat(domains[self.present], np.diff(self.bounds))
        number = np.cumsum(by_merged) - 1
        return DomainRows(
            self.rows[keep], counts, self.weight[keep], number[self.merged[keep]],
            self.X[by_merged], self.y[by_merged], self.w[by_merged], self.distinct[by_merged],
            _bounds(np.diff(self.bounds)[~domains[self.present]]))


def domain_rows(
    frame: ModelFrame, weights: FloatArray, codes: IntArray, n_domains: int
) -> DomainRows:
    """The rows of the domains numbered in ``codes`` (0..n_domains-1; -1: in none) that their
    fits use (every model variable present, a positive weight), sorted and merged once for
    several calls on the same domains (the ``rows=`` of :func:`newton_from_zero` and
    :func:`fit_domain_effects`)."""
    w_all = np.asarray(weights, np.float64)
    rows, counts = _domain_rows(frame, w_all, np.asarray(codes, np.int64), n_domains)
    w = w_all[rows]
    wm, mb, first, merged = _merged(frame, rows, w, _bounds(counts[counts > 0]))
    at = rows[first]
    return DomainRows(rows, counts, w, merged, frame.X[at], frame.y[at], wm,
                      frame.distinct[at], mb)


def _only_kept(A: FloatArray, b: FloatArray, keep: BoolArray) -> tuple[FloatArray, FloatArray]:
    """The systems ``A x = b`` with the dropped coefficients' rows and columns made identity
    rows and columns and their right-hand side zero: the kept coefficients solve their own
    system, the dropped ones are 0."""
    both = keep[:, :, None] & keep[:, None, :]
    eye = np.broadcast_to(np.eye(A.shape[1], dtype=bool), A.shape)
    return np.where(both, A, np.where(eye, 1.0, 0.0)), np.where(keep, b, 0.0)


def _alias(G: FloatArray) -> BoolArray:
    """Which columns each domain keeps (not aliased), as R's limited-pivoting QR decides.

    ``G`` holds the domains' weighted cross-products. Column j is aliased when its weighted
    squared norm after projection on the kept columns before it,
    ``G[j, j] - G[j, k] G[k, k]^-1 G[k, j]``, is below ``ALIAS_TOLERANCE**2`` of ``G[j, j]``
    (the squared pivot of a Cholesky factorisation grown one kept column at a time); the
    projections of all domains are one stacked solve per column.
    """
    D, p = G.shape[:2]
    keep = np.zeros((D, p), dtype=bool)
    diag = np.diagonal(G, axis1=1, axis2=2)
    for j in range(p):
        res = diag[:, j].copy()
        if j:
            A, g = _only_kept(G[:, :j, :j], G[:, :j, j], keep[:, :j])
            res -= np.einsum("di,di->d", g, np.linalg.solve(A, g[:, :, None])[:, :, 0])
        keep[:, j] = (diag[:, j] > 0) & (res > (ALIAS_TOLERANCE**2) * diag[:, j])
    return keep


def _normal_solve(
    X: FloatArray, ww: FloatArray, r: FloatArray, bounds: IntArray, keep: BoolArray
) -> FloatArray:
    """``(X_d' W_d X_d)^-1 X_d' r_d`` of every domain d: a step of weighted least squares.

    The cross-products are small (columns x columns). LAPACK's least-squares routines on the
    tall matrices are slow with a threaded BLAS on a busy machine; the callers iterate (IRLS,
    refinement), so the normal equations lose no accuracy at the fixed point. Each matrix is
    scaled to unit diagonal first (a year column next to 0/1 dummies).
    """
    A, b = _only_kept(_grams(X, ww, bounds), _domain_sums(X * r[:, None], bounds), keep)
    d = np.sqrt(np.diagonal(A, axis1=1, axis2=2))
    d = np.where(d > 0, d, 1.0)
    scaled_A = A / (d[:, :, None] * d[:, None, :])
    scaled_b = b / d
    try:
        scaled = np.linalg.solve(scaled_A, scaled_b[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:  # e.g. a replicate without any row of a category
        scaled = np.empty_like(scaled_b)
        for k in range(len(d)):
            try:
                scaled[k] = np.linalg.solve(scaled_A[k], scaled_b[k])
            except np.linalg.LinAlgError:
                scaled[k] = np.linalg.lstsq(scaled_A[k], scaled_b[k], rcond=None)[0]
    return np.asarray(np.where(keep, scaled / d, 0.0), np.float64)


def _wls(
    X: FloatArray, z: FloatArray, ww: FloatArray, bounds: IntArray, keep: BoolArray
) -> FloatArray:
    """Weighted least squares of ``z`` on ``X`` in every domain (two refinement steps)."""
    beta = _normal_solve(X, ww, ww * z, bounds, keep)
    for _ in range(2):
        beta = beta + _normal_solve(
            X, ww, ww * (z - _linear_predictor(X, beta, bounds)), bounds, keep)
    return beta


def _irls(
    X: FloatArray, y: FloatArray, w: FloatArray, bounds: IntArray, keep: BoolArray,
    family: Family, start: FloatArray | None = None,
) -> FloatArray:
    """Coefficients (domains x p, 0 where dropped) of every domain's weighted fit (from the
    ``start`` coefficients of the domains that have a finite row there).

    R's IRLS (glm.fit) written as Newton steps: the weighted least-squares fit of the working
    response ``eta + (y - mu) / v`` with weights ``w v`` is the current coefficients plus
    ``(X' W X)^-1 X' w (y - mu)``, the same iterate, computed from the score. A domain stops
    when none of its coefficients changes by more than ``IRLS_TOLERANCE`` (relative); the
    next steps are computed for the domains still moving only.
    """
    if family == "gaussian":
        return _wls(X, y, w, bounds, keep)
    # R's start (the working response of mu = (y + 1/2) / 2) for domains without a start row
    fresh = np.ones(len(keep), bool) if start is None else ~np.isfinite(start).any(axis=1)
    beta = np.where(keep, 0.0 if start is None else np.nan_to_num(start), 0.0)
    if fresh.any():
        which = np.flatnonzero(fresh)
        Xf, yf, wf, bf = ((X, y, w, bounds) if fresh.all()
                          else _domains_part(X, y, w, bounds, which))
        mu = np.clip((yf + 0.5) / 2.0, 0.01, 0.99)
        eta = np.log(mu / (1 - mu))
        v = mu * (1 - mu)
        beta[which] = _wls(Xf, eta + (yf - mu) / v, wf * v, bf, keep[which])
    moving = np.arange(len(keep))
    part = (X, y, w, bounds)
    for _ in range(IRLS_MAXIT):
        Xa, ya, wa, ba = part
        mu = _expit(_linear_predictor(Xa, beta[moving], ba))
        v = np.maximum(mu * (1 - mu), 1e-300)
        old = beta[moving]
        new = old + _normal_solve(Xa, wa * v, wa * (ya - mu), ba, keep[moving])
        beta[moving] = new
        done = np.max(np.abs(new - old) / (np.abs(new) + 1e-3), axis=1) < IRLS_TOLERANCE
        if done.all():
            break
        if done.any():
            moving = moving[~done]
            part = _domains_part(X, y, w, bounds, moving)
    else:
        raise EstimationError(
            f"the logistic model did not converge in {IRLS_MAXIT} iterations (separation?)"
        )
    return beta


def _domains_part(
    X: FloatArray, y: FloatArray, w: FloatArray, bounds: IntArray, which: IntArray
) -> tuple[FloatArray, FloatArray, FloatArray, IntArray]:
    """The rows of the domains ``which`` (and their bounds)."""
    starts, ends = bounds[which], bounds[which + 1]
    rows = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)])
    return X[rows], y[rows], w[rows], _bounds(ends - starts)


def _expit(eta: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-eta)), np.float64)


def _inverse_link_derivative(family: Family, eta: FloatArray) -> FloatArray:
    if family == "gaussian":
        return np.ones_like(eta)
    mu = 1.0 / (1.0 + np.exp(-eta))
    return mu * (1 - mu)


def _inverse_link(family: Family, eta: FloatArray) -> FloatArray:
    if family == "gaussian":
        return eta
    return 1.0 / (1.0 + np.exp(-eta))


# -- results ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class MergedInfluence:
    """A fit's influence values kept on its merged rows: a row's are its weight times its
    merged row's (``values[merged] * weight``, the columns ``kept``)."""

    values: FloatArray
    merged: IntArray
    weight: FloatArray
    kept: BoolArray

    def per_row(self) -> FloatArray:
        return np.asarray(self.values[self.merged][:, self.kept] * self.weight[:, None],
                          np.float64)


@dataclass(frozen=True)
class GLMFit:
    """One fitted model: coefficients (NaN when aliased), their design-based covariance, df.

    ``table()`` gives R's ``summary(svyglm)`` coefficient table. ``influence`` (rows × kept
    coefficients, linearised fits only) is what :func:`margins` needs; it is kept on the
    merged rows (``merged_influence``) and expanded when asked for.
    """

    formula: str
    family: Family
    names: tuple[str, ...]
    terms: dict[str, tuple[int, ...]]
    coefficients: FloatArray
    vcov: FloatArray
    df_residual: float
    n: int
    rows: IntArray = field(repr=False)
    merged_influence: MergedInfluence | None = field(default=None, repr=False)
    spec: Any = field(default=None, repr=False)
    level: float = 0.95

    @property
    def influence(self) -> FloatArray | None:
        """The influence values (rows x kept coefficients); None for replicate designs."""
        m = self.merged_influence
        return None if m is None else m.per_row()

    @property
    def se(self) -> FloatArray:
        return np.sqrt(np.diag(self.vcov))

    @property
    def rank(self) -> int:
        return int(np.isfinite(self.coefficients).sum())

    def table(self) -> pd.DataFrame:
        """term, estimate, se, t, p, ci_low, ci_high, df (t distribution on the residual df)."""
        se = self.se
        with np.errstate(divide="ignore", invalid="ignore"):
            t = self.coefficients / se
        df = self.df_residual
        if df > 0:
            p = 2 * sps.t.sf(np.abs(t), df)
            q = sps.t.ppf(0.5 + self.level / 2, df)
        else:
            p = np.full_like(t, np.nan)
            q = np.nan
        return pd.DataFrame({
            "term": list(self.names), "estimate": self.coefficients, "se": se, "t": t, "p": p,
            "ci_low": self.coefficients - q * se, "ci_high": self.coefficients + q * se,
            "df": np.full(len(t), df),
        })


@dataclass(frozen=True)
class WaldTest:
    """A Wald test that a group of coefficients is zero (R's ``regTermTest``, method "Wald").

    ``F = chisq / df`` on (``df``, ``ddf``) degrees of freedom, ``ddf`` the model's residual
    df (R's default); ``p_chisq`` is the large-sample chi-square version (R with ``df=Inf``).
    """

    terms: tuple[str, ...]
    chisq: float
    df: int
    ddf: float
    F: float
    p: float
    p_chisq: float


# -- public API -------------------------------------------------------------------------------
def glm(
    design: AnyDesign,
    formula: str,
    family: Family = "gaussian",
    *,
    subset: BoolArray | pd.Series | None = None,
) -> GLMFit:
    """Fit ``formula`` on the design (or on the ``subset`` rows, R's ``subset()``)."""
    frame = model_frame(design.data, formula)
    dom = np.zeros(design.n, dtype=np.int64)
    if subset is not None:
        mask = np.asarray(subset, dtype=bool)
        if mask.shape != (design.n,):
            raise EstimationError("subset must be one boolean per design row")
        dom = np.where(mask, 0, -1)
    return _fit_domains(design, frame, family, dom, 1)[0]


def glm_by(
    design: AnyDesign, formula: str, by: str | Sequence[str], family: Family = "gaussian"
) -> tuple[pd.DataFrame, list[GLMFit]]:
    """One model per domain of the ``by`` columns (R's ``svyby(..., svyglm)``).

    Returns the domain keys (one row per domain, sorted) and the fits in the same order.
    """
    from tryg.stats.estimators import domains

    frame = model_frame(design.data, formula)
    d = domains(design, by)
    return d.keys.reset_index(drop=True), _fit_domains(design, frame, family, d.codes, d.count)


def fit_domains(
    design: AnyDesign, frame: ModelFrame, codes: IntArray, n_domains: int,
    family: Family = "gaussian", *, start: FloatArray | None = None,
) -> list[GLMFit]:
    """One model per domain numbered in ``codes`` (0..n_domains-1; -1: in none), on a model
    frame built once (:func:`model_frame` of data row-aligned with the design's).

    ``glm_by`` without the formula's and the domains' bookkeeping, for callers that fit the
    same formula on several numberings. ``start`` (n_domains x columns) gives coefficients to
    start a logistic fit's iterations from (e.g. those of :func:`newton_from_zero`); a row
    without a finite value starts from R's start. The fits are the same, only cheaper.
    """
    return _fit_domains(design, frame, family, np.asarray(codes, np.int64), n_domains, start)


@dataclass(frozen=True)
class DomainEffects:
    """:func:`fit_domains`' fits and, in each, the average marginal effects of some 0/1
    columns (``effects``: domains x columns, NaN for a domain without a fit or whose fit drops
    one of the columns) with their design covariance (``vcov``: domains x columns x columns).
    """

    fits: list[GLMFit]
    effects: FloatArray
    vcov: FloatArray


def fit_domain_effects(
    design: Design, frame: ModelFrame, codes: IntArray, n_domains: int, columns: Sequence[int],
    family: Family = "gaussian", *, start: FloatArray | None = None,
    rows: DomainRows | None = None,
) -> DomainEffects:
    """:func:`fit_domains` (linearised designs) and the average marginal effect of each of the
    0/1 model-matrix ``columns`` in each domain: what :func:`margins` gives for a 0/1 variable
    (the mean prediction over the fit's rows with the column set to 1 minus that with it set
    to 0), linearised through the fit's influence values, computed on the merged rows.
    ``rows``: :func:`domain_rows` of these ``codes``, if the caller has them."""
    if isinstance(design, ReplicateDesign):
        raise EstimationError("effects of domains need a linearised fit (a Design)")
    w_all = _check_inputs(design, frame, family)
    if rows is None:
        rows = domain_rows(frame, w_all, codes, n_domains)
    k = len(columns)
    fits, present, batch = _linearised_domains(design, frame, family, rows, start, columns)
    effects = np.full((n_domains, k), np.nan)
    vcov = np.full((n_domains, k, k), np.nan)
    if batch is not None and batch.effects is not None:
        found, V = batch.effects
        kept = np.array([np.isfinite(f.coefficients[list(columns)]).all() for f in batch.fits])
        effects[present[kept]] = found[kept]
        vcov[present[kept]] = V[kept]
    return DomainEffects(fits, effects, vcov)


@dataclass(frozen=True)
class NewtonCheck:
    """Where Newton's iterations of each domain's weighted logistic fit from zero got to
    (:func:`newton_from_zero`): coefficients (NaN where aliased or without rows), whether
    they settled, and whether the domain's columns were all kept (none aliased)."""

    coefficients: FloatArray
    settled: BoolArray
    full_rank: BoolArray


def newton_from_zero(
    frame: ModelFrame, weights: FloatArray, codes: IntArray, n_domains: int, *, steps: int,
    largest: float, settle: float = 1e-8, rows: DomainRows | None = None,
) -> NewtonCheck:
    """At most ``steps`` Newton iterations of every domain's weighted logistic fit from zero
    coefficients, without variances: a cheap check for separation before the design-based
    fits. A domain stops (not settled) once a coefficient passes ``largest`` in absolute
    value, and is settled once no coefficient moves by more than ``settle``. The linear
    predictor is clipped to +-30, so that a diverging fit stays finite. Aliased columns are
    dropped as the fit drops them. ``rows``: :func:`domain_rows` of these ``codes``, if the
    caller has them.
    """
    if rows is None:
        rows = domain_rows(frame, weights, codes, n_domains)
    p = frame.X.shape[1]
    coefficients = np.full((n_domains, p), np.nan)
    settled = np.zeros(n_domains, dtype=bool)
    full_rank = np.zeros(n_domains, dtype=bool)
    present = rows.present
    if not len(present):
        return NewtonCheck(coefficients, settled, full_rank)
    X, y, w, bounds = rows.X, rows.y, rows.w, rows.bounds
    keep = _alias(_grams(X, w, bounds))
    beta = np.zeros(keep.shape)
    done = np.zeros(len(present), dtype=bool)
    moving = np.arange(len(present))
    part = (X, y, w, bounds)
    for _ in range(steps):
        Xa, ya, wa, ba = part
        mu = _expit(np.clip(_linear_predictor(Xa, beta[moving], ba), -30.0, 30.0))
        step = _normal_solve(Xa, wa * mu * (1 - mu), wa * (ya - mu), ba, keep[moving])
        beta[moving] += step
        big = np.abs(beta[moving]).max(axis=1) > largest
        small = np.abs(step).max(axis=1) < settle
        done[moving[small & ~big]] = True
        if (big | small).all():
            break
        if (big | small).any():
            moving = moving[~(big | small)]
            part = _domains_part(X, y, w, bounds, moving)
    coefficients[present] = np.where(keep, beta, np.nan)
    settled[present] = done
    full_rank[present] = keep.all(axis=1)
    return NewtonCheck(coefficients, settled, full_rank)


def coefficient_table(keys: pd.DataFrame, fits: Sequence[GLMFit]) -> pd.DataFrame:
    """The coefficient tables of ``glm_by`` stacked, with the domain key columns in front."""
    parts = []
    for i, fit in enumerate(fits):
        tab = fit.table()
        for col in keys.columns:
            tab.insert(0, col, keys[col].iloc[i])
        parts.append(tab)
    return pd.concat(parts, ignore_index=True)


def wald_test(fit: GLMFit, terms: Sequence[str], df: float | None = None) -> WaldTest:
    """Test that every coefficient of the named terms is zero (R's ``regTermTest``)."""
    index: list[int] = []
    for term in terms:
        if term not in fit.terms:
            raise EstimationError(
                f"term {term!r} is not in the model; its terms are {', '.join(fit.terms)}"
            )
        index.extend(i for i in fit.terms[term] if np.isfinite(fit.coefficients[i]))
    if not index:
        raise EstimationError("none of the terms has an estimated coefficient")
    beta = fit.coefficients[index]
    V = fit.vcov[np.ix_(index, index)]
    chisq = float(beta @ np.linalg.solve(V, beta))
    k = len(index)
    ddf = fit.df_residual if df is None else float(df)
    F = chisq / k
    p = float(sps.f.sf(F, k, ddf)) if np.isfinite(ddf) and ddf > 0 else float("nan")
    return WaldTest(
        terms=tuple(terms), chisq=chisq, df=k, ddf=ddf, F=F, p=p,
        p_chisq=float(sps.chi2.sf(chisq, k)),
    )


# -- the engine -------------------------------------------------------------------------------
def _check_inputs(design: AnyDesign, frame: ModelFrame, family: Family) -> FloatArray:
    """The design's weights, once the family and the weights are known to suit a fit."""
    if family not in FAMILIES:
        raise EstimationError(f"family={family!r} is not one of {', '.join(FAMILIES)}")
    if family == "quasibinomial":
        bad = frame.complete & ((frame.y < 0) | (frame.y > 1))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise EstimationError(
                f"a quasibinomial response must lie in [0, 1]; row {row} has {frame.y[row]:g}"
            )
    w_all = np.asarray(design.weights, dtype=np.float64)
    if (w_all < 0).any():
        row = int(np.flatnonzero(w_all < 0)[0])
        raise EstimationError(
            f"a regression needs weights >= 0; row {row} has weight {w_all[row]:g} (linear "
            "calibration can give negative weights: bound it with calibrate(bounds=...))"
        )
    return w_all


def _domain_rows(
    frame: ModelFrame, w_all: FloatArray, dom: IntArray, n_domains: int
) -> tuple[IntArray, IntArray]:
    """The rows each domain's fit uses (every model variable present, a positive weight),
    sorted by domain and by row number within it, and the number of rows of each domain."""
    # in the narrowest signed integer type that holds the codes (-1 .. n_domains - 1): numpy
    # sorts integers of up to 16 bits by radix, in linear time
    narrow = np.min_scalar_type(-max(n_domains, 1))
    order = np.argsort(dom.astype(narrow), kind="stable")
    rows = order[(dom[order] >= 0) & frame.complete[order] & (w_all[order] > 0)]
    return rows, np.bincount(dom[rows], minlength=n_domains)


def _fit_domains(
    design: AnyDesign, frame: ModelFrame, family: Family, dom: IntArray, n_domains: int,
    start: FloatArray | None = None,
) -> list[GLMFit]:
    w_all = _check_inputs(design, frame, family)
    if isinstance(design, ReplicateDesign):
        rows, counts = _domain_rows(frame, w_all, dom, n_domains)
        return _replicate_fits(design, frame, family, dom, rows, _bounds(counts))
    return _linearised_domains(design, frame, family, domain_rows(frame, w_all, dom, n_domains),
                               start)[0]


def _linearised_domains(
    design: Design, frame: ModelFrame, family: Family, rows: DomainRows,
    start: FloatArray | None, effects_of: Sequence[int] | None = None,
) -> tuple[list[GLMFit], IntArray, _Batch | None]:
    """Every domain's fit (an empty one for a domain without rows), the domains with rows,
    and the batch of their fits (None when no domain has rows); with the average marginal
    effects of the 0/1 columns ``effects_of`` if given."""
    p = frame.X.shape[1]
    fits = [_empty_fit(frame, family, np.full(p, np.nan), rows.rows[:0])] * len(rows.counts)
    present = rows.present
    if not len(present):
        return fits, present, None
    some = None if start is None else np.asarray(start, np.float64)[present]
    batch = _linearised_fits(design, frame, family, rows, some, effects_of)
    for d, fit in zip(present, batch.fits, strict=True):
        fits[d] = fit
    return fits, present, batch


@dataclass(frozen=True)
class _Batch:
    """Linearised fits of domains that all have rows, and their merged rows: X, weights and
    bounds, the coefficients (0 where dropped), the merged rows' influence values (a row's
    are its weight times its merged row's), the covariances' prepared sums, and the
    effects asked for with their covariances (:func:`_binary_scores`)."""

    fits: list[GLMFit]
    X: FloatArray
    w: FloatArray
    bounds: IntArray
    beta: FloatArray
    influence: FloatArray
    prepared: Prepared
    effects: tuple[FloatArray, FloatArray] | None = None


def _linearised_fits(
    design: Design, frame: ModelFrame, family: Family, domains: DomainRows,
    start: FloatArray | None, effects_of: Sequence[int] | None = None,
) -> _Batch:
    """The fits of the domains with rows of ``domains`` (and the average marginal effects of
    the 0/1 columns ``effects_of``, if given, with their covariances).

    Everything is computed on the merged rows (:func:`_merged`): the fit, the information
    matrix and the influence values ``w_i x_i (y_i - mu_i) A^-1``, which are the row's weight
    times its merged row's ``x (y - mu) A^-1``; their covariances take the design's sums over
    the rows once (:mod:`tryg.stats.regression_covariance`).
    """
    counts = domains.counts[domains.present]
    bounds = _bounds(counts)
    D = len(counts)
    rows, w, merged = domains.rows, domains.weight, domains.merged
    X, y, wm, mb = domains.X, domains.y, domains.w, domains.bounds
    keep = _alias(_grams(X, wm, mb))
    beta = _irls(X, y, wm, mb, keep, family, start)
    eta = _linear_predictor(X, beta, mb)
    mu = _inverse_link(family, eta)
    A, _ = _only_kept(_grams(X, wm * _inverse_link_derivative(family, eta), mb),
                      np.zeros(keep.shape), keep)
    try:
        inverse = np.linalg.inv(A)
    except np.linalg.LinAlgError as exc:
        raise EstimationError(
            "the model's information matrix is singular (a category with only 0s or 1s?)"
        ) from exc
    both = keep[:, :, None] & keep[:, None, :]
    Ainv = np.asarray(np.where(both, inverse, 0.0), np.float64)
    influence = times(X * (y - mu)[:, None], Ainv, mb)  # 0 for the dropped coefficients
    code = np.repeat(np.arange(D), counts)
    prepared = prepare(design, ScoreRows(rows, code, merged, w, mb))
    effects: tuple[FloatArray, FloatArray] | None = None
    if effects_of is None:
        V = np.where(both, covariances(prepared, influence), np.nan)
    else:
        # the coefficients' and the effects' covariances from one pass over the prepared
        # sums: the effects' scores are columns beside the influence values
        found, H = _binary_scores(family, X, wm, mb, beta, influence, effects_of)
        p = X.shape[1]
        C = covariances(prepared, np.hstack([influence, H]))
        V = np.where(both, C[:, :p, :p], np.nan)
        effects = (found, np.ascontiguousarray(C[:, p:, p:]))
    df = _domain_design_df(design, rows, code, D) + 1 - keep.sum(axis=1)
    coef = np.where(keep, beta, np.nan)
    fits = [
        GLMFit(frame.formula, family, frame.names, frame.terms, coef[d], V[d], float(df[d]),
               int(counts[d]), rows[s:e],
               MergedInfluence(influence, merged[s:e], w[s:e], keep[d]), frame.spec)
        for d, (s, e) in enumerate(pairwise(bounds.tolist()))
    ]
    return _Batch(fits, X, wm, mb, beta, influence, prepared, effects)


def _binary_scores(
    family: Family, X: FloatArray, w: FloatArray, b: IntArray, beta: FloatArray,
    influence: FloatArray, columns: Sequence[int],
) -> tuple[FloatArray, FloatArray]:
    """Each fit's average marginal effects of the 0/1 ``columns`` and their scores on the
    merged rows (``X``, summed weights ``w``, ``bounds`` ``b``; the fits' coefficients
    ``beta`` and influence values), whose covariances are the effects'.

    The effect of column c is what :func:`margins` gives for a 0/1 variable: the mean
    prediction with c set to 1 minus that with c set to 0, the other columns as they are.
    With ``eta`` a row's linear predictor, ``b`` c's coefficient and ``x`` the row's value,
    the two predictions are ``h(eta + (1 - x) b)`` and ``h(eta - x b)`` (``h`` the inverse
    link); their weighted mean difference over the fit's rows is the effect, and its gradient
    in the coefficients, ``g = sum w (v1 X1 - v0 X0) / W`` (``v = h'``), takes the spread of
    the coefficients in through the influence values: a row's score is
    ``w (diff - effect) / W + infl . g``, its weight times a merged row's value, so the whole
    computation is on merged rows.
    """
    eta = _linear_predictor(X, beta, b)
    W = _domain_sums(w, b)
    each_W = _per_row(W, b)
    effects = np.empty((len(W), len(columns)))
    H = np.empty((len(w), len(columns)))
    for j, c in enumerate(columns):
        bc, x = _per_row(beta[:, c], b), X[:, c]
        one, zero = eta + (1.0 - x) * bc, eta - x * bc
        diff = _inverse_link(family, one) - _inverse_link(family, zero)
        effects[:, j] = _domain_sums(w * diff, b) / W
        v1, v0 = _inverse_link_derivative(family, one), _inverse_link_derivative(family, zero)
        slope = X * (w * (v1 - v0))[:, None]
        slope[:, c] = w * v1
        grad = _domain_sums(slope, b) / W[:, None]
        H[:, j] = ((diff - _per_row(effects[:, j], b)) / each_W
                   + np.einsum("ij,ij->i", influence, _per_row(grad, b)))
    return effects, H


def _replicate_fits(
    design: ReplicateDesign, frame: ModelFrame, family: Family, dom: IntArray, rows: IntArray,
    bounds: IntArray,
) -> list[GLMFit]:
    """Replicate designs: one domain at a time (each is refitted with every replicate)."""
    p = frame.X.shape[1]
    w_all = np.asarray(design.weights, dtype=np.float64)
    fits: list[GLMFit] = []
    for d in range(len(bounds) - 1):
        r = rows[bounds[d]:bounds[d + 1]]
        coef = np.full(p, np.nan)
        if len(r) == 0:
            fits.append(_empty_fit(frame, family, coef, r))
            continue
        X, y, w = frame.X[r], frame.y[r], w_all[r]
        one = _bounds(np.array([len(r)]))
        keep = _alias(_grams(X, w, one))[0]
        Xk = X[:, keep]
        beta = _irls(Xk, y, w, one, np.ones((1, Xk.shape[1]), bool), family)[0]
        coef[keep] = beta
        df_res = _design_df(design, np.flatnonzero(dom == d)) + 1 - int(keep.sum())
        V = _replicate_vcov(design, Xk, y, r, family, beta)
        fits.append(_with_vcov(frame, family, coef, keep, V, df_res, r, None))
    return fits


def _empty_fit(frame: ModelFrame, family: Family, coef: FloatArray, rows: IntArray) -> GLMFit:
    p = len(coef)
    return GLMFit(frame.formula, family, frame.names, frame.terms, coef,
                  np.full((p, p), np.nan), float("nan"), 0, rows, None, frame.spec)


def _with_vcov(
    frame: ModelFrame, family: Family, coef: FloatArray, keep: BoolArray, V: FloatArray,
    df: float, rows: IntArray, infl: MergedInfluence | None,
) -> GLMFit:
    full = _expand(V, keep) if V.size else np.full((len(coef), len(coef)), np.nan)
    return GLMFit(frame.formula, family, frame.names, frame.terms, coef, full, float(df),
                  len(rows), rows, infl, frame.spec)


def _expand(V: FloatArray, keep: BoolArray) -> FloatArray:
    p = len(keep)
    full = np.full((p, p), np.nan)
    k = np.flatnonzero(keep)
    full[np.ix_(k, k)] = V
    return full


def _design_df(design: ReplicateDesign, rows: IntArray) -> float:
    """R's ``degf`` of the replicate design subset to ``rows``."""
    dom = np.zeros(len(rows), dtype=np.int64)
    return float(design.domain_degrees_of_freedom(rows, dom, 1)[0])


def _domain_design_df(design: Design, rows: IntArray, code: IntArray, n: int) -> FloatArray:
    """R's ``degf`` of the design subset to each domain's rows (``code``: the row's domain):
    its first-stage units minus its strata."""
    stage = design.stages[0]
    units = (np.bincount(code, minlength=n).astype(np.float64) if stage.n_units == design.n
             else None)  # every row its own unit: a domain's units are its rows

    def distinct(values: IntArray) -> FloatArray:
        size = int(values.max()) + 1 if len(values) else 1
        return np.bincount(number_pairs(code, values, size)[1], minlength=n).astype(np.float64)

    return (distinct(stage.unit[rows]) if units is None else units) - distinct(stage.stratum[rows])


def _replicate_vcov(
    design: ReplicateDesign, X: FloatArray, y: FloatArray, rows: IntArray, family: Family,
    beta0: FloatArray,
) -> FloatArray:
    k = X.shape[1]
    iu, ju = np.triu_indices(k)
    one = _bounds(np.array([len(rows)]))
    keep = np.ones((1, k), dtype=bool)

    def combos(b: FloatArray) -> FloatArray:
        return b[iu] + np.where(iu != ju, b[ju], 0.0)

    def refit(wr: FloatArray) -> FloatArray:
        return combos(_irls(X, y, wr, one, keep, family, beta0[None, :])[0])

    def point(weights: FloatArray) -> FloatArray:
        if weights.ndim == 1:
            return refit(weights[rows])
        out = np.empty((len(iu), weights.shape[1]))
        for r in range(weights.shape[1]):
            wr = weights[rows, r]
            if not (wr > 0).any():
                out[:, r] = np.nan
                continue
            out[:, r] = refit(wr)
        return out

    v = design.replicate_variance(point)
    diag = v[iu == ju]
    V = np.diag(diag)
    off = iu != ju
    cov = (v[off] - diag[iu[off]] - diag[ju[off]]) / 2.0
    V[iu[off], ju[off]] = cov
    V[ju[off], iu[off]] = cov
    return V


# -- predicted margins ------------------------------------------------------------------------
@dataclass(frozen=True)
class Margins:
    """Predicted margins of a categorical (or 0/1) variable and their differences.

    ``table`` has one row per level: the mean predicted value over the fit's rows with every
    row set to that level (``margin``) and the average marginal effect against the reference
    level (``effect``, 0 for the reference), each with a linearised SE, a t interval on the
    model's residual df and a p-value.
    """

    variable: str
    reference: object
    table: pd.DataFrame
    vcov: FloatArray


def margins(
    design: Design,
    fit: GLMFit,
    variable: str,
    levels: Sequence[object] | None = None,
    reference: object | None = None,
) -> Margins:
    """Predicted margins and average marginal effects of ``variable`` (linearised).

    For each level L every row of the fit gets ``variable = L``; the margin is the weighted
    mean of the predicted values. Its influence combines the spread of the predictions and the
    uncertainty of the coefficients through the model's influence values (the delta method),
    both computed on the same design, so their covariance is included (R's ``svypredmeans``
    adds the two parts as if independent).
    """
    if fit.influence is None:
        raise EstimationError("margins need a linearised fit (a Design, not replicate weights)")
    data = design.data.iloc[fit.rows]
    if levels is None:
        levels = sorted(pd.unique(data[variable].dropna()))
    levels = list(levels)
    if len(levels) < 2:
        raise EstimationError(f"{variable!r} has fewer than two levels among the fit's rows")
    ref = levels[0] if reference is None else reference
    if ref not in levels:
        raise EstimationError(f"reference level {ref!r} is not one of the levels {levels}")
    keep = np.isfinite(fit.coefficients)
    beta = fit.coefficients[keep]
    w = np.asarray(design.weights)[fit.rows]
    W = w.sum()
    scores = np.empty((len(fit.rows), len(levels)))
    est = np.empty(len(levels))
    for j, level in enumerate(levels):
        changed = data.copy()
        changed[variable] = pd.Series([level] * len(changed), index=changed.index).astype(
            data[variable].dtype
        )
        Xl = np.asarray(_rebuild(fit, changed), dtype=np.float64)[:, keep]
        eta = Xl @ beta
        mu = _inverse_link(fit.family, eta)
        m = float(w @ mu / W)
        grad = (w * _inverse_link_derivative(fit.family, eta)) @ Xl / W
        est[j] = m
        scores[:, j] = w * (mu - m) / W + fit.influence @ grad
    V = covariances_of_totals(design, [(fit.rows, scores)])[0]
    r = levels.index(ref)
    C = np.eye(len(levels))
    C[:, r] -= 1.0  # effect_j = margin_j - margin_ref
    eff = C @ est
    Veff = C @ V @ C.T
    df = fit.df_residual
    q = sps.t.ppf(0.975, df) if df > 0 else np.nan
    se_m = np.sqrt(np.diag(V))
    se_e = np.sqrt(np.maximum(np.diag(Veff), 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(se_e > 0, 2 * sps.t.sf(np.abs(eff / se_e), df), np.nan)
    table = pd.DataFrame({
        "level": levels, "margin": est, "margin_se": se_m,
        "effect": eff, "effect_se": se_e, "effect_low": eff - q * se_e,
        "effect_high": eff + q * se_e, "p": p,
    })
    return Margins(variable=variable, reference=ref, table=table, vcov=V)


def _rebuild(fit: GLMFit, data: pd.DataFrame) -> Any:
    """The model matrix of ``data`` with the fit's coding (levels, contrasts)."""
    return fit.spec.get_model_matrix(data, na_action="ignore")
