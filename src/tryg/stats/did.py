"""Difference-in-differences of survey domain means, with design-based standard errors.

Treated areas and comparison areas are domains of the same sample in a wave: the *gap*
(treated minus comparison, each side the union of its areas estimated as one domain) is a
contrast of one design, so its variance comes from :func:`tryg.stats.compare_domains` and
includes the covariance between the two sides (shared strata and clusters, calibration). Waves
are independent samples, so the variances of the waves' gaps add:

    DiD = mean(gaps after) - mean(gaps before),
    Var = sum(Var(gap) for the waves after) / n_after² + sum(...before) / n_before².

A stacked design whose strata are wave × stratum (as :mod:`tryg.index.survey` builds it) keeps
the waves independent by construction, so the same formula holds there.

Intervals, p-values and the minimum detectable effect use Student t with the Welch-Satterthwaite
degrees of freedom of that sum (each gap carries its design's PSUs minus strata); with many PSUs
this is the normal approximation. The minimum detectable effect at power 1 - β and two-sided
level α is ``(t_{1-α/2} + t_{1-β}) × SE``: the true effect that a test of this precision would
find significant with probability 1 - β.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from tryg.stats.contrasts import Side, Statistic, compare_domains
from tryg.stats.design import Design
from tryg.stats.errors import EstimationError


@dataclass(frozen=True)
class Gap:
    """Treated minus comparison in one wave, with its design-based standard error."""

    wave: int | None
    treated: float
    comparison: float
    gap: float
    se: float
    df: float


@dataclass(frozen=True)
class Contrast:
    """An estimate with its standard error, degrees of freedom, interval and p-value."""

    estimate: float
    se: float
    df: float
    low: float
    high: float
    p_value: float


def wave_gaps(
    design: Design,
    variable: str,
    *,
    area: str,
    treated: Sequence[Hashable],
    comparison: Sequence[Hashable],
    wave_column: str | None = None,
    waves: Sequence[int] = (),
    statistic: Statistic = "mean",
    codes: Hashable | Iterable[Hashable] | None = None,
    exclude: Iterable[Hashable] = (),
) -> list[Gap]:
    """The gap of every wave in ``waves`` of a stacked design (``wave_column`` names the wave),
    or of the whole design as one wave (``wave_column`` None: one gap, wave None).

    Areas of a side without respondents in a wave are left out of that side; a side with none
    at all is an :class:`EstimationError` naming the wave.
    """
    t, c = list(dict.fromkeys(treated)), list(dict.fromkeys(comparison))
    if not t or not c:
        raise EstimationError("a difference-in-differences needs treated and comparison areas")
    overlap = set(map(str, t)) & set(map(str, c))
    if overlap:
        raise EstimationError(f"areas {sorted(overlap)} are both treated and comparison")
    by: list[str] = [area] if wave_column is None else [area, wave_column]
    frame = design.data[by].dropna()
    wave_list: list[int | None] = [None] if wave_column is None else [int(w) for w in waves]
    pairs: list[tuple[Side, Side]] = []
    for w in wave_list:
        rows = frame if w is None else frame[frame[by[1]] == w]
        present = {str(a): a for a in rows[area].unique()}
        pairs.append(_sides(t, c, present, w))
    res = compare_domains(design, variable, by=by, pairs=pairs, statistic=statistic,
                          codes=codes, exclude=exclude)
    cols = {c: res[c].to_numpy(np.float64) for c in
            ("estimate_first", "estimate_second", "difference", "se", "df")}
    return [
        Gap(w, float(cols["estimate_first"][i]), float(cols["estimate_second"][i]),
            float(cols["difference"][i]), float(cols["se"][i]), float(cols["df"][i]))
        for i, w in enumerate(wave_list)
    ]


def _sides(treated: list[Hashable], comparison: list[Hashable], present: dict[str, object],
           wave: int | None) -> tuple[Side, Side]:
    """The two sides of a wave's pair: the areas with respondents there, as domain keys."""
    sides: list[list[Hashable]] = []
    for name, areas in (("treated", treated), ("comparison", comparison)):
        found = [present[str(a)] for a in areas if str(a) in present]
        here: list[Hashable] = [a if wave is None else (a, wave) for a in found]
        if not here:
            where = "" if wave is None else f" in wave {wave}"
            raise EstimationError(f"no respondents in the {name} areas{where}")
        sides.append(here)
    return sides[0], sides[1]


def satterthwaite(variances: Sequence[float], dfs: Sequence[float]) -> float:
    """Welch-Satterthwaite degrees of freedom of a sum of independent variance estimates
    (inf when every part has infinite df; NaN when a part has none)."""
    v = np.asarray(variances, dtype=np.float64)
    d = np.asarray(dfs, dtype=np.float64)
    if np.any(~(d > 0)):
        return math.nan
    total = float(v.sum())
    if total == 0:
        return math.inf
    finite = np.isfinite(d)
    denominator = float(np.sum(v[finite] ** 2 / d[finite]))
    return math.inf if denominator == 0 else total**2 / denominator


def contrast(estimate: float, se: float, df: float, level: float = 0.95) -> Contrast:
    """Interval and two-sided p-value of ``estimate`` (t with ``df``; normal when inf)."""
    q = _quantile(1 - (1 - level) / 2, df)
    p = float(2 * _sf(abs(estimate) / se, df)) if se > 0 else math.nan
    return Contrast(estimate, se, df, estimate - q * se, estimate + q * se, p)


def did(pre: Sequence[Gap], post: Sequence[Gap], level: float = 0.95) -> Contrast:
    """The difference-in-differences: mean gap after minus mean gap before (waves
    independent)."""
    if not pre or not post:
        raise EstimationError("a difference-in-differences needs waves before and after")
    parts = [(g, 1 / len(post)) for g in post] + [(g, -1 / len(pre)) for g in pre]
    estimate = sum(c * g.gap for g, c in parts)
    variances = [c * c * g.se**2 for g, c in parts]
    se = math.sqrt(sum(variances))
    df = satterthwaite(variances, [g.df for g, _ in parts])
    return contrast(estimate, se, df, level)


def minimum_detectable_effect(se: float, df: float = math.inf, *, power: float = 0.8,
                              alpha: float = 0.05) -> float:
    """``(t_{1-α/2} + t_{power}) × se``: the smallest true effect found significant (two-sided
    ``alpha``) with probability ``power``."""
    return (_quantile(1 - alpha / 2, df) + _quantile(power, df)) * se


def power(effect: float, se: float, df: float = math.inf, *, alpha: float = 0.05) -> float:
    """Probability that a two-sided test at ``alpha`` finds a true ``effect`` significant when
    its estimate has standard error ``se`` (the t statistic taken as t-distributed around
    ``effect / se``, the approximation behind :func:`minimum_detectable_effect`)."""
    q = _quantile(1 - alpha / 2, df)
    shift = effect / se
    return float(_sf(q - shift, df) + _sf(q + shift, df))


def _quantile(p: float, df: float) -> float:
    if math.isnan(df):
        return math.nan
    return float(sps.norm.ppf(p) if math.isinf(df) else sps.t.ppf(p, df))


def _sf(x: float, df: float) -> float:
    if math.isnan(df):
        return math.nan
    return float(sps.norm.sf(x) if math.isinf(df) else sps.t.sf(x, df))
