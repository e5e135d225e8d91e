"""Design-based regression: linear and logistic models with survey standard errors (R's ``svyglm``).

A model is fitted by weighted least squares / IRLS with the design weights (the point estimates
of R's ``svyglm``). Its standard errors come from the design, not from the model:

* on a :class:`~tryg.stats.design.Design` by linearisation (the sandwich): the influence
  values ``w_i x_i (y_i - mu_i) A^-1`` (``A`` the weighted information matrix) are the scores
  of the coefficients, and their design covariance is that of
  :func:`tryg.stats.variance.linearized_variance` (strata, clusters, finite population
  corrections and calibration residuals enter exactly as they do for a mean). A domain's
  influence values are zero outside it, so the fit and its covariance are computed on the
  domain's rows only (:func:`covariances_of_totals`), plus small products with the
  calibration's projection: a domain of 3,000 rows costs about as much in a design of
  300,000 rows as on its own;
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

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from formulaic import Formula, model_matrix
from scipy import stats as sps
from scipy.linalg import solve_triangular

from tryg.stats.design import Design, FloatArray, IntArray, VarianceComponent
from tryg.stats.errors import EstimationError
from tryg.stats.replicates import ReplicateDesign
from tryg.stats.variance import _calibration_cache

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
    complete = np.ones(len(data), dtype=bool)
    for name in required:
        complete &= data[name].notna().to_numpy()
    if not complete.any():
        raise EstimationError(f"no row has every variable of {formula!r}")
    # the categories are read from the complete rows only (R drops NA rows before coding)
    mm = model_matrix(formula, data, na_action="ignore")
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
    return ModelFrame(
        formula=formula, y=y, X=X, names=tuple(map(str, mm.rhs.columns)), terms=terms,
        complete=complete, spec=spec,
    )


# -- fitting ----------------------------------------------------------------------------------
def _alias(X: FloatArray, w: FloatArray) -> BoolArray:
    """Which columns are kept (not aliased), in order, as R's limited-pivoting QR decides.

    Column j is aliased when its weighted squared norm after projection on the kept columns
    before it, ``G[j, j] - G[j, k] G[k, k]^-1 G[k, j]``, is below ``ALIAS_TOLERANCE**2`` of
    ``G[j, j]``; that residual is the squared pivot of a Cholesky factorisation of the kept
    columns, which is grown one column at a time.
    """
    G = X.T @ (X * w[:, None])
    p = G.shape[0]
    keep = np.zeros(p, dtype=bool)
    L = np.zeros((p, p))
    m = 0  # columns kept so far (the leading m x m block of L is their Cholesky factor)
    for j in range(p):
        if G[j, j] <= 0:
            continue
        c = np.zeros(0)
        res = G[j, j]
        if m:
            c = solve_triangular(L[:m, :m], G[keep, j], lower=True, check_finite=False)
            res = G[j, j] - c @ c
        if res > (ALIAS_TOLERANCE**2) * G[j, j]:
            keep[j] = True
            L[m, :m] = c
            L[m, m] = np.sqrt(res)
            m += 1
    return keep


def _normal_solve(X: FloatArray, ww: FloatArray, r: FloatArray) -> FloatArray:
    """``(X' W X)^-1 X' r`` with ``W = diag(ww)``: a step of weighted least squares.

    The cross-product is small (columns x columns). LAPACK's least-squares routines on the
    tall matrix are slow with a threaded BLAS on a busy machine (about 100 times slower than
    this on 3,000 rows with two cores shared by ten processes); the callers iterate (IRLS,
    refinement), so the normal equations lose no accuracy at the fixed point. The matrix is
    scaled to unit diagonal first (a year column next to 0/1 dummies).
    """
    A = X.T @ (X * ww[:, None])
    b = X.T @ r
    d = np.sqrt(np.diag(A))
    d = np.where(d > 0, d, 1.0)
    try:
        scaled = np.linalg.solve(A / np.outer(d, d), b / d)
    except np.linalg.LinAlgError:  # e.g. a replicate without any row of a category
        scaled = np.linalg.lstsq(A / np.outer(d, d), b / d, rcond=None)[0]
    return np.asarray(scaled / d, np.float64)


def _wls(X: FloatArray, z: FloatArray, ww: FloatArray) -> FloatArray:
    """Weighted least squares of ``z`` on ``X`` with weights ``ww`` (two refinement steps)."""
    beta = _normal_solve(X, ww, ww * z)
    for _ in range(2):
        beta = beta + _normal_solve(X, ww, ww * (z - X @ beta))
    return beta


def _irls(
    X: FloatArray, y: FloatArray, w: FloatArray, family: Family, start: FloatArray | None = None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Coefficients, fitted means and working weights (w * dmu/deta) of one weighted fit.

    R's IRLS (glm.fit) written as Newton steps: the weighted least-squares fit of the working
    response ``eta + (y - mu) / v`` with weights ``w v`` is the current coefficients plus
    ``(X' W X)^-1 X' w (y - mu)``, the same iterate, computed from the score.
    """
    if family == "gaussian":
        beta = _wls(X, y, w)
        return beta, np.asarray(X @ beta, np.float64), w.copy()
    if start is None:
        mu = np.clip((y + 0.5) / 2.0, 0.01, 0.99)
        eta = np.log(mu / (1 - mu))
        v = mu * (1 - mu)
        beta = _wls(X, eta + (y - mu) / v, w * v)
    else:
        beta = start.copy()
    for _ in range(IRLS_MAXIT):
        eta = X @ beta
        mu = 1.0 / (1.0 + np.exp(-eta))
        v = np.maximum(mu * (1 - mu), 1e-300)
        new = beta + _normal_solve(X, w * v, w * (y - mu))
        done = np.max(np.abs(new - beta) / (np.abs(new) + 1e-3)) < IRLS_TOLERANCE
        beta = new
        if done:
            break
    else:
        raise EstimationError(
            f"the logistic model did not converge in {IRLS_MAXIT} iterations (separation?)"
        )
    eta = X @ beta
    mu = 1.0 / (1.0 + np.exp(-eta))
    return np.asarray(beta, np.float64), mu, w * mu * (1 - mu)


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
class GLMFit:
    """One fitted model: coefficients (NaN when aliased), their design-based covariance, df.

    ``table()`` gives R's ``summary(svyglm)`` coefficient table. ``influence`` (rows × kept
    coefficients, linearised fits only) is what :func:`margins` needs.
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
    influence: FloatArray | None = field(default=None, repr=False)
    spec: Any = field(default=None, repr=False)
    level: float = 0.95

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
def _fit_domains(
    design: AnyDesign, frame: ModelFrame, family: Family, dom: IntArray, n_domains: int
) -> list[GLMFit]:
    if family not in FAMILIES:
        raise EstimationError(f"family={family!r} is not one of {', '.join(FAMILIES)}")
    if family == "quasibinomial":
        ok = frame.complete
        bad = ok & ((frame.y < 0) | (frame.y > 1))
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
    p = frame.X.shape[1]
    fits: list[GLMFit] = []
    pending: list[tuple[int, IntArray, FloatArray, BoolArray]] = []
    order = np.argsort(dom, kind="stable")
    bounds = np.searchsorted(dom[order], np.arange(n_domains + 1))
    replicate = isinstance(design, ReplicateDesign)
    for d in range(n_domains):
        in_domain = order[bounds[d]:bounds[d + 1]]
        rows = in_domain[frame.complete[in_domain] & (w_all[in_domain] > 0)]
        coef = np.full(p, np.nan)
        if len(rows) == 0:
            fits.append(_empty_fit(frame, family, coef, rows))
            continue
        X = frame.X[rows]
        y = frame.y[rows]
        w = w_all[rows]
        keep = _alias(X, w)
        Xk = X[:, keep]
        beta, mu, ww = _irls(Xk, y, w, family)
        coef[keep] = beta
        df_design = _design_df(design, rows if not replicate else in_domain)
        df_res = df_design + 1 - int(keep.sum())
        if replicate:
            assert isinstance(design, ReplicateDesign)
            V = _replicate_vcov(design, Xk, y, rows, family, beta)
            fits.append(_with_vcov(frame, family, coef, keep, V, df_res, rows, None))
            continue
        A = Xk.T @ (Xk * ww[:, None])
        try:
            Ainv = np.linalg.inv(A)
        except np.linalg.LinAlgError as exc:
            raise EstimationError(
                "the model's information matrix is singular (a category with only 0s or 1s?)"
            ) from exc
        infl = (Xk * (w * (y - mu))[:, None]) @ Ainv  # rows × kept coefficients
        fits.append(_with_vcov(frame, family, coef, keep, np.zeros((0, 0)), df_res, rows, infl))
        pending.append((d, rows, infl, keep))
    if pending:
        assert isinstance(design, Design)
        covs = covariances_of_totals(design, [(r, i) for _, r, i, _ in pending])
        for (d, _rows, _infl, keep), V in zip(pending, covs, strict=True):
            full = _expand(V, keep)
            old = fits[d]
            fits[d] = GLMFit(
                formula=old.formula, family=old.family, names=old.names, terms=old.terms,
                coefficients=old.coefficients, vcov=full, df_residual=old.df_residual,
                n=old.n, rows=old.rows, influence=old.influence, spec=old.spec,
            )
    return fits


def _empty_fit(frame: ModelFrame, family: Family, coef: FloatArray, rows: IntArray) -> GLMFit:
    p = len(coef)
    return GLMFit(frame.formula, family, frame.names, frame.terms, coef,
                  np.full((p, p), np.nan), float("nan"), 0, rows, None, frame.spec)


def _with_vcov(
    frame: ModelFrame, family: Family, coef: FloatArray, keep: BoolArray, V: FloatArray,
    df: float, rows: IntArray, infl: FloatArray | None,
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


def _design_df(design: AnyDesign, rows: IntArray) -> float:
    """R's ``degf`` of the design subset to ``rows``."""
    if isinstance(design, ReplicateDesign):
        dom = np.zeros(len(rows), dtype=np.int64)
        return float(design.domain_degrees_of_freedom(rows, dom, 1)[0])
    stage = design.stages[0]
    return float(len(np.unique(stage.unit[rows])) - len(np.unique(stage.stratum[rows])))


def covariances_of_totals(
    design: Design, problems: Sequence[tuple[IntArray, FloatArray]]
) -> list[FloatArray]:
    """For each (rows, scores) pair: the k x k design covariance of the column totals.

    The scores are zero outside ``rows`` (a domain's influence values), so everything is
    computed on those rows: the same terms as :func:`tryg.stats.variance.linearized_variance`
    (per variance component ``Z' D Z - S' D_c S`` over the units and strata the rows touch;
    with calibration the residual terms ``- cross B - B' cross' + B' G B``, ``B`` the
    projection coefficients from the rows' cross-products with the calibration variables) in
    covariance form, as dense k x k algebra. The cost is O(rows x k^2) per problem plus the
    calibration's small P x k products, whatever the size of the design.
    """
    cache = _calibration_cache(design)
    return [_covariance_on_rows(design, cache, rows, S) for rows, S in problems]


def _covariance_on_rows(
    design: Design, cache: dict[str, Any] | None, rows: IntArray, S: FloatArray
) -> FloatArray:
    k = S.shape[1]
    B = _projection_coefficients(cache, rows, S) if cache is not None else None
    total = np.zeros((k, k))
    for i, comp in enumerate(design.components):
        units, unit_of_row = np.unique(comp.unit[rows], return_inverse=True)
        Z = _sum_by(S, unit_of_row, len(units))  # unit totals, units x k
        groups, group_of_unit = np.unique(comp.group[units], return_inverse=True)
        Sg = _sum_by(Z, group_of_unit, len(groups))  # group totals
        unit_scale = comp.scale[comp.group[units]]
        cent_scale = (comp.scale * comp.centre)[groups]
        DZ = Z * unit_scale[:, None]
        DS = Sg * cent_scale[:, None]
        C = Z.T @ DZ - Sg.T @ DS
        if B is not None and cache is not None:
            U, ug, G = cache["units"][i]
            cross = np.asarray(U[units].T @ DZ - ug[groups].T @ DS).T  # k x P
            CB = cross @ B
            C -= CB + CB.T
            C += B.T @ np.asarray(G @ B)
        if comp.average_lonely is not None:
            C *= _average_factor_on_rows(comp, units, cache is not None)
        total += C
    total = (total + total.T) / 2.0
    np.fill_diagonal(total, np.maximum(np.diag(total), 0.0))
    return total


def _sum_by(values: FloatArray, code: IntArray, n: int) -> FloatArray:
    """Row sums of ``values`` per ``code`` (0..n-1)."""
    if n == len(code):  # one row per code (e.g. every respondent its own unit)
        out = np.empty_like(values)
        out[code] = values
        return out
    # one bincount per column: for the few columns of a model, far cheaper than building a
    # sparse aggregation matrix per call
    if values.shape[1] == 0:
        return np.zeros((n, 0))
    return np.column_stack([np.bincount(code, weights=values[:, j], minlength=n)
                            for j in range(values.shape[1])])


def _projection_coefficients(cache: dict[str, Any], rows: IntArray, S: FloatArray) -> FloatArray:
    """The calibration steps' projection coefficients of the scores (P x k, stacked).

    :func:`tryg.stats.variance._coefficients` for scores that are zero outside ``rows``.
    """
    betas: list[FloatArray] = []
    for k, step in enumerate(cache["steps"]):
        scaled = S * (step.lam[rows] / step.psw[rows])[:, None]
        rhs = np.asarray(cache["X"][k][rows].T @ scaled, np.float64)
        for m in range(k):
            rhs = rhs - cache["cross"][(k, m)] @ betas[m]
        betas.append(np.asarray(cache["minv"][k] @ rhs, np.float64))
    return np.vstack(betas)


def _average_factor_on_rows(comp: VarianceComponent, units: IntArray, calibrated: bool) -> float:
    """lonely_psu="average": strata / strata with a variance (see variance._average_factor).

    A calibrated design keeps every stratum; otherwise only the strata the rows touch count.
    """
    lonely = comp.average_lonely
    assert lonely is not None
    if calibrated:
        present, ok = float(comp.n_groups), float((~lonely).sum())
    else:
        touched = np.unique(comp.group[units])
        present, ok = float(len(touched)), float((~lonely[touched]).sum())
    return present / ok if ok > 0 else float("nan")


def _replicate_vcov(
    design: ReplicateDesign, X: FloatArray, y: FloatArray, rows: IntArray, family: Family,
    beta0: FloatArray,
) -> FloatArray:
    k = X.shape[1]
    iu, ju = np.triu_indices(k)

    def combos(b: FloatArray) -> FloatArray:
        return b[iu] + np.where(iu != ju, b[ju], 0.0)

    def point(weights: FloatArray) -> FloatArray:
        if weights.ndim == 1:
            return combos(_irls(X, y, weights[rows], family, beta0)[0])
        out = np.empty((len(iu), weights.shape[1]))
        for r in range(weights.shape[1]):
            wr = weights[rows, r]
            if not (wr > 0).any():
                out[:, r] = np.nan
                continue
            out[:, r] = combos(_irls(X, y, wr, family, beta0)[0])
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
