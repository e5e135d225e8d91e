"""Replicate-weight designs: variances from re-weighted copies of the sample.

A :class:`ReplicateDesign` carries, besides the full-sample weights, ``R`` columns of replicate
weights. An estimate is recomputed with every column and its variance is the spread of those
replicate estimates, ``scale * sum_r rscales[r] * (theta_r - centre)**2``. This is R `survey`'s
``svrepdesign``; it is needed when a data producer ships replicate weights instead of strata and
clusters (BRR, Fay, bootstrap), and it is the simplest correct way to let calibration enter the
variance: adjusting the weights repeats the adjustment in every replicate
(:mod:`tryg.stats.calibration` does this for a ReplicateDesign).

Three ways to build one, each following R's defaults so that numbers agree with R:

* :func:`jackknife` from a :class:`~tryg.stats.design.Design` (R ``as.svrepdesign(type="JK1")``
  or ``"JKn"``): one replicate per first-stage PSU, with the finite population correction in
  ``scale`` (JK1) or ``rscales`` (JKn).
* :func:`bootstrap` from a Design (R ``as.svrepdesign(type="bootstrap")``, the Rao–Wu rescaled
  bootstrap). It is random: reproducible given ``seed``, but the numbers differ from R's, which
  come from R's own random number generator.
* :meth:`ReplicateDesign.from_weights` for replicate weights supplied with the data (R
  ``svrepdesign``), with R's ``scale``/``rscales`` defaults for each ``type``.

Replicate weights are stored as *analysis* weights (R's ``weights(design, "analysis")``): the
weight each row gets in each replicate, already multiplied by the full-sample weight. They take
``8 * n * R`` bytes, so a jackknife with one replicate per respondent is refused for large
samples (use the linearised :class:`~tryg.stats.design.Design` or :func:`bootstrap` there).

Degrees of freedom follow R's ``degf``: the numerical rank of the replicate weight matrix minus
one (R's ``qr(..., tol = 1e-5)$rank - 1``). For a domain, R's ``svyby`` subsets the design and
recomputes it on the domain's rows; :meth:`ReplicateDesign.domain_degrees_of_freedom` does the
same for all domains at once. The rank test takes the replicates in order, so the jackknife
orders them as R does (PSUs, and strata, in order of appearance in the data).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import pandas as pd

from tryg.stats.design import FloatArray, IntArray, Sparse, weight_column
from tryg.stats.errors import DesignError

ReplicateType = Literal["JK1", "JKn", "BRR", "Fay", "bootstrap", "other"]
REPLICATE_TYPES: tuple[str, ...] = get_args(ReplicateType)

#: R's tolerance for the rank in ``degf.svyrep.design`` (``qr(..., tol = 1e-5)``).
RANK_TOLERANCE = 1e-5
#: Largest replicate weight matrix (rows x replicates) a constructor builds: 1.6 GB of floats.
MAX_CELLS = 200_000_000


@dataclass(frozen=True)
class ReplicateAdjustment:
    """One weight adjustment done on a replicate design, for people reading the design.

    ``kind`` is ``"poststratify"``, ``"rake"``, ``"calibrate"`` or ``"trim"``; ``variables``
    the columns or calibration variables used; ``report`` the full-sample
    :class:`~tryg.stats.calibration.RakeReport` / ``CalibrationReport`` (``None`` when the
    adjustment has none) and ``replicate_reports`` the same for every replicate.
    """

    kind: str
    variables: tuple[str, ...]
    report: object = None
    replicate_reports: tuple[object, ...] = ()


@dataclass(frozen=True, eq=False)
class ReplicateDesign:
    """A sample with full-sample weights and replicate weights (R's ``svyrep.design``).

    Usually built with :func:`jackknife`, :func:`bootstrap` or :meth:`from_weights`; the
    constructor takes ready arrays: ``weights`` (n,), ``replicate_weights`` (n, R) as analysis
    weights, and the variance constants. Like :class:`~tryg.stats.design.Design` it is
    immutable: the arrays are copied (unless already read-only arrays owning their data) and
    made read-only, and adjusting weights returns a new design. ``mse=False`` (R's default,
    ``getOption("survey.replicates.mse")``) centres the replicate estimates on their mean,
    ``mse=True`` on the full-sample estimate.
    ``degrees_of_freedom=None`` computes R's ``degf``: rank of the replicate weights minus one.
    """

    data: pd.DataFrame
    weights: FloatArray
    replicate_weights: FloatArray
    type: ReplicateType
    scale: float
    rscales: FloatArray
    mse: bool
    degrees_of_freedom: int
    replicate_names: tuple[str, ...]
    rho: float | None
    calibration: tuple[ReplicateAdjustment, ...]

    def __init__(
        self,
        data: pd.DataFrame,
        weights: FloatArray,
        replicate_weights: FloatArray,
        *,
        type: ReplicateType = "other",
        scale: float = 1.0,
        rscales: FloatArray | float | None = None,
        mse: bool = False,
        degrees_of_freedom: int | None = None,
        replicate_names: Sequence[str] | None = None,
        rho: float | None = None,
        calibration: tuple[ReplicateAdjustment, ...] = (),
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise DesignError("data must be a pandas DataFrame")
        if type not in REPLICATE_TYPES:
            raise DesignError(f"type={type!r} is not one of {', '.join(REPLICATE_TYPES)}")
        n = len(data)
        w = _frozen(np.asarray(weights, dtype=np.float64).reshape(-1))
        reps = np.asarray(replicate_weights, dtype=np.float64)
        if reps.ndim != 2 or reps.shape[0] != n:
            raise DesignError(
                f"replicate_weights must have shape (rows, replicates) = ({n}, R); got "
                f"{reps.shape}"
            )
        if len(w) != n:
            raise DesignError(f"weights has {len(w)} values but the data has {n} rows")
        n_rep = reps.shape[1]
        names = (
            tuple(f"replicate_{r + 1}" for r in range(n_rep))
            if replicate_names is None
            else tuple(str(s) for s in replicate_names)
        )
        if len(names) != n_rep:
            raise DesignError(f"{len(names)} replicate names for {n_rep} replicates")
        _check_weights(w[:, None], ("full-sample weights",))
        _check_weights(reps, names)
        if n_rep < 2:
            raise DesignError(f"a replicate design needs at least 2 replicates; got {n_rep}")
        rs = _rscales(rscales, n_rep)
        if not (math.isfinite(scale) and scale > 0):
            raise DesignError(f"scale must be a positive number; got {scale!r}")
        df = _rank(reps) - 1 if degrees_of_freedom is None else int(degrees_of_freedom)
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "replicate_weights", _frozen(reps))
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "scale", float(scale))
        object.__setattr__(self, "rscales", rs)
        object.__setattr__(self, "mse", bool(mse))
        object.__setattr__(self, "degrees_of_freedom", df)
        object.__setattr__(self, "replicate_names", names)
        object.__setattr__(self, "rho", rho)
        object.__setattr__(self, "calibration", tuple(calibration))

    # -- construction from user-supplied replicate weights ----------------------------------
    @classmethod
    def from_weights(
        cls,
        data: pd.DataFrame,
        *,
        weights: str,
        replicate_weights: str | Sequence[str],
        type: ReplicateType,
        scale: float | None = None,
        rscales: Sequence[float] | FloatArray | float | None = None,
        rho: float | None = None,
        mse: bool = False,
        combined_weights: bool = True,
    ) -> ReplicateDesign:
        """Replicate weights shipped with the data (R ``svrepdesign``).

        ``replicate_weights`` is a list of columns or a regular expression matched (searched)
        against the column names, like R's ``repweights="wt[0-9]+"``; the full-sample weight
        column is never taken as a replicate. With ``combined_weights=True`` (R's default)
        the columns are the replicates' analysis weights; with ``False`` they are factors that
        multiply the full-sample weight (e.g. 0/2 for BRR).

        Defaults are R's, per ``type``: BRR ``scale = 1/R``; Fay ``scale = 1/(R (1-rho)^2)``
        (``rho`` required); JK1 ``scale = (R-1)/R``; JKn needs ``rscales`` (typically
        ``(n_h-1)/n_h`` of each replicate's stratum); bootstrap ``scale = 1/(R-1)``; other
        ``scale = 1``. ``rscales`` defaults to 1. R ignores ``scale=`` for BRR and Fay (with a
        warning); here giving it is an error, so a wrong scale cannot pass unnoticed. R's
        ``fpc=`` for JK1/JKn multiplies ``rscales`` by the correction; pass the product here.
        """
        if not isinstance(data, pd.DataFrame):
            raise DesignError("data must be a pandas DataFrame")
        if type not in REPLICATE_TYPES:
            raise DesignError(f"type={type!r} is not one of {', '.join(REPLICATE_TYPES)}")
        if weights not in data.columns:
            raise DesignError(
                f"unknown weight column {weights!r}; the data has "
                f"{', '.join(map(str, data.columns[:30]))}"
            )
        columns = _replicate_columns(data, replicate_weights, weights)
        w = weight_column(data, weights, "weight")
        if not (w > 0).any():
            raise DesignError(f"weight column {weights!r} has no positive weight")
        reps = np.column_stack([weight_column(data, c, "replicate weight") for c in columns])
        n_rep = len(columns)
        if n_rep < 2:
            raise DesignError(
                f"a replicate design needs at least 2 replicate weight columns; got "
                f"{n_rep} ({', '.join(map(repr, columns))})"
            )
        if not combined_weights:
            reps = reps * w[:, None]
        scale_value = _default_scale(type, scale, rho, n_rep)
        if type == "JKn" and rscales is None:
            raise DesignError(
                "type='JKn' needs rscales= (one per replicate, usually (n_h - 1)/n_h of the "
                "replicate's stratum); R refuses combined JKn weights without them too"
            )
        return cls(
            data, w, reps, type=type, scale=scale_value,
            rscales=None if rscales is None else np.asarray(rscales, dtype=np.float64),
            mse=mse, replicate_names=columns, rho=rho,
        )

    # -- what the estimators use -------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of rows (respondents)."""
        return len(self.weights)

    @property
    def replicates(self) -> int:
        """Number of replicates R."""
        return int(self.replicate_weights.shape[1])

    def column(self, name: str) -> pd.Series:
        """A data column, with a clear error if it is not there."""
        if name not in self.data.columns:
            raise DesignError(
                f"unknown column {name!r}; the data has {', '.join(map(str, self.data.columns))}"
            )
        return self.data[name]

    def replicate_variance(self, point: Callable[[FloatArray], FloatArray]) -> FloatArray:
        """Variance of D estimates from their replicate values (R's ``svrVar``).

        ``point(weights)`` maps weights of shape (n,) to D estimates and weights of shape
        (n, R) to a (D, R) array. A replicate whose estimate is NaN (e.g. a domain mean whose
        rows all got weight 0 in that replicate) is left out of that estimate's variance, as
        R's ``na.action = na.omit`` does (R warns; here the count is silent). Each estimate is
        treated on its own, like R's ``svyby``, which computes every domain separately. If
        every replicate is NaN the variance is NaN (R stops with an error).
        """
        thetas = np.asarray(point(self.replicate_weights), dtype=np.float64)
        if thetas.ndim == 1:
            thetas = thetas[None, :]
        if thetas.shape[-1] != self.replicates:
            raise ValueError(
                f"point() returned shape {thetas.shape} for {self.replicates} replicates"
            )
        valid = ~np.isnan(thetas)
        if self.mse:
            centre = np.asarray(point(self.weights), dtype=np.float64).reshape(-1)
        else:
            use = valid & (self.rscales > 0)
            count = use.sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                centre = np.where(use, thetas, 0.0).sum(axis=1) / count
        with np.errstate(invalid="ignore"):
            dev = np.where(valid, thetas - centre[:, None], 0.0)
        var = self.scale * ((dev * dev) @ self.rscales)
        return np.asarray(np.where(valid.any(axis=1), var, np.nan), dtype=np.float64)

    # -- what the estimators ask (SurveyDesign) ------------------------------------------------
    @property
    def by_replicates(self) -> bool:
        return True

    def variance(
        self, point: Callable[[FloatArray], FloatArray], scores: Callable[[], Sparse]
    ) -> FloatArray:
        """From the replicate estimates (``scores`` unused): :meth:`replicate_variance`."""
        return self.replicate_variance(point)

    def rows_degrees_of_freedom(self, rows: IntArray) -> float:
        """The design's degrees of freedom (R's ``svycontrast`` on a replicate design)."""
        return float(self.degrees_of_freedom)

    def domain_degrees_of_freedom(
        self, rows: IntArray, dom: IntArray, n_domains: int
    ) -> FloatArray:
        """Degrees of freedom of each domain: rank of its rows' replicate weights minus one.

        This is R's ``degf`` of the design subset to the domain (``[.svyrep.design`` recomputes
        it, and ``svyby`` subsets). ``rows`` are the rows counted in a domain (its respondents
        with an answer, the convention of the linearised domain df too) and ``dom`` their
        domain. A domain holding every row gets the design's own degrees of freedom.
        """
        out = np.zeros(n_domains)
        order = np.argsort(dom, kind="stable")
        bounds = np.searchsorted(dom[order], np.arange(n_domains + 1))
        for d in range(n_domains):
            sel = rows[order[bounds[d]:bounds[d + 1]]]
            if len(sel) == self.n:
                out[d] = self.degrees_of_freedom
            elif len(sel):
                out[d] = _rank(self.replicate_weights[sel]) - 1
        return out

    # -- copies ------------------------------------------------------------------------------
    def adjusted(
        self,
        weights: FloatArray,
        replicate_weights: FloatArray,
        adjustment: ReplicateAdjustment,
        *,
        recompute_df: bool,
    ) -> ReplicateDesign:
        """A copy with adjusted weights and one more adjustment recorded.

        ``recompute_df`` follows R: ``postStratify``, ``rake`` and linear ``calibrate``
        recompute ``degf`` from the new replicate weights; bounded or raking ``calibrate``
        and ``trimWeights`` keep it.
        """
        w = _frozen(weights)
        reps = _frozen(replicate_weights)
        if reps.shape != self.replicate_weights.shape or w.shape != self.weights.shape:
            raise ValueError("adjusted weights must keep the design's shape")
        new = object.__new__(ReplicateDesign)
        new.__dict__.update(self.__dict__)
        new.__dict__.update(
            weights=w, replicate_weights=reps, calibration=(*self.calibration, adjustment),
            degrees_of_freedom=_rank(reps) - 1 if recompute_df else self.degrees_of_freedom,
        )
        return new

    def __repr__(self) -> str:
        parts = [f"n={self.n}", f"type={self.type!r}", f"replicates={self.replicates}",
                 f"scale={self.scale:.6g}", f"df={self.degrees_of_freedom}"]
        if self.mse:
            parts.append("mse=True")
        if self.calibration:
            parts.append("adjusted=" + "+".join(a.kind for a in self.calibration))
        return f"ReplicateDesign({', '.join(parts)})"


def _default_scale(type_: str, scale: float | None, rho: float | None, n_rep: int) -> float:
    if type_ == "Fay":
        if rho is None or not 0 <= rho < 1:
            raise DesignError(f"type='Fay' needs rho= between 0 and 1 (got {rho!r})")
    elif rho is not None:
        raise DesignError(f"rho= is only used with type='Fay' (type is {type_!r})")
    if type_ in ("BRR", "Fay") and scale is not None:
        raise DesignError(f"type={type_!r} fixes the scale (R ignores scale= for it); use "
                          "type='other' to give your own")
    if type_ == "BRR":
        return 1.0 / n_rep
    if type_ == "Fay":
        assert rho is not None
        return 1.0 / (n_rep * (1 - rho) ** 2)
    if scale is not None:
        return float(scale)
    if type_ == "JK1":
        return (n_rep - 1) / n_rep
    if type_ == "bootstrap":
        return 1.0 / (n_rep - 1)
    return 1.0


def _replicate_columns(data: pd.DataFrame, spec: str | Sequence[str], weights: str) -> list[str]:
    if isinstance(spec, str):
        try:
            pattern = re.compile(spec)
        except re.error as exc:
            raise DesignError(f"replicate_weights={spec!r} is not a regular expression: {exc}")\
                from exc
        found = [str(c) for c in data.columns if c != weights and pattern.search(str(c))]
        if not found:
            raise DesignError(f"no column matches replicate_weights={spec!r}")
        return found
    columns = [str(c) for c in spec]
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise DesignError(
            f"unknown replicate weight column(s) {', '.join(map(repr, missing))}; the data has "
            f"{', '.join(map(str, data.columns[:30]))}"
        )
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise DesignError(f"replicate weight column(s) {duplicated} are listed twice")
    return columns


def _check_weights(values: FloatArray, names: Sequence[str]) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        raise DesignError(f"{names[col]} is missing or not finite at row {row}")
    neg = values < 0
    if neg.any():
        row, col = (int(i) for i in np.argwhere(neg)[0])
        raise DesignError(f"{names[col]} is negative at row {row} ({values[row, col]:g}); "
                          "weights must be >= 0")


def _rscales(rscales: FloatArray | float | None, n_rep: int) -> FloatArray:
    if rscales is None:
        return _frozen(np.ones(n_rep))
    rs = np.asarray(rscales, dtype=np.float64).reshape(-1)
    if rs.size == 1:
        rs = np.full(n_rep, float(rs[0]))
    if rs.size != n_rep:
        raise DesignError(f"rscales has {rs.size} values but there are {n_rep} replicates "
                          "(give one per replicate, or a single number)")
    if not np.isfinite(rs).all() or (rs < 0).any():
        raise DesignError("rscales must be non-negative numbers")
    return _frozen(rs)


def _frozen(values: FloatArray) -> FloatArray:
    """A read-only float array: a copy, unless it already is a read-only array of its own
    (as the constructors here make), so that a large replicate matrix is not copied twice."""
    out = np.asarray(values, dtype=np.float64)
    if out.flags.writeable or not out.flags.owndata:
        out = out.copy()
    out.setflags(write=False)
    return out


def _rank(matrix: FloatArray, tol: float = RANK_TOLERANCE, block: int = 32) -> int:
    """Numerical rank as R's ``qr(x, tol)$rank`` (LINPACK ``dqrdc2``) decides it.

    ``dqrdc2`` takes the columns in order and sets aside a column whose norm, after removing
    the columns kept so far, is below ``tol`` times its original norm. The same test is made
    here ``block`` columns at a time: the block is orthogonalised against the kept columns
    (Gram-Schmidt twice), factorised ``X = Q_x R_x`` by Householder, and the column-by-column
    test runs on the small ``R_x`` (``Q_x`` keeps norms). All large products are BLAS-3, and
    the accuracy is Householder's: the Gram matrix ``A'A`` would square the condition number
    and flip borderline decisions. A domain table needs one rank per domain, hence the care.
    """
    A = np.asarray(matrix, dtype=np.float64)
    n, p = A.shape
    if A.size == 0:
        return 0
    norms = np.linalg.norm(A, axis=0)
    norms[norms == 0] = 1.0
    Q = np.empty((n, min(n, p)))
    k = 0
    for start in range(0, p, block):
        X = A[:, start:min(start + block, p)].copy()
        for _ in range(2):
            X -= Q[:, :k] @ (Q[:, :k].T @ X)
        Q_x, R_x = np.linalg.qr(X)
        kept: list[FloatArray] = []  # orthonormal directions, in the coordinates of Q_x
        for t in range(X.shape[1]):
            x = R_x[:, t].copy()
            if kept:
                V = np.column_stack(kept)
                for _ in range(2):
                    x -= V @ (V.T @ x)
            size = float(np.linalg.norm(x))
            if size == 0 or size < tol * norms[start + t]:
                continue
            kept.append(x / size)
            if k + len(kept) == n:
                return int(n)
        if kept:
            Q[:, k:k + len(kept)] = Q_x @ np.column_stack(kept)
            k += len(kept)
    return k
