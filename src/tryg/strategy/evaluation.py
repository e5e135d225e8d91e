"""Before/after evaluation against comparison areas (PLACEHOLDER: strategy-eval writes the
real module with exactly this interface; the lead takes that version at merge)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from scipy.stats import norm


@dataclass(frozen=True)
class Evaluation:
    kind: Literal["survey_did", "rate_ratio"]
    estimate: float
    se: float | None
    low: float
    high: float
    p_value: float
    pre_trend_estimate: float | None
    pre_trend_p: float | None
    minimum_detectable_effect: float | None
    treated: tuple[str, ...]
    comparison: tuple[str, ...]
    pre_waves: tuple[int, ...]
    post_waves: tuple[int, ...]
    notes: tuple[str, ...]


def rate_ratio_did(*, treated_pre: tuple[int, float], treated_post: tuple[int, float],
                   comparison_pre: tuple[int, float],
                   comparison_post: tuple[int, float]) -> Evaluation:
    counts = [treated_pre[0], treated_post[0], comparison_pre[0], comparison_post[0]]
    if min(counts) <= 0:
        raise ValueError("every count must be positive")
    log_ratio = (math.log(treated_post[0] / treated_post[1])
                 - math.log(treated_pre[0] / treated_pre[1])
                 - math.log(comparison_post[0] / comparison_post[1])
                 + math.log(comparison_pre[0] / comparison_pre[1]))
    se = math.sqrt(sum(1 / c for c in counts))
    p = float(2 * norm.sf(abs(log_ratio) / se))
    return Evaluation("rate_ratio", math.exp(log_ratio), se, math.exp(log_ratio - 1.96 * se),
                      math.exp(log_ratio + 1.96 * se), p, None, None,
                      math.exp(2.8 * se), (), (), (), (), ("placeholder",))


def propose_comparison_areas(pre_values: Mapping[str, Sequence[float]], treated: Sequence[str],
                             k: int, covariates: Mapping[str, Sequence[float]] | None = None
                             ) -> list[str]:
    if not treated:
        return []
    centre = [sum(vs) / len(vs) for vs in zip(*(pre_values[t] for t in treated), strict=False)]
    distance = {code: sum((a - b) ** 2 for a, b in zip(values, centre, strict=False))
                for code, values in pre_values.items() if code not in treated}
    return sorted(distance, key=lambda c: (distance[c], c))[:k]
