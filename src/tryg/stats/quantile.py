"""Weighted quantiles with Woodruff confidence intervals (R's ``svyquantile``, survey >= 4.1).

A quantile is read off the weighted distribution by a *quantile rule* (R's ``qrule=``); this
module implements three of R's:

* ``"math"`` (R's default): the smallest value whose cumulative weight share reaches ``p``
  (the lower value when the share hits ``p`` exactly);
* ``"school"``: as ``"math"``, but the midpoint of the two values when the share hits ``p``
  exactly (the school-book median of an even sample);
* ``"hf7"``: Hyndman & Fan's type 7 (R's ``quantile()`` default) generalised to weights:
  linear interpolation with the weighted plotting positions.

The interval is Woodruff's (R's ``interval.type="mean"``): the design-based interval of the
proportion of the population at or below the estimated quantile, ``P ± t * SE(P)`` on the
design's degrees of freedom, mapped back through the same rule. The SE is R's: the interval
width divided by ``2 t``. Domains (``by=``) are R's ``svyby`` / ``subset()``: each domain's
quantile uses its own rows, its proportion's variance the full design. Missing values are
dropped (R's ``na.rm=TRUE``). Replicate-weight designs are not covered here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats as sps

from tryg.stats.design import Design, FloatArray
from tryg.stats.errors import EstimationError
from tryg.stats.variance import linearized_variance

QRule = Literal["math", "school", "hf7"]
QRULES: tuple[str, ...] = ("math", "school", "hf7")


def weighted_quantile(x: FloatArray, w: FloatArray, p: float, qrule: QRule = "math") -> float:
    """The ``p`` quantile of values ``x`` with weights ``w`` by R's rule ``qrule``."""
    keep = w != 0
    x = x[keep]
    w = w[keep]
    if len(x) == 0:
        return float("nan")
    order = np.argsort(x, kind="stable")
    xs = x[order]
    cumw = np.cumsum(w[order])
    total = cumw[-1]
    if qrule == "hf7":
        if len(xs) == 1:
            return float(xs[0])
        pk = np.concatenate([[0.0], cumw[:-1]]) / cumw[-2]
        return float(np.interp(p, pk, xs))
    below = np.flatnonzero(cumw <= p * total)
    pos = int(below[-1]) if len(below) else 0
    nxt = min(pos + 1, len(xs) - 1)
    exact = p - cumw[pos] / total == 0
    if qrule == "math":
        return float(xs[pos] if exact else xs[nxt])
    if qrule == "school":
        return float((xs[pos] + xs[nxt]) / 2 if exact else xs[nxt])
    raise EstimationError(f"qrule={qrule!r} is not one of {', '.join(QRULES)}")


def quantile(
    design: Design,
    variable: str,
    probs: Sequence[float] = (0.25, 0.5, 0.75),
    *,
    by: str | Sequence[str] | None = None,
    qrule: QRule = "math",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Quantiles of ``variable`` per domain with Woodruff intervals.

    One row per domain and probability: the ``by`` columns, ``p``, ``estimate``, ``ci_low``,
    ``ci_high``, ``se``, ``df`` and ``n``. An interval end whose proportion falls outside
    [0, 1] is NaN, as in R.
    """
    if qrule not in QRULES:
        raise EstimationError(f"qrule={qrule!r} is not one of {', '.join(QRULES)}")
    if not isinstance(design, Design):
        raise EstimationError("quantile() needs a linearised Design (replicate weights: not yet)")
    bad = [p for p in probs if not 0 <= p <= 1]
    if bad:
        raise EstimationError(f"probabilities must lie in [0, 1]; got {bad}")
    from tryg.stats.estimators import domains

    raw = pd.to_numeric(design.column(variable), errors="coerce")
    if raw.isna().all():
        raise EstimationError(f"column {variable!r} has no numeric value")
    x_all = raw.to_numpy(np.float64)
    w_all = np.asarray(design.weights, dtype=np.float64)
    d = domains(design, by)
    stage = design.stages[0]
    rows_out: list[dict[str, object]] = []
    for k in range(d.count):
        rows = np.flatnonzero((d.codes == k) & np.isfinite(x_all))
        x = x_all[rows]
        w = w_all[rows]
        df = float(len(np.unique(stage.unit[rows])) - len(np.unique(stage.stratum[rows])))
        t = sps.t.ppf(1 - alpha / 2, df) if df > 0 else np.nan
        W = w.sum()
        for p in probs:
            q = weighted_quantile(x, w, p, qrule)
            below = (x <= q).astype(np.float64)
            share = float(w @ below / W)
            scores = sp.csc_matrix(
                (w * (below - share) / W, (rows, np.zeros(len(rows), dtype=np.int64))),
                shape=(design.n, 1),
            )
            se_p = float(np.sqrt(linearized_variance(design, scores)[0]))
            lo_p, hi_p = share - t * se_p, share + t * se_p
            lo = weighted_quantile(x, w, lo_p, qrule) if 0 <= lo_p <= 1 else np.nan
            hi = weighted_quantile(x, w, hi_p, qrule) if 0 <= hi_p <= 1 else np.nan
            row: dict[str, object] = {c: d.keys[c].iloc[k] for c in d.keys.columns}
            row.update(p=p, estimate=q, ci_low=lo, ci_high=hi, se=(hi - lo) / (2 * t),
                       df=df, n=len(rows))
            rows_out.append(row)
    return pd.DataFrame(rows_out)


__all__ = ["QRULES", "QRule", "quantile", "weighted_quantile"]
