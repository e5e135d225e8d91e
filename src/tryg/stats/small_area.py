"""Fay–Herriot area-level small area estimation (EBLUP).

A municipality's direct survey estimate is unbiased but, with a few dozen respondents, noisy.
The Fay–Herriot (1979) model borrows strength from covariates known for every area::

    direct_i = x_i' beta + u_i + e_i,   u_i ~ N(0, sigma2_u),   e_i ~ N(0, psi_i), psi_i known.

The EBLUP ``gamma_i * direct_i + (1 - gamma_i) * x_i' beta`` with ``gamma_i = sigma2_u /
(sigma2_u + psi_i)`` leans on the direct estimate where it is precise and on the regression
(synthetic) estimate where it is not.

:func:`fay_herriot` reproduces R's ``sae::eblupFH`` / ``sae::mseFH`` (Molina & Marhuenda 2015),
because that is the implementation analysts will compare against: sigma2_u is estimated by
Fisher scoring on the REML or ML likelihood (Rao & Molina 2015, ch. 6), and the MSE is the
second-order Prasad–Rao (REML) or Datta–Lahiri (ML) estimator.  With ``tol=1e-4`` the results
equal sae's defaults to rounding error; the default ``tol=1e-10`` iterates to convergence.

The module is pure: arrays in, a frozen result out, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize, stats

from tryg.stats.numbering import float_vector

__all__ = ["Benchmarked", "BenchmarkedGroups", "FayHerriotFit", "FayHerriotResult", "benchmark",
           "benchmark_groups", "fay_herriot", "fay_herriot_fit", "pooled_design_effect",
           "smoothed_share_variances"]

ArrayLike: TypeAlias = npt.ArrayLike | pd.Series
FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]

_METHODS = ("REML", "ML")


@dataclass(frozen=True)
class FayHerriotResult:
    """Outcome of :func:`fay_herriot`.

    ``estimates`` has one row per area, in input order, with columns ``area, direct,
    direct_variance, eblup, mse, se, ci_low, ci_high, gamma, method``.  ``method`` is
    ``"model"`` for areas with a direct estimate (EBLUP) and ``"synthetic"`` for areas without
    one (``x_i' beta``).  ``gamma`` is the weight on the direct estimate (0 for synthetic rows).

    ``loglik`` is the Gaussian log-likelihood of the in-sample direct estimates at the fitted
    ``beta`` and ``sigma2_u`` (sae's ``loglike``, for both methods), so AICs share one scale.
    """

    estimates: pd.DataFrame
    sigma2_u: float
    beta: pd.Series[float]
    beta_se: pd.Series[float]
    method: str
    iterations: int
    converged: bool
    loglik: float


@dataclass(frozen=True)
class FayHerriotFit:
    """:func:`fay_herriot` as arrays (one entry per area, in input order), for callers that
    take a few columns apart again: building the estimates' table costs more than the fit
    when there are thousands of areas.  ``insample`` marks the areas with a direct estimate
    (EBLUP; the others are synthetic); ``beta_cov`` is ``Q = (X'V^-1 X)^-1``."""

    direct: FloatArray
    direct_variance: FloatArray
    eblup: FloatArray
    mse: FloatArray
    gamma: FloatArray
    insample: npt.NDArray[np.bool_]
    names: list[str]
    sigma2_u: float
    beta: FloatArray
    beta_cov: FloatArray
    method: str
    iterations: int
    converged: bool
    loglik: float


def _design(
    covariates: ArrayLike | pd.DataFrame, n: int, intercept: bool
) -> tuple[FloatArray, list[str]]:
    """Return the design matrix (intercept first, as in R's ``y ~ x``) and its column names."""
    if isinstance(covariates, pd.DataFrame):
        names = [str(c) for c in covariates.columns]
    elif isinstance(covariates, pd.Series):
        names = [str(covariates.name) if covariates.name is not None else "x1"]
    else:
        names = []
    try:
        X = np.asarray(covariates, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            "covariates must be numeric; dummy-code categorical columns first "
            f"(e.g. pd.get_dummies(..., drop_first=True)): {exc}"
        ) from exc
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    if X.ndim != 2:
        raise ValueError(f"covariates must be two-dimensional (areas x p), got shape {X.shape}")
    if X.shape[0] != n:
        raise ValueError(f"covariates has {X.shape[0]} rows but direct has {n} areas")
    bad = np.argwhere(~np.isfinite(X))
    if bad.size:
        row, col = (int(v) for v in bad[0])
        raise ValueError(
            f"covariates must be finite for every area (they are needed for the synthetic "
            f"estimate too): non-finite value {X[row, col]!r} at row {row}, column {col}"
        )
    if not names:
        names = [f"x{j + 1}" for j in range(X.shape[1])]
    if intercept:
        X = np.column_stack([np.ones(n), X])
        names = ["(Intercept)", *names]
    if X.shape[1] == 0:
        raise ValueError("the model has no regression coefficients (no covariates, no intercept)")
    return X, names


def _weighted_cross(X: FloatArray, v: FloatArray) -> FloatArray:
    """``X' diag(v) X``: ``np.dot`` of the products gives the same numbers as ``(X.T * v) @ X``
    (the products are the transposed, Fortran-ordered array either way) in half the time of
    ``@`` on it; called several times per scoring step, thousands of times per run."""
    out: FloatArray = np.dot(X.T * v, X)
    return out


def _scoring_step(A: float, y: FloatArray, psi: FloatArray, X: FloatArray, reml: bool) -> float:
    """One Fisher-scoring increment ``score / information`` for sigma2_u at ``A``.

    ML:   s = -tr(V^-1)/2 + r'V^-2 r/2,  I = tr(V^-2)/2,  with r = y - X beta_GLS(A).
    REML: s = -tr(P)/2 + y'P^2 y/2,      I = tr(P^2)/2,  P = V^-1 - V^-1 X Q X'V^-1,
    Q = (X'V^-1 X)^-1 (Rao & Molina 2015, ch. 6; the formulas of sae::eblupFH).  V is diagonal,
    so P y = V^-1 r and the traces reduce to p x p products: no m x m matrix is formed.
    """
    Vi = 1.0 / (A + psi)
    M = _weighted_cross(X, Vi)
    r = y - X @ np.linalg.solve(M, X.T @ (Vi * y))
    if reml:
        # Q X'V^-2 X and Q X'V^-3 X, as one batched solve (each matrix solved on its own,
        # so the numbers are those of two calls)
        C2, C3 = np.linalg.solve(np.stack((M, M)), np.stack((_weighted_cross(X, Vi**2),
                                                              _weighted_cross(X, Vi**3))))
        trace_v = float(np.sum(Vi)) - float(np.trace(C2))  # tr(P)
        info = 0.5 * (float(np.sum(Vi**2)) - 2.0 * float(np.trace(C3)) + float(np.sum(C2 * C2.T)))
    else:
        trace_v = float(np.sum(Vi))
        info = 0.5 * float(np.sum(Vi**2))
    return (-0.5 * trace_v + 0.5 * float(np.sum((Vi * r) ** 2))) / info


def _scoring_signs(
    As: FloatArray, y: FloatArray, psi: FloatArray, X: FloatArray, reml: bool
) -> list[bool]:
    """Whether the scoring increment of :func:`_scoring_step` is positive at each of ``As``:
    the same formulas, evaluated for all values at once (batched p × p products)."""
    # The sums over the m areas are the work, so each is taken once: of X' diag(v) X only its
    # p (p + 1) / 2 distinct entries, X'V^-1 y in the same pass as X'V^-1 X, and tr(V^-1),
    # tr(V^-2) as the sums against a column of ones (the intercept's products if X has one);
    # all as :func:`_area_sums`. The values are taken a few at a time, so that the work
    # arrays (values × m) stay small: fresh arrays of all values × m cost more in page faults
    # and cache misses than in arithmetic.
    m, p = X.shape
    Xt = np.ascontiguousarray(X.T)  # p × m
    entry = np.empty((p, p), dtype=np.int64)  # which product each entry of X'X is
    rows: list[FloatArray] = []
    for k in range(p):
        for j in range(k, p):
            entry[k, j] = entry[j, k] = len(rows)
            rows.append(Xt[k] * Xt[j])
    ones = next((q for q, row in enumerate(rows) if bool(np.all(row == 1.0))), None)
    if ones is None:
        ones = len(rows)
        rows.append(np.ones(m))
    n_xx = len(rows)
    Z = np.array([*rows, *(y * Xt)])  # the products x_k x_l (and 1), then y x_k
    where = entry.ravel()

    def weighted(sums: FloatArray) -> FloatArray:  # X' diag(v_g) X from its distinct sums
        return sums[:, where].reshape(len(sums), p, p)

    def steps(a: FloatArray) -> FloatArray:
        Vi = np.add.outer(a, psi)
        np.divide(1.0, Vi, out=Vi)
        S1 = _area_sums(Vi, Z)
        M = weighted(S1)
        beta = np.linalg.solve(M, S1[:, n_xx:, None])[..., 0]  # values × p
        r = np.matmul(beta, Xt)  # X beta
        np.subtract(y[None, :], r, out=r)
        r *= Vi  # V^-1 r
        rr = np.einsum("gm,gm->g", r, r)
        Vi2 = np.multiply(Vi, Vi, out=r)
        S2 = _area_sums(Vi2, Z[:n_xx])
        if reml:
            C2 = np.linalg.solve(M, weighted(S2))
            # Vi² · Vi, not Vi**3: a general power is several times slower than two
            # products, and only the signs are used here
            S3 = _area_sums(np.multiply(Vi2, Vi, out=Vi2), Z[:n_xx])
            C3 = np.linalg.solve(M, weighted(S3))
            trace_v = S1[:, ones] - np.trace(C2, axis1=1, axis2=2)
            info = 0.5 * (S2[:, ones] - 2.0 * np.trace(C3, axis1=1, axis2=2)
                          + np.sum(C2 * C2.transpose(0, 2, 1), axis=(1, 2)))
        else:
            trace_v = S1[:, ones]
            info = 0.5 * S2[:, ones]
        out: FloatArray = (-0.5 * trace_v + 0.5 * rr) / info
        return out

    block = max(1, _BLOCK // max(1, m))
    return [bool(v > 0.0) for lo in range(0, len(As), block) for v in steps(As[lo:lo + block])]


#: How many numbers (values × areas) :func:`_scoring_signs` works on at a time: its arrays
#: of 512 kB stay in the cache and the allocator's heap (1 MB ones cost twice the time).
_BLOCK = 65536


#: The most multiply-adds :func:`_area_sums` asks of one matrix product.
_SMALL_PRODUCT = 1_000_000


def _area_sums(W: FloatArray, Z: FloatArray) -> FloatArray:
    """``W @ Z.T`` (``W`` g × m, ``Z`` q × m; m the areas), as matrix products of at most
    ``_SMALL_PRODUCT`` multiply-adds each (the areas in slices, their sums added up).

    A matrix product is several times faster than einsum's sums of products, but a threaded
    BLAS hands a larger one to its thread pool, whose wake-ups and spinning cost more CPU than
    the arithmetic on a busy machine (OpenBLAS computes products up to 100³ multiply-adds on
    the calling thread). Only the signs of :func:`_scoring_signs` come from these sums, so
    their rounding (the order of the additions) does not matter."""
    g, m = W.shape
    q = len(Z)
    step = max(1, _SMALL_PRODUCT // max(1, g * q))
    out: FloatArray = W[:, :step] @ Z[:, :step].T
    for lo in range(step, m, step):
        out += W[:, lo:lo + step] @ Z[:, lo:lo + step].T
    return out


def _objective(A: float, y: FloatArray, psi: FloatArray, X: FloatArray, reml: bool) -> float:
    """ML or REML log-likelihood of sigma2_u = A, up to a constant."""
    V = A + psi
    XtVi = X.T / V
    M = np.dot(XtVi, X)  # as _weighted_cross
    r = y - X @ np.linalg.solve(M, XtVi @ y)
    value = -0.5 * float(np.sum(np.log(V)) + np.sum(r**2 / V))
    return value - 0.5 * float(np.linalg.slogdet(M)[1]) if reml else value


def _estimate_sigma2(
    y: FloatArray, psi: FloatArray, X: FloatArray, reml: bool, maxiter: int, tol: float
) -> tuple[float, int, bool]:
    """Maximise the (restricted) likelihood: sae's Fisher scoring, then a check for a higher peak.

    With few areas and psi_i spanning orders of magnitude the likelihood can have two local
    maxima (often one at 0), and scoring finds whichever is uphill from ``median(psi)``.  The
    score is therefore scanned on a log grid; each sign change (+ to -) brackets a local
    maximum, solved by Brent's method.  The scoring result is replaced only if another maximum
    (or 0) beats it by more than 1e-6 in log-likelihood, so sae's answer stands whenever it is
    the (RE)ML estimate.
    """
    A, iterations, converged = _fisher_scoring(y, psi, X, reml, maxiter, tol)

    def step(a: float) -> float:
        return _scoring_step(a, y, psi, X, reml)

    top = 100.0 * (float(np.max(psi)) + float(np.var(y)))
    grid = np.concatenate([[0.0], np.geomspace(1e-6 * float(np.min(psi)), top, 60)])
    positive = _scoring_signs(grid, y, psi, X, reml)
    best, best_value = A, _objective(A, y, psi, X, reml)
    for i in range(grid.size):
        lo = float(grid[i])
        if i + 1 < grid.size and positive[i] and not positive[i + 1]:
            cand, _, ok = _bracketed_root(step, lo, float(grid[i + 1]), 0, maxiter, tol)
        elif i == 0 and not positive[0]:
            cand, ok = 0.0, True  # the likelihood decreases from 0: a maximum on the boundary
        else:
            continue
        value = _objective(cand, y, psi, X, reml)
        if value > best_value + 1e-6 and abs(cand - A) > 1e-3 * max(cand, A):
            best, best_value, converged = cand, value, ok
    return best, iterations, converged


def _fisher_scoring(
    y: FloatArray, psi: FloatArray, X: FloatArray, reml: bool, maxiter: int, tol: float
) -> tuple[float, int, bool]:
    """Fisher scoring from ``median(psi)``, as sae does; returns (sigma2_u, iterations, converged).

    Convergence is declared when the *relative* change ``|A_new - A| / A`` is at most ``tol``
    (sae's rule).  A relative rule is needed because sigma2_u is in squared units of the target:
    5.6e6 for mean incomes, 0.05 for yields, so no absolute tolerance fits both.

    A variance cannot be negative.  If a step would leave (0, inf) and the score at 0 is not
    positive, the likelihood is maximised on the boundary and sigma2_u = 0: sae's truncation
    ``max(A, 0)``, but without iterating at negative variances, where ``A + psi_i`` can turn
    negative and the formulas break down.  A zero estimate means the direct estimates vary no
    more around the regression than their sampling variances explain, so every EBLUP equals
    its synthetic estimate.

    Fisher scoring uses the expected information, which can be far from the curvature when the
    psi_i differ by orders of magnitude: it then overshoots below zero although the maximum is
    interior, oscillates, or crawls.  In those cases (and only then, so sae's path is kept
    whenever sae itself works) the root of the score is found by Brent's bracketing method.
    """

    def step(a: float) -> float:
        return _scoring_step(a, y, psi, X, reml)

    A = float(np.median(psi))
    for k in range(1, maxiter + 1):
        change = step(A)
        if A + change <= 0.0:
            if step(0.0) <= 0.0:
                return 0.0, k, True  # the likelihood decreases from 0: boundary maximum
            return _bracketed_root(step, 0.0, A, k, maxiter, tol)
        A += change
        if abs(change) <= tol * (A - change):
            return A, k, True
    if step(A) < 0.0:
        if step(0.0) <= 0.0:
            return 0.0, maxiter, True
        return _bracketed_root(step, 0.0, A, maxiter, maxiter, tol)
    hi = 2.0 * A
    while step(hi) > 0.0 and hi < 1e300:
        hi *= 2.0
    return _bracketed_root(step, A, hi, maxiter, maxiter, tol)


def _bracketed_root(
    step: Callable[[float], float], lo: float, hi: float, done: int, maxiter: int, tol: float
) -> tuple[float, int, bool]:
    """Root of the score in [lo, hi] (score > 0 at lo, < 0 at hi): a local likelihood maximum."""
    root, info = optimize.brentq(
        step,
        lo,
        hi,
        xtol=1e-14 * hi,
        rtol=max(tol, 4.0 * float(np.finfo(np.float64).eps)),
        maxiter=maxiter,
        full_output=True,
        disp=False,
    )
    return float(root), done + int(info.iterations), bool(info.converged)


def fay_herriot(
    direct: ArrayLike,
    variance: ArrayLike,
    covariates: ArrayLike | pd.DataFrame,
    method: str = "REML",
    *,
    area: ArrayLike | None = None,
    maxiter: int = 100,
    tol: float = 1e-10,
    intercept: bool = True,
    level: float = 0.95,
) -> FayHerriotResult:
    """Fit the Fay–Herriot model and return EBLUPs with their estimated MSE.

    Parameters
    ----------
    direct:
        Direct (design-based) estimates, one per area.  NaN marks an area without a sample.
    variance:
        Their sampling variances psi_i, treated as known (usually smoothed design variances).
        NaN also marks an area as out-of-sample.  In-sample variances must be positive: a zero
        variance would claim an exact direct estimate and break the weighting.
    covariates:
        Area-level auxiliary data (areas x p), known for *every* area, in the same order as
        ``direct`` (positional; pandas indexes are not aligned).  A DataFrame's column names
        name the coefficients.  Categorical variables must be dummy-coded by the caller.
    method:
        ``"REML"`` (default, as sae and emdi) or ``"ML"``.
    area:
        Area labels for the output; defaults to the index of ``direct`` if it is a Series,
        else 0, 1, 2, ...
    maxiter, tol:
        Fisher scoring stops when the relative change of sigma2_u is at most ``tol``.
        ``tol=1e-4`` reproduces ``sae::eblupFH``'s default ``PRECISION`` exactly; the default
        ``1e-10`` gives the converged estimate (typically 1e-6 to 1e-5 apart, relative).
        ``iterations`` counts scoring steps (plus Brent steps where scoring needed help, see
        ``_estimate_sigma2``: the (RE)ML estimate is the highest of the likelihood's maxima,
        which differs from sae's only if scoring found a lower local maximum).
    intercept:
        Add an intercept column, as R's formula ``y ~ x`` does.
    level:
        Confidence level of the normal interval ``eblup ± z * sqrt(mse)``.

    Returns
    -------
    FayHerriotResult

    Notes
    -----
    MSE of in-sample areas, with ``B_i = psi_i / (A + psi_i)`` and ``Q = (X'V^-1 X)^-1``:
    ``g1 = A psi_i / (A + psi_i)``, ``g2 = B_i^2 x_i'Q x_i``,
    ``g3 = B_i^2 Var(A) / (A + psi_i)`` with ``Var(A) = 2 / sum (A + psi_j)^-2``.
    REML: Prasad–Rao ``g1 + g2 + 2 g3``.  ML: Datta–Lahiri ``g1 + g2 + 2 g3 - b B_i^2``, where
    ``b = -tr(Q X'V^-2 X) / sum (A + psi_j)^-2`` is the first-order bias of the ML estimator
    of A and ``B_i^2 = dg1/dA``.  These are the formulas of ``sae::mseFH``.

    Out-of-sample areas get the synthetic estimate ``x_i' beta`` with
    ``MSE = x_i'Q x_i + sigma2_u``: the area effect u_i is unobserved, so its full variance
    counts, plus the uncertainty of beta.  This is the limit of g1 + g2 + 2 g3 as psi_i -> inf;
    the second-order terms for estimating sigma2_u (including ML's bias term) are left out.
    """
    fit, labels = _fit(direct, variance, covariates, method, area, maxiter, tol, intercept, level)
    se = np.sqrt(fit.mse)
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    estimates = pd.DataFrame(
        {
            "area": labels,
            "direct": fit.direct,
            "direct_variance": fit.direct_variance,
            "eblup": fit.eblup,
            "mse": fit.mse,
            "se": se,
            "ci_low": fit.eblup - z * se,
            "ci_high": fit.eblup + z * se,
            "gamma": fit.gamma,
            "method": np.where(fit.insample, "model", "synthetic"),
        }
    )
    return FayHerriotResult(
        estimates=estimates,
        sigma2_u=fit.sigma2_u,
        beta=pd.Series(fit.beta, index=fit.names, name="beta", dtype=float),
        beta_se=pd.Series(np.sqrt(np.diag(fit.beta_cov)), index=fit.names, name="beta_se",
                          dtype=float),
        method=fit.method,
        iterations=fit.iterations,
        converged=fit.converged,
        loglik=fit.loglik,
    )


def fay_herriot_fit(
    direct: ArrayLike,
    variance: ArrayLike,
    covariates: ArrayLike | pd.DataFrame,
    method: str = "REML",
    *,
    maxiter: int = 100,
    tol: float = 1e-10,
    intercept: bool = True,
) -> FayHerriotFit:
    """:func:`fay_herriot` (same arguments, same checks, same numbers) as arrays, without the
    estimates' table, the intervals and the labels."""
    return _fit(direct, variance, covariates, method, None, maxiter, tol, intercept, 0.95)[0]


def _fit(
    direct: ArrayLike,
    variance: ArrayLike,
    covariates: ArrayLike | pd.DataFrame,
    method: str,
    area: ArrayLike | None,
    maxiter: int,
    tol: float,
    intercept: bool,
    level: float,
) -> tuple[FayHerriotFit, np.ndarray]:
    """The checks and the fit of :func:`fay_herriot`, and the areas' labels."""
    method_u = str(method).upper()
    if method_u not in _METHODS:
        raise ValueError(f"method must be 'REML' or 'ML', got {method!r}")
    if maxiter < 1:
        raise ValueError(f"maxiter must be at least 1, got {maxiter}")
    if not tol > 0:
        raise ValueError(f"tol must be positive, got {tol}")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")

    y_all = float_vector(direct, "direct")
    psi_all = float_vector(variance, "variance")
    n = y_all.size
    if psi_all.size != n:
        raise ValueError(f"direct has {n} areas but variance has {psi_all.size}")
    if (
        isinstance(direct, pd.Series)
        and isinstance(covariates, pd.DataFrame | pd.Series)
        and not direct.index.equals(covariates.index)
    ):
        raise ValueError("direct and covariates have different indexes; align them first")
    X_all, names = _design(covariates, n, intercept)
    if area is None:
        labels = np.asarray(direct.index) if isinstance(direct, pd.Series) else np.arange(n)
    else:
        labels = np.asarray(area)
        if labels.shape != (n,):
            raise ValueError(f"area has shape {labels.shape} but direct has {n} areas")

    inf_y = np.flatnonzero(np.isinf(y_all))
    if inf_y.size:
        raise ValueError(f"direct is infinite at position {int(inf_y[0])} (use NaN for no sample)")
    bad_psi = np.flatnonzero(np.isinf(psi_all) | (psi_all <= 0))
    if bad_psi.size:
        i = int(bad_psi[0])
        raise ValueError(
            f"variance must be positive and finite (NaN for no sample); "
            f"got {psi_all[i]!r} at position {i}"
        )
    insample = ~np.isnan(y_all) & ~np.isnan(psi_all)
    m, p = int(insample.sum()), X_all.shape[1]
    if m < p + 1:
        raise ValueError(
            f"need at least {p + 1} in-sample areas (regression coefficients + 1) to estimate "
            f"sigma2_u, got {m}"
        )
    y, psi, X = y_all[insample], psi_all[insample], X_all[insample]
    rank = int(np.linalg.matrix_rank(X))
    if rank < p:
        raise ValueError(
            f"covariates are collinear on the in-sample areas: design rank {rank} < {p} columns"
        )

    reml = method_u == "REML"
    A, iterations, converged = _estimate_sigma2(y, psi, X, reml, maxiter, tol)

    Vi = 1.0 / (A + psi)
    XtVi = X.T * Vi
    Q = np.linalg.inv(np.dot(XtVi, X))  # as _weighted_cross
    Q = 0.5 * (Q + Q.T)
    beta = Q @ (XtVi @ y)
    synthetic_all = X_all @ beta
    resid = y - X @ beta

    B = psi / (A + psi)
    gamma = 1.0 - B
    eblup_in = y - B * resid  # = gamma * y + (1 - gamma) * x'beta
    h_all = np.einsum("ij,jk,ik->i", X_all, Q, X_all)
    sum_vi2 = float(np.sum(Vi**2))
    var_A = 2.0 / sum_vi2
    g1 = A * psi / (A + psi)
    g2 = B**2 * h_all[insample]
    g3 = B**2 * var_A / (A + psi)
    mse_in = g1 + g2 + 2.0 * g3
    if not reml:
        bias = -float(np.trace(Q @ _weighted_cross(X, Vi**2))) / sum_vi2
        mse_in = mse_in - bias * B**2

    eblup = synthetic_all.copy()
    eblup[insample] = eblup_in
    mse = h_all + A
    mse[insample] = mse_in
    gamma_all = np.zeros(n)
    gamma_all[insample] = gamma
    loglik = -0.5 * float(np.sum(np.log(2.0 * np.pi * (A + psi)) + resid**2 * Vi))
    fit = FayHerriotFit(
        direct=y_all, direct_variance=psi_all, eblup=eblup, mse=mse, gamma=gamma_all,
        insample=insample, names=names, sigma2_u=A, beta=beta, beta_cov=Q, method=method_u,
        iterations=iterations, converged=converged, loglik=loglik,
    )
    return fit, labels


@dataclass(frozen=True)
class Benchmarked:
    """Outcome of :func:`benchmark`, one entry per area in input order.

    ``estimate``: the benchmarked estimates (the kept ones unchanged); ``mse``: their MSE,
    ``mse + (estimate - original)²``; ``shift``: the Lagrange multiplier λ, each adjusted area
    moved by ``λ · mse_i`` before the bounds (0 when nothing had to move)."""

    estimate: FloatArray
    mse: FloatArray
    shift: float


@dataclass(frozen=True)
class BenchmarkedGroups:
    """Outcome of :func:`benchmark_groups`: ``estimate`` and ``mse`` one entry per area in
    input order (as :class:`Benchmarked`; a failed group's areas unchanged), ``shift`` and
    ``problem`` one per group (``problem`` "" when the group's benchmark was met, else why
    not; its ``shift`` is then NaN)."""

    estimate: FloatArray
    mse: FloatArray
    shift: FloatArray
    problem: list[str]


def benchmark(
    estimate: ArrayLike,
    mse: ArrayLike,
    weight: ArrayLike,
    target: float,
    *,
    adjust: ArrayLike | None = None,
    lower: float = -np.inf,
    upper: float = np.inf,
) -> Benchmarked:
    """Benchmark small-area estimates so that their weighted mean equals ``target``.

    The areas partition a parent area whose direct estimate ``target`` is trusted; ``weight``
    are the areas' populations, ``adjust`` marks the estimates that may move (the model-based
    ones; the others, direct estimates, stay as they are), ``lower``/``upper`` the range of the
    measure (0 and 1 for a share). The result ``b`` satisfies
    ``sum(weight * b) / sum(weight) == target`` (to rounding), with ``lower <= b <= upper``.

    **Method.** ``b`` minimises the weighted distance ``sum_i phi_i (b_i - e_i)²`` over the
    adjusted areas subject to the benchmark ``sum_i w_i b_i = target · sum_i w_i``: the
    restricted estimator of Wang, Fuller & Qu (2008, *Survey Methodology* 34, 29–36), the
    benchmarked Bayes estimator of Datta, Ghosh, Steorts & Maples (2011, *TEST* 20, 574–588).
    Its solution is ``b_i = e_i + λ w_i / phi_i``. We take ``phi_i = w_i / mse_i``, so that
    ``b_i = e_i + λ · mse_i``: the discrepancy is shared out in proportion to each estimate's
    MSE (the least certain move most, a precise one hardly), and an area's move does not
    depend on its size except through the constraint. With the range restriction the problem
    stays a convex separable quadratic programme; its Karush–Kuhn–Tucker solution is
    ``b_i = clip(e_i + λ · mse_i, lower, upper)`` for the λ at which the benchmark holds.
    The weighted sum is piecewise linear and non-decreasing in λ, so λ is found exactly: its
    breakpoints are sorted, the segment holding the target located, and λ solved on it.

    **MSE.** For a posterior mean ``e_i``, the posterior risk of any other estimate ``b_i``
    is ``V(theta_i | y) + (b_i - e_i)²`` (Datta et al. 2011, Theorem 1: the cross term
    vanishes since ``b_i - e_i`` is a function of the data). With the EBLUP's estimated MSE in
    place of the posterior variance this gives ``mse_i + (b_i - e_i)²``, the simple form of
    the benchmarked EBLUP's MSE whose expectation is the second-order approximation of
    Steorts & Ghosh (2013, *Statistica Sinica* 23, 749–767): MSE(EBLUP) plus the expected
    squared benchmarking adjustment (their ``g4``), here estimated by the realised one.

    Raises ``ValueError`` if the benchmark cannot be met: no adjustable area with a positive
    weight and MSE, or a target outside what the bounds allow. Many parents at once:
    :func:`benchmark_groups` (this is its one-group case).
    """
    e = float_vector(estimate, "estimate")
    res = benchmark_groups(e, mse, weight, np.zeros(e.size, dtype=np.int64), [target],
                           adjust=adjust, lower=lower, upper=upper)
    if res.problem[0]:
        raise ValueError(res.problem[0])
    return Benchmarked(estimate=res.estimate, mse=res.mse, shift=float(res.shift[0]))


def benchmark_groups(
    estimate: ArrayLike,
    mse: ArrayLike,
    weight: ArrayLike,
    group: ArrayLike,
    target: ArrayLike,
    *,
    adjust: ArrayLike | None = None,
    lower: float = -np.inf,
    upper: float = np.inf,
) -> BenchmarkedGroups:
    """:func:`benchmark` for many parents at once: ``group`` numbers each area's parent
    (0 … G−1, in any order) and ``target`` holds one target per parent. Every parent is
    benchmarked on its own, all of them in one pass over the arrays (no loop over parents);
    a parent whose benchmark cannot be met keeps its areas as they are and says why in
    ``problem`` (the errors :func:`benchmark` raises). Raises ``ValueError`` only for
    arguments that do not fit together (lengths, bounds, group numbers)."""
    e = float_vector(estimate, "estimate")
    v = float_vector(mse, "mse")
    w = float_vector(weight, "weight")
    goal_of = float_vector(target, "target")
    m, groups = e.size, goal_of.size
    if v.size != m or w.size != m:
        raise ValueError(f"estimate, mse and weight must have one entry per area "
                         f"(got {m}, {v.size}, {w.size})")
    free = np.ones(m, dtype=bool) if adjust is None else np.asarray(adjust, dtype=bool)
    if free.shape != (m,):
        raise ValueError(f"adjust must have one entry per area, got shape {free.shape}")
    g = np.asarray(group, dtype=np.int64)
    if g.shape != (m,) or (m and (g.min() < 0 or g.max() >= groups)):
        raise ValueError(f"group must number each of the {m} areas' parent among the "
                         f"{groups} targets")
    if not lower < upper:
        raise ValueError(f"lower must be below upper, got {lower} and {upper}")

    def per_group(values: npt.NDArray[np.float64] | npt.NDArray[np.bool_]) -> FloatArray:
        return np.bincount(g, weights=values, minlength=groups).astype(np.float64, copy=False)

    # why a group cannot be benchmarked, the first reason in the order benchmark() checks
    with np.errstate(invalid="ignore"):
        bad_v = free & (~np.isfinite(v) | (v < 0))
        total = per_group(w)
        moving = free & (w > 0) & (v > 0)
        start = np.where(free, np.clip(e, lower, upper), e)
        goal = goal_of * total - per_group(np.where(moving, 0.0, w * start))
        lo_sum = per_group(np.where(moving, w * lower, 0.0))
        hi_sum = per_group(np.where(moving, w * upper, 0.0))
    reasons = [
        (~np.isfinite(goal_of), "target must be finite, got {target!r}"),
        (per_group(~np.isfinite(e)) > 0, "estimate must be finite for every area"),
        (per_group(~np.isfinite(w)) > 0, "weight must be finite for every area"),
        (per_group(w < 0) > 0, "weight must not be negative"),
        (per_group(bad_v) > 0, "mse must be finite and non-negative for every adjusted area"),
        (~(total > 0), "the weights sum to zero"),
        (per_group(moving) == 0,
         "no area can be adjusted (an adjusted area needs weight > 0, mse > 0)"),
        (~((lo_sum <= goal) & (goal <= hi_sum)),
         "the target {target!r} cannot be met within [{lower}, {upper}]: the adjusted "
         "areas would need a weighted sum of {goal!r}, outside [{lo!r}, {hi!r}]"),
    ]
    problem = [""] * groups
    failed = np.zeros(groups, dtype=bool)
    for where, text in reasons:
        for k in np.flatnonzero(where & ~failed).tolist():
            problem[k] = text.format(target=float(goal_of[k]), lower=lower, upper=upper,
                                     goal=float(goal[k]), lo=float(lo_sum[k]),
                                     hi=float(hi_sum[k]))
        failed |= where
    moving &= ~failed[g]

    # the movers, sorted by group (their order within a group kept)
    at = np.flatnonzero(moving)
    at = at[np.argsort(g[at], kind="stable")]
    gm, em, vm, wm = g[at], start[at], v[at], w[at]
    # the breakpoints of each group's piecewise linear level(λ): where an area reaches a
    # bound, and 0; sorted and distinct within the group
    with np.errstate(invalid="ignore"):
        knot = np.concatenate([(lower - em) / vm, (upper - em) / vm,
                               np.zeros(int((~failed).sum()))])
    knot_g = np.concatenate([gm, gm, np.flatnonzero(~failed)])
    finite = np.isfinite(knot)
    knot, knot_g = knot[finite], knot_g[finite]
    # np.lexsort((knot, knot_g)), as two stable sorts: by value, then by group, which as
    # small integers numpy sorts by radix (a lexsort with a float key is a merge sort)
    order = np.argsort(knot, kind="stable")
    order = order[np.argsort(knot_g[order].astype(np.min_scalar_type(groups)), kind="stable")]
    knot, knot_g = knot[order], knot_g[order]
    distinct = np.ones(len(knot), dtype=bool)
    distinct[1:] = (knot[1:] != knot[:-1]) | (knot_g[1:] != knot_g[:-1])
    knot, knot_g = knot[distinct], knot_g[distinct]
    movers = np.bincount(gm, minlength=groups)
    first_mover = np.concatenate([[0], np.cumsum(movers)[:-1]])

    def level(k: IntArray) -> FloatArray:
        """The level ``Σ w clip(e + λ mse)`` of the group of each knot ``k`` at its λ (the
        knot against every mover of its group, summed in the movers' order)."""
        kg = knot_g[k]
        pair_knot = np.repeat(np.arange(len(k)), movers[kg])
        pair_start = np.concatenate([[0], np.cumsum(movers[kg])[:-1]])
        pair_mover = (first_mover[kg][pair_knot]
                      + np.arange(len(pair_knot)) - pair_start[pair_knot])
        summed = np.bincount(pair_knot, minlength=len(k), weights=wm[pair_mover] * np.clip(
            em[pair_mover] + knot[k][pair_knot] * vm[pair_mover], lower, upper))
        return np.asarray(summed, dtype=np.float64)

    # the segment holding each group's goal: j, the number of its knots whose level is below
    # the goal. The level does not decrease with λ — in floating point too, as every term
    # does and they are added in one order — so j is found by bisection, the level taken at
    # a few knots of each group rather than at all of them (a parent's children × its knots)
    knots = np.bincount(knot_g, minlength=groups)
    first_knot = np.concatenate([[0], np.cumsum(knots)[:-1]])
    ok = np.flatnonzero(~failed)
    k_n, k0, goal_ok = knots[ok], first_knot[ok], goal[ok]
    j, top = np.zeros(len(ok), dtype=np.int64), k_n.copy()
    while (open_ := np.flatnonzero(j < top)).size:
        mid = (j[open_] + top[open_]) // 2
        reached = level(k0[open_] + mid) >= goal_ok[open_]
        top[open_] = np.where(reached, mid, top[open_])
        j[open_] = np.where(reached, j[open_], mid + 1)
    lam_ok = np.empty(len(ok))
    hit = j < k_n
    hit[hit] = level((k0 + j)[hit]) == goal_ok[hit]
    outside = ~hit & ((j == 0) | (j == k_n))
    inside = ~hit & ~outside
    lam_ok[hit] = knot[(k0 + j)[hit]]
    # beyond the knots (only on a side without a bound, the feasibility check saw to that):
    # no area meets a bound there, so the level moves by sum(w · mse) per unit λ
    edge = np.where(j == 0, k0, k0 + k_n - 1)[outside]
    slope = np.bincount(gm, weights=wm * vm, minlength=groups)[ok][outside]
    lam_ok[outside] = knot[edge] + (goal_ok[outside] - level(edge)) / slope
    # on the segment between two knots the level is linear
    lo_k, hi_k = (k0 + j - 1)[inside], (k0 + j)[inside]
    lo_v = level(lo_k)
    lam_ok[inside] = knot[lo_k] + (goal_ok[inside] - lo_v) * (
        knot[hi_k] - knot[lo_k]) / (level(hi_k) - lo_v)
    lam = np.full(groups, np.nan)
    lam[ok] = lam_ok
    moved = np.clip(em + lam[gm] * vm, lower, upper)
    # the last rounding: spread the remaining (float) residual over the unbounded movers
    resid = goal - np.bincount(gm, weights=wm * moved, minlength=groups)
    inner = (moved > lower) & (moved < upper)
    spread = np.bincount(gm, weights=np.where(inner, wm * vm, 0.0), minlength=groups)
    fix = inner & (resid[gm] != 0.0)
    moved[fix] = np.clip(moved[fix] + resid[gm][fix] * vm[fix] / spread[gm][fix], lower, upper)
    out = np.where(failed[g], e, start)
    out[at] = moved
    mse_b = np.where(free & ~failed[g], v + (out - e) ** 2, v)
    return BenchmarkedGroups(estimate=out, mse=mse_b, shift=lam, problem=problem)


def pooled_design_effect(share: ArrayLike, variance: ArrayLike, n: ArrayLike) -> float:
    """The design effect of direct share estimates beyond what ``n`` accounts for, pooled
    over areas: ``sum_i v_i / sum_i p_i (1 - p_i) / n_i`` (a ratio of sums, over the areas
    with ``0 < p_i < 1``, ``v_i > 0`` and ``n_i > 0``; NaN entries are left out).

    An area's own ratio ``v_i n_i / (p_i (1 - p_i))`` is its design effect, but both sides
    come from the same few answers; summing first lets the larger areas carry the estimate,
    as a generalized variance function's parameters are fitted (Wolter 2007, *Introduction
    to Variance Estimation*, ch. 7).  With ``n`` the effective sample size (Kish's
    ``n_eff``) it is the part of the design effect that the weights do not explain
    (calibration, clustering); about 1 for a simple weighted design.  Raises ``ValueError``
    if no area qualifies."""
    p = float_vector(share, "share")
    v = float_vector(variance, "variance")
    m = float_vector(n, "n")
    if not p.size == v.size == m.size:
        raise ValueError(f"share, variance and n must have one entry per area "
                         f"(got {p.size}, {v.size}, {m.size})")
    with np.errstate(invalid="ignore"):
        ok = (p > 0) & (p < 1) & (v > 0) & (m > 0) & np.isfinite(v) & np.isfinite(m)
    if not ok.any():
        raise ValueError("no area with 0 < share < 1, a positive variance and n > 0: "
                         "the design effect cannot be estimated")
    binomial = p[ok] * (1.0 - p[ok]) / m[ok]
    return float(np.sum(v[ok]) / np.sum(binomial))


def smoothed_share_variances(
    direct: ArrayLike,
    n: ArrayLike,
    covariates: ArrayLike | pd.DataFrame,
    *,
    design_effect: float = 1.0,
    method: str = "REML",
    intercept: bool = True,
) -> FloatArray:
    """Sampling variances of direct share estimates for the Fay–Herriot model, smoothed by a
    generalized variance function: ``psi_i = p_i (1 - p_i) · deff / n_i``.

    The Fay–Herriot model treats ``psi_i`` as known.  A direct variance estimate from a few
    dozen answers is not: it is noisy, and for a share it is a function of the estimate
    itself (``p (1 - p) / n``), so an area whose sample happens to lie near 0 or 1 gets a
    small variance, too much weight on its direct estimate and too small an MSE (an area
    whose answers are all alike gets 0 and cannot be modelled at all).  Smoothing the
    variances removes both: the standard practice for area-level models of proportions
    (Rao & Molina 2015, *Small Area Estimation*, 2nd ed., §6.4.1; You & Chapman 2006,
    *Survey Methodology* 32, 97–103; Liu, Lahiri & Kalton 2014, *Survey Methodology* 40;
    Hawala & Lahiri 2018, *Statistics and Applications* 16; the US Census Bureau's SAIPE
    county models).

    ``p_i`` is found in two steps, neither of which uses an area's own variance estimate:

    1. the synthetic share, the least-squares fit of ``direct`` on ``covariates`` (with an
       intercept unless ``intercept=False``) weighted by ``n``, gives first variances and a
       first Fay–Herriot fit (``method``);
    2. that fit's EBLUPs give the variances returned.

    Step 2 is there because the synthetic share misses the area effect: where the covariates
    explain little, it puts every area near the mean, overstating the variance of the areas
    near 0 or 1 and understating it for those far from the mean.  The first EBLUP is only
    partly the area's own estimate (its weight ``gamma_i``); iterating the step further
    would bring the dependence of the variance on the estimate back (on the demo data the
    coverage of the 95 % intervals: 96.7 % with step 1 alone, 95.8 % after step 2, 93.2 %
    after five repetitions of it, 92.4 % with the direct variances).

    Each ``p_i`` is kept within ``[0.5 / n_i, 1 - 0.5 / n_i]``.  ``n`` should be the
    effective sample size (Kish's ``n_eff``) and ``design_effect`` the rest of the design
    effect, e.g. :func:`pooled_design_effect`.

    Returns one variance per area, in input order; NaN where ``direct`` or ``n`` is missing
    or ``n <= 0`` (no sample: the area is out of sample for :func:`fay_herriot`).  Raises
    ``ValueError`` as :func:`fay_herriot` does when the first fit is not possible.
    """
    y = float_vector(direct, "direct")
    m = float_vector(n, "n")
    if m.size != y.size:
        raise ValueError(f"direct has {y.size} areas but n has {m.size}")
    if not (np.isfinite(design_effect) and design_effect > 0):
        raise ValueError(f"design_effect must be positive and finite, got {design_effect!r}")
    X, _ = _design(covariates, y.size, intercept)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(y) & np.isfinite(m) & (m > 0)
    if int(ok.sum()) < X.shape[1]:
        raise ValueError(f"need at least {X.shape[1]} areas with a direct estimate and n > 0 "
                         f"to fit the synthetic shares, got {int(ok.sum())}")
    root = np.sqrt(m[ok])
    coef = np.linalg.lstsq(X[ok] * root[:, None], y[ok] * root, rcond=None)[0]

    def gvf(share: FloatArray) -> FloatArray:
        out = np.full(y.size, np.nan)
        half = 0.5 / m[ok]
        p = np.clip(share, half, 1.0 - half)
        out[ok] = p * (1.0 - p) * design_effect / m[ok]
        return out

    first = fay_herriot_fit(np.where(ok, y, np.nan), gvf(X[ok] @ coef), X, method,
                            intercept=False)
    return gvf(first.eblup[ok])
