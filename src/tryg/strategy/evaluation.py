"""Did the initiative's areas move? Before/after against comparison areas (pure).

Two kinds of measure, two methods:

* **Survey measures** (:func:`survey_did`): difference-in-differences of the domain means of
  the treated areas and of the comparison areas, with design-based standard errors from
  :mod:`tryg.stats.did` (treated and comparison are domains of one sample in a wave, so their
  covariance is included; waves are independent samples, so the waves' variances add).
  Intervals, p-values and the minimum detectable effect use t with Welch-Satterthwaite degrees of
  freedom (the normal distribution when the design has very many PSUs).
* **Register rates** (:func:`rate_ratio_did`): the ratio of rate ratios
  ``(treated after / treated before) / (comparison after / comparison before)`` with a Poisson
  interval on the log scale: ``SE(log) = sqrt(Σ 1/count)``, normal quantiles. When a count is
  zero the log ratio does not exist; then 0.5 is added to every count (Haldane-Anscombe) and
  the note ``zero_counts_corrected`` says so. Poisson counts alone understate the
  uncertainty when areas' trends differ by more than their counts explain (local events,
  changed reporting): given the areas' own counts, :func:`trend_dispersion` estimates that
  overdispersion (quasi-Poisson, from the scatter of the areas' rate ratios within each group)
  and the variance is scaled by it, with t quantiles on its degrees of freedom
  (note ``overdispersion_scaled``).

Each result carries the parallel-trends check (the same contrast on the waves before the
initiative: the last wave before against the earlier ones; its estimate should be near zero),
and the minimum detectable effect at 80 % power and two-sided 5 %:
``(q_{0.975} + q_{0.8}) × SE`` - for rate ratios as a factor ``exp(...)`` either way. A result
that is not significant with a large minimum detectable effect says "the data could not have
seen an effect of this size", not "there was no effect".

Comparison areas may be proposed (:func:`propose_comparison_areas`): the k areas nearest to
the treated areas' average on the standardised pre-period values and covariates.

Notes (machine codes in :attr:`Evaluation.notes`): ``pre_trend_unavailable`` (fewer than two
waves before), ``pre_trends_differ`` (the check is significant at 5 %), ``few_degrees_of_freedom``
(under 10: wide t intervals), ``zero_counts_corrected``, ``overdispersion_scaled``; the
service adds ``data_changed_since_run``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import special
from scipy import stats as sps

from tryg.stats import Design
from tryg.stats.did import (
    Gap,
    did,
    minimum_detectable_effect,
    wave_gaps,
)
from tryg.stats.errors import EstimationError

Z975 = 1.959963984540054
Z80 = 0.8416212335729143

#: What the methods page can say about status and evaluation (English; the app translates).
METHODS_TEXT = (
    "Status compares the latest measurement with the target path, a straight line from the "
    "baseline to each target. Green (on track) means the measurement is on the good side of "
    "the path and the path lies outside the measurement's 95 % interval; red (off track) means "
    "it is on the bad side and the path lies outside the interval; grey-yellow (uncertain) "
    "means the path lies inside the interval, so the data cannot tell ahead from behind; "
    "'not assessable' means there is no recent measurement or no interval for an estimate. "
    "Random variation inside the interval never turns a light red. The evaluation compares "
    "the change in the initiative's areas with the change in comparison areas over the same "
    "waves (difference-in-differences): a common trend cancels, what remains is the "
    "difference the initiative may have made, with its 95 % interval and p-value. It is "
    "credible only if the two groups moved alike before the initiative (the parallel-trends "
    "check). 'No significant effect' is not 'no effect': the minimum detectable effect says "
    "how large a true effect would have had to be for the data to find it four times out of "
    "five; smaller effects could well have happened unnoticed."
)


@dataclass(frozen=True)
class Evaluation:
    kind: Literal["survey_did", "rate_ratio"]
    #: DiD (post-pre difference of treated minus comparison), or ratio of rate ratios
    estimate: float
    se: float | None  # DiD: design-based SE; rate ratio: SE of the log ratio
    low: float
    high: float  # 95 % interval
    p_value: float
    pre_trend_estimate: float | None
    pre_trend_p: float | None  # parallel-trends check on earlier waves
    minimum_detectable_effect: float | None  # at 80 % power, 5 % two-sided
    treated: tuple[str, ...]
    comparison: tuple[str, ...]  # area codes
    pre_waves: tuple[int, ...]
    post_waves: tuple[int, ...]
    notes: tuple[str, ...]

    @property
    def significant(self) -> bool:
        return self.p_value < 0.05


def _check_waves(pre_waves: Sequence[int], post_waves: Sequence[int]) -> tuple[list[int],
                                                                               list[int]]:
    pre, post = sorted({int(w) for w in pre_waves}), sorted({int(w) for w in post_waves})
    if not pre or not post:
        raise EstimationError("an evaluation needs at least one wave before and one after")
    if set(pre) & set(post):
        raise EstimationError(f"waves {sorted(set(pre) & set(post))} are both before and after")
    return pre, post


def survey_did(
    designs: Design | Mapping[int, Design],
    variable: str,
    *,
    area: str,
    treated: Sequence[str],
    comparison: Sequence[str],
    pre_waves: Sequence[int],
    post_waves: Sequence[int],
    wave_column: str | None = "wave",
    statistic: Literal["mean", "proportion"] = "mean",
    codes: Hashable | Iterable[Hashable] | None = None,
    exclude: Iterable[Hashable] = (),
) -> Evaluation:
    """Difference-in-differences of a survey measure (respondent-level ``variable``).

    ``designs``: one stacked design holding every wave (strata wave × stratum, ``wave_column``
    naming the wave), or a design per wave (``wave_column=None``: each design is one wave).
    ``area`` names the column with each respondent's area code.
    """
    pre, post = _check_waves(pre_waves, post_waves)
    waves = pre + post
    gaps: dict[int, Gap] = {}
    groups: dict[int, tuple[Design, list[int]]] = {}
    for w in waves:
        design = designs if isinstance(designs, Design) else designs.get(w)
        if design is None:
            raise EstimationError(f"no survey design for wave {w}")
        groups.setdefault(id(design), (design, []))[1].append(w)
    for design, ws in groups.values():
        if wave_column is None:
            if len(ws) > 1:
                raise EstimationError(f"waves {ws} share one design: name its wave column")
            (gap,) = wave_gaps(design, variable, area=area, treated=treated,
                               comparison=comparison, statistic=statistic, codes=codes,
                               exclude=exclude)
            gaps[ws[0]] = gap
        else:
            found = wave_gaps(design, variable, area=area, treated=treated,
                              comparison=comparison, wave_column=wave_column, waves=ws,
                              statistic=statistic, codes=codes, exclude=exclude)
            gaps.update(zip(ws, found, strict=True))
    result = did([gaps[w] for w in pre], [gaps[w] for w in post])
    notes: list[str] = []
    trend_est = trend_p = None
    if len(pre) >= 2:
        trend = did([gaps[w] for w in pre[:-1]], [gaps[pre[-1]]])
        trend_est, trend_p = trend.estimate, trend.p_value
        if trend_p < 0.05:
            notes.append("pre_trends_differ")
    else:
        notes.append("pre_trend_unavailable")
    if result.df < 10:
        notes.append("few_degrees_of_freedom")
    return Evaluation(
        kind="survey_did", estimate=result.estimate, se=result.se, low=result.low,
        high=result.high, p_value=result.p_value, pre_trend_estimate=trend_est,
        pre_trend_p=trend_p,
        minimum_detectable_effect=minimum_detectable_effect(result.se, result.df),
        treated=tuple(map(str, treated)), comparison=tuple(map(str, comparison)),
        pre_waves=tuple(pre), post_waves=tuple(post), notes=tuple(notes),
    )


Counted = tuple[int, float]  # (count, exposure: population × years)


def _check(*parts: Counted) -> None:
    for count, exposure in parts:
        if count < 0 or not math.isfinite(count):
            raise ValueError(f"a count must be a whole number >= 0, not {count!r}")
        if not exposure > 0 or not math.isfinite(exposure):
            raise ValueError(f"an exposure (population × time) must be > 0, not {exposure!r}")


def _log_rrr(before_t: Counted, after_t: Counted, before_c: Counted, after_c: Counted
             ) -> tuple[float, float, bool]:
    """log ratio of rate ratios, its Poisson SE, and whether 0.5 was added to the counts."""
    parts = (after_t, before_t, after_c, before_c)
    _check(*parts)
    corrected = any(count == 0 for count, _ in parts)
    add = 0.5 if corrected else 0.0
    logs = [math.log((count + add) / exposure) for count, exposure in parts]
    estimate = (logs[0] - logs[1]) - (logs[2] - logs[3])
    se = math.sqrt(sum(1 / (count + add) for count, _ in parts))
    return estimate, se, corrected


@dataclass(frozen=True)
class Dispersion:
    """How much more the change varies between areas than Poisson counts would: a variance
    factor (>= 1) and the degrees of freedom of its estimate (inf: taken as known)."""

    factor: float = 1.0
    df: float = math.inf


POISSON = Dispersion()


def trend_dispersion(groups: Sequence[Sequence[tuple[Counted, Counted]]]) -> Dispersion:
    """The overdispersion of the change, from each area's own ``(before, after)`` counts.

    Within each group (the treated areas, the comparison areas) the areas' log rate ratios
    ``r_i`` scatter about their inverse-variance weighted mean; under Poisson counts alone
    ``Σ (r_i - r̄)² / v_i`` (``v_i = 1/before + 1/after``) is about its degrees of freedom
    ``m - 1``. The pooled ratio (statistic over degrees of freedom) is the quasi-Poisson
    factor by which areas' trends vary more than their counts explain - local events, changed
    reporting - and the variance of the ratio of rate ratios is scaled by it (never below 1).
    Areas with a zero count get 0.5 added, as in :func:`rate_ratio_did`. Groups of one area
    say nothing; with no degrees of freedom at all the result is :data:`POISSON`.
    """
    statistic = 0.0
    df = 0
    for group in groups:
        if len(group) < 2:
            continue
        r, v = [], []
        for before, after in group:
            _check(before, after)
            add = 0.5 if before[0] == 0 or after[0] == 0 else 0.0
            r.append(math.log((after[0] + add) / after[1]) - math.log((before[0] + add)
                                                                      / before[1]))
            v.append(1 / (before[0] + add) + 1 / (after[0] + add))
        r_arr, v_arr = np.asarray(r), np.asarray(v)
        centre = float(np.sum(r_arr / v_arr) / np.sum(1 / v_arr))
        statistic += float(np.sum((r_arr - centre) ** 2 / v_arr))
        df += len(group) - 1
    if df == 0:
        return POISSON
    return Dispersion(max(1.0, statistic / df), float(df))


def _p_and_quantile(stat: float, df: float) -> tuple[float, float, float]:
    """Two-sided p of ``stat``, the 97.5 % and 80 % quantiles (t with ``df``, normal if inf)."""
    if math.isinf(df):
        return float(2 * special.ndtr(-abs(stat))), Z975, Z80
    return (float(2 * sps.t.sf(abs(stat), df)), float(sps.t.ppf(0.975, df)),
            float(sps.t.ppf(0.8, df)))


def rate_ratio_did(*, treated_pre: Counted, treated_post: Counted, comparison_pre: Counted,
                   comparison_post: Counted, treated_earlier: Counted | None = None,
                   comparison_earlier: Counted | None = None, treated: Sequence[str] = (),
                   comparison: Sequence[str] = (), pre_waves: Sequence[int] = (),
                   post_waves: Sequence[int] = (),
                   dispersion: Dispersion = POISSON) -> Evaluation:
    """Ratio of rate ratios of register counts, with a Poisson interval (log scale).

    Each argument is ``(count, exposure)``. ``treated_earlier``/``comparison_earlier``: a
    period before ``*_pre``, for the parallel-trends check (the same ratio between the earlier
    and the pre period). The labels (areas, waves or years) are carried into the result.
    ``dispersion`` (see :func:`trend_dispersion`) scales the variance of the log ratio, and
    its degrees of freedom turn the normal quantiles into t quantiles; with it the note
    ``overdispersion_scaled`` is added when the factor exceeds 1.
    """
    if not dispersion.factor >= 1.0 or not dispersion.df > 0:
        raise ValueError(f"a dispersion needs factor >= 1 and df > 0, not {dispersion}")
    scale = math.sqrt(dispersion.factor)
    log_est, se, corrected = _log_rrr(treated_pre, treated_post, comparison_pre,
                                      comparison_post)
    se *= scale
    notes = ["zero_counts_corrected"] if corrected else []
    trend_est = trend_p = None
    if treated_earlier is not None and comparison_earlier is not None:
        t_log, t_se, t_corr = _log_rrr(treated_earlier, treated_pre, comparison_earlier,
                                       comparison_pre)
        trend_est = math.exp(t_log)
        trend_p = _p_and_quantile(t_log / (t_se * scale), dispersion.df)[0]
        if trend_p < 0.05:
            notes.append("pre_trends_differ")
        if t_corr and not corrected:
            notes.append("zero_counts_corrected")
    else:
        notes.append("pre_trend_unavailable")
    if dispersion.factor > 1.0:
        notes.append("overdispersion_scaled")
    p, q975, q80 = _p_and_quantile(log_est / se, dispersion.df)
    return Evaluation(
        kind="rate_ratio", estimate=math.exp(log_est), se=se,
        low=math.exp(log_est - q975 * se), high=math.exp(log_est + q975 * se),
        p_value=p, pre_trend_estimate=trend_est, pre_trend_p=trend_p,
        minimum_detectable_effect=math.exp((q975 + q80) * se),
        treated=tuple(treated), comparison=tuple(comparison),
        pre_waves=tuple(int(w) for w in pre_waves), post_waves=tuple(int(w) for w in post_waves),
        notes=tuple(notes),
    )


def propose_comparison_areas(pre_values: Mapping[str, Sequence[float]], treated: Sequence[str],
                             k: int, covariates: Mapping[str, Sequence[float]] | None = None
                             ) -> list[str]:
    """The ``k`` areas most like the treated ones before the initiative.

    Every area is described by its pre-period values (one per wave, the same waves for all)
    and its covariates (the same for all); each feature is standardised over all areas given
    (mean 0, SD 1; a feature that does not vary is left out), and the areas are ranked by
    Euclidean distance to the treated areas' average, ties by area code. Areas with a missing
    feature, and the treated areas, are not proposed.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    treated_set = {str(a) for a in treated}
    unknown = sorted(treated_set - set(pre_values))
    if unknown:
        raise ValueError(f"treated areas {unknown} have no pre-period values")
    codes = sorted(pre_values)
    n_cov = max((len(v) for v in (covariates or {}).values()), default=0)
    rows = []
    for code in codes:
        row = [float(v) for v in pre_values[code]]
        if covariates is not None:
            row += [float(v) for v in covariates.get(code, [math.nan] * n_cov)]
        rows.append(row)
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ValueError("every area needs the same number of pre-period values and covariates")
    X = np.asarray(rows, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(X, axis=0)
        sd = np.nanstd(X, axis=0)
    varies = np.isfinite(sd) & (sd > 0)
    Z = (X[:, varies] - mean[varies]) / sd[varies]
    is_treated = np.array([c in treated_set for c in codes])
    target = np.nanmean(Z[is_treated], axis=0) if Z.shape[1] else np.zeros(0)
    if np.isnan(target).any():
        raise ValueError("the treated areas have no value for some feature")
    distance = np.sqrt(((Z - target) ** 2).sum(axis=1))
    ranked = sorted(
        (round(float(d), 12), code)
        for code, d, t in zip(codes, distance, is_treated, strict=True)
        if not t and math.isfinite(d)
    )
    return [code for _, code in ranked[:k]]
