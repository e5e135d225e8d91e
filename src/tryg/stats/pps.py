"""Unequal-probability sampling without replacement (R ``svydesign(..., pps=)``).

A one-stage sample drawn with inclusion probabilities ``pi_i`` (e.g. proportional to size)
and without replacement. The weights are ``1 / pi_i``; the variance of a total of scores
``x_i`` (weight times influence value) is a quadratic form ``x' D x`` whose matrix depends on
how much is known about the joint inclusion probabilities ``pi_ij``:

* ``"brewer"`` -- Brewer's approximation, which needs only ``pi_i``:
  ``n/(n-1) * sum_i (1 - pi_i) (x_i - mean(x))^2`` (R's ``pps="brewer"``).
* ``"ht"`` -- Horvitz-Thompson with the joint probabilities given:
  ``D_ij = (pi_ij - pi_i pi_j) / pi_ij`` (R's ``pps=ppsmat(pij)``). Entries smaller than
  ``tolerance`` in absolute value are set to zero, as R does.
* ``"yg"`` -- the Yates-Grundy form with the same ``D``: ``x' D x - sum_ij D_ij x_j^2``
  (R's ``variance="YG"``).
* ``"hr"`` -- Hartley and Rao's approximation: ``D_ij = 1 - (n - pi_i - pi_j + p2bar)/(n - 1)``
  off the diagonal and ``1 - pi_i`` on it, with ``p2bar = sum_pop pi_k^2 / n`` if known and
  the mean sampled ``pi`` otherwise (R's ``pps=HR(p2bar)`` / ``HR()``).

Only unstratified single-stage designs are covered, and totals and means (the ratio
linearisation) of numeric columns; rows with a missing value are an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from tryg.stats.design import FloatArray
from tryg.stats.errors import DesignError, EstimationError

PPSMethod = Literal["brewer", "ht", "yg", "hr"]
PPS_METHODS: tuple[str, ...] = ("brewer", "ht", "yg", "hr")


@dataclass(frozen=True)
class PPSDesign:
    """A without-replacement unequal-probability sample (see the module docstring)."""

    data: pd.DataFrame
    probs: FloatArray = field(repr=False)
    method: PPSMethod
    joint: FloatArray | None = field(default=None, repr=False)
    p2bar: float | None = None
    tolerance: float = 1e-4

    @property
    def n(self) -> int:
        return len(self.probs)

    @property
    def weights(self) -> FloatArray:
        return np.asarray(1.0 / self.probs, dtype=np.float64)

    def variance(self, x: FloatArray) -> FloatArray:
        """Variance of the column totals of scores ``x`` (n × K)."""
        x = np.asarray(x, dtype=np.float64).reshape(self.n, -1)
        pi = self.probs
        n = self.n
        if self.method == "brewer":
            f = 1.0 - pi
            if (f < 1e-7).all():
                return np.zeros(x.shape[1])
            centred = x - x.mean(axis=0)
            return np.asarray((f * n / (n - 1)) @ (centred**2), dtype=np.float64)
        D = self._check_matrix()
        quad = np.einsum("ik,ij,jk->k", x, D, x)
        if self.method == "yg":
            quad = quad - (D.sum(axis=0) @ (x * x))
        return np.asarray(quad, dtype=np.float64)

    def _check_matrix(self) -> FloatArray:
        pi = self.probs
        n = self.n
        if self.method == "hr":
            p2bar = float(pi.mean()) if self.p2bar is None else self.p2bar
            fbar = pi[:, None] + pi[None, :]
            D = 1.0 - (n - fbar + p2bar) / (n - 1)
            D[fbar == 1] = 0.0
            np.fill_diagonal(D, 1.0 - pi)
            return np.asarray(D, dtype=np.float64)
        assert self.joint is not None
        P = self.joint
        D = (P - np.outer(np.diag(P), np.diag(P))) / P
        D[np.abs(D) < self.tolerance] = 0.0
        return np.asarray(D, dtype=np.float64)


def pps_design(
    data: pd.DataFrame,
    probs: str,
    method: PPSMethod = "brewer",
    *,
    joint: FloatArray | pd.DataFrame | None = None,
    p2bar: float | None = None,
    tolerance: float = 1e-4,
) -> PPSDesign:
    """Build a PPS design; ``probs`` names the column of inclusion probabilities."""
    if method not in PPS_METHODS:
        raise DesignError(f"method={method!r} is not one of {', '.join(PPS_METHODS)}")
    if probs not in data.columns:
        raise DesignError(f"unknown probability column {probs!r}")
    pi = pd.to_numeric(data[probs], errors="coerce").to_numpy(np.float64)
    bad = ~((pi > 0) & (pi <= 1))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DesignError(
            f"column {probs!r} must hold inclusion probabilities in (0, 1]; row {row} has "
            f"{data[probs].iloc[row]!r}"
        )
    if len(pi) < 2:
        raise DesignError("a PPS design needs at least two sampled units")
    P: FloatArray | None = None
    if method in ("ht", "yg"):
        if joint is None:
            raise DesignError(f"method={method!r} needs joint= (the joint inclusion "
                              "probabilities, one row and column per sampled unit)")
        P = np.asarray(joint, dtype=np.float64)
        if P.shape != (len(pi), len(pi)):
            raise DesignError(f"joint= must be {len(pi)} × {len(pi)}; got {P.shape}")
        if not np.allclose(np.diag(P), pi, rtol=1e-8):
            raise DesignError(f"the diagonal of joint= must equal column {probs!r}")
        if (P <= 0).any():
            raise DesignError("joint inclusion probabilities must be positive")
    elif joint is not None:
        raise DesignError(f"joint= is used only with method 'ht' or 'yg', not {method!r}")
    return PPSDesign(data=data, probs=pi, method=method, joint=P, p2bar=p2bar,
                     tolerance=tolerance)


def _values(design: PPSDesign, variables: Sequence[str]) -> FloatArray:
    cols = []
    for v in variables:
        if v not in design.data.columns:
            raise EstimationError(f"unknown column {v!r}")
        y = pd.to_numeric(design.data[v], errors="coerce").to_numpy(np.float64)
        if np.isnan(y).any():
            row = int(np.flatnonzero(np.isnan(y))[0])
            raise EstimationError(f"column {v!r} is missing or not a number at row {row}")
        cols.append(y)
    return np.column_stack(cols)


def pps_total(design: PPSDesign, variables: Sequence[str]) -> pd.DataFrame:
    """Horvitz-Thompson totals with their standard errors (variable, estimate, se)."""
    y = _values(design, variables)
    w = design.weights
    x = w[:, None] * y
    return pd.DataFrame({"variable": list(variables), "estimate": x.sum(axis=0),
                         "se": np.sqrt(np.maximum(design.variance(x), 0.0))})


def pps_mean(design: PPSDesign, variables: Sequence[str]) -> pd.DataFrame:
    """Weighted means (ratio of totals) with linearised standard errors."""
    y = _values(design, variables)
    w = design.weights
    W = w.sum()
    est = (w @ y) / W
    x = w[:, None] * (y - est[None, :]) / W
    return pd.DataFrame({"variable": list(variables), "estimate": est,
                         "se": np.sqrt(np.maximum(design.variance(x), 0.0))})
