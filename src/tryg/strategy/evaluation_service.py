"""Evaluations from stored data (PLACEHOLDER: strategy-eval writes the real module; the lead
takes that version at merge). This one reads the latest published run's public rows and
treats areas and waves as independent (no design-based covariances)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy.stats import norm

from tryg.strategy.evaluation import Evaluation, propose_comparison_areas


def _rows() -> dict[tuple[str, str, int], tuple[float, float]]:
    from tryg.public.data import latest_published_run, published

    run = latest_published_run()
    if run is None:
        return {}
    out: dict[tuple[str, str, int], tuple[float, float]] = {}
    table = published(run).table
    for code, measure, wave, est, se in zip(table["area_code"], table["measure"],
                                            table["wave"], table["estimate"], table["se"],
                                            strict=True):
        if est == est and se == se and est is not None and se is not None:
            out[(str(code), str(measure), int(wave))] = (float(est), float(se))
    return out


def _mean(rows: dict[tuple[str, str, int], tuple[float, float]], measure: str,
          areas: Sequence[str], waves: Sequence[int]) -> tuple[float, float]:
    found = [rows[(a, measure, w)] for a in areas for w in waves if (a, measure, w) in rows]
    if not found:
        raise ValueError("no published estimates for these areas and waves")
    k = len(found)
    return (sum(e for e, _ in found) / k, math.sqrt(sum(s * s for _, s in found)) / k)


def evaluate_index_measure(*, measure_id: str, treated: Sequence[str], comparison: Sequence[str],
                           pre_waves: Sequence[int], post_waves: Sequence[int],
                           spec_name: str | None = None) -> Evaluation:
    rows = _rows()
    if not treated or not comparison or not pre_waves or not post_waves:
        raise ValueError("treated and comparison areas, and waves before and after, are needed")
    tp, tq = _mean(rows, measure_id, treated, pre_waves), _mean(rows, measure_id, treated,
                                                                post_waves)
    cp, cq = _mean(rows, measure_id, comparison, pre_waves), _mean(rows, measure_id,
                                                                   comparison, post_waves)
    estimate = (tq[0] - tp[0]) - (cq[0] - cp[0])
    se = math.sqrt(tp[1] ** 2 + tq[1] ** 2 + cp[1] ** 2 + cq[1] ** 2)
    p = float(2 * norm.sf(abs(estimate) / se)) if se > 0 else 1.0
    return Evaluation("survey_did", estimate, se, estimate - 1.96 * se, estimate + 1.96 * se, p,
                      None, None, 2.8 * se, tuple(treated), tuple(comparison),
                      tuple(pre_waves), tuple(post_waves), ("placeholder",))


def proposed_comparison(*, measure_id: str, treated: Sequence[str], k: int = 5) -> list[str]:
    rows = _rows()
    waves = sorted({w for (_a, m, w) in rows if m == measure_id})
    if not waves:
        return []
    first = waves[0]
    values = {a: [e] for (a, m, w), (e, _s) in rows.items() if m == measure_id and w == first}
    if not all(t in values for t in treated):
        return []
    return propose_comparison_areas(values, treated, k)
