"""Evaluations from the stored data behind the published index run.

The survey designs are built exactly as the run built them - the stored answers read by
:func:`tryg.runs.inputs.load_inputs`, the respondents' areas at every level and the stacked
design (strata wave × stratum, raked to each wave's population) by :mod:`tryg.index.survey`,
the respondent-level measure values by :mod:`tryg.index.respondents` - and handed to the pure
:func:`tryg.strategy.evaluation.survey_did`. Register counts and populations are windowed and
rolled up the area hierarchy by :func:`tryg.index.register.register_rates`, as in the run.
Proposed comparison areas come from the published run's own estimates.

When the stored data have changed since the run (a newer import), the evaluation says so in
its notes (``data_changed_since_run``): it uses the data stored now, with the run's
specification.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from tryg.index.hierarchy import Hierarchy, build_hierarchy
from tryg.index.inputs import InputError
from tryg.index.population import totals
from tryg.index.register import register_rates
from tryg.index.respondents import measure_values, subindex_scores
from tryg.index.spec import Spec
from tryg.index.survey import build_design, level_column, prepare
from tryg.runs.inputs import StoredInputs, load_inputs
from tryg.runs.models import IndexRun, ResultRow
from tryg.runs.services import run_spec
from tryg.strategy.evaluation import (
    Evaluation,
    propose_comparison_areas,
    rate_ratio_did,
    survey_did,
    trend_dispersion,
)

#: The respondent-level column the evaluated measure is put in.
VALUE_COLUMN = "_evaluated_measure"


#: Why an evaluation cannot be made: machine code -> the English message (``%(name)s`` from
#: the error's ``params``). The pages translate the code (:mod:`tryg.strategy.presentation`);
#: the command line and the logs read the English message.
REASONS: dict[str, str] = {
    "no_run": "no index run%(which)s is published",
    "unknown_areas": "unknown area codes: %(codes)s",
    "mixed_levels": "treated and comparison areas must be of one level, not %(levels)s",
    "composite_measure": "%(measure)r is not a survey or register measure of %(spec)r: only "
                         "those can be evaluated (a composite mixes sources)",
    "no_survey": "no survey answers are stored",
    "input_problems": "%(problems)s",
    "no_register_counts": "no register count and population for area %(area)r in wave "
                          "%(wave)s (%(count)s such area-waves)",
    "not_register_measure": "%(measure)r is not a register measure of %(spec)r",
    "waves_needed": "give distinct waves before and after",
    "no_register": "no register counts are stored",
    "no_register_waves": "no register counts cover the waves %(waves)s",
    "no_estimates": "the published run has no estimates of %(measure)r",
    "treated_levels": "the treated areas need estimates at one level",
    "treated_without_estimates": "treated areas without estimates in waves %(waves)s: "
                                 "%(codes)s",
    "no_comparison_areas": "there are no comparison areas: no other area of the treated "
                           "areas' level has estimates in every wave before",
    "no_treated_areas": "the initiative has no areas",
    "whole_level": "the treated areas are every area of their level (%(level)s): there is "
                   "nothing of that level to compare them with",
    "estimation": "the estimate could not be computed: %(detail)s",
}


class EvaluationUnavailableError(ValueError):
    """An evaluation that cannot be made from the stored data: ``code`` (a key of
    :data:`REASONS`) and its ``params`` say why; ``str()`` is the English message."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = {k: str(v) for k, v in params.items()}
        super().__init__(REASONS[code] % params)


def published_run(spec_name: str | None = None) -> IndexRun:
    """The latest published run (of the specification ``spec_name`` when given)."""
    runs = IndexRun.objects.filter(published_at__isnull=False).select_related("spec")
    if spec_name is not None:
        runs = runs.filter(spec__spec_id=spec_name)
    run = runs.order_by("-published_at", "-id").first()
    if run is None:
        which = f" of the specification {spec_name!r}" if spec_name else ""
        raise EvaluationUnavailableError("no_run", which=which, spec=spec_name or "")
    return run


def _one_level(hier: Hierarchy, treated: Sequence[str], comparison: Sequence[str]) -> str:
    """The level of the areas evaluated: all treated and comparison areas must share one (areas
    of different levels may overlap)."""
    unknown = [a for a in [*treated, *comparison] if a not in hier.level]
    if unknown:
        raise EvaluationUnavailableError("unknown_areas", codes=", ".join(map(str, unknown)))
    levels = {hier.level[a] for a in [*treated, *comparison]}
    if len(levels) != 1:
        raise EvaluationUnavailableError("mixed_levels", levels=", ".join(sorted(levels)))
    return levels.pop()


def _changed_note(run: IndexRun, inputs: StoredInputs, names: Sequence[str]) -> list[str]:
    seen: dict[str, Any] = run.inputs or {}
    for name in names:
        now = inputs.fingerprints.get(name)
        then = seen.get(name, {})
        if now is not None and then.get("sha256") != now.sha256:
            return ["data_changed_since_run"]
    return []


def evaluate_index_measure(*, measure_id: str, treated: Sequence[str], comparison: Sequence[str],
                           pre_waves: Sequence[int], post_waves: Sequence[int],
                           spec_name: str | None = None) -> Evaluation:
    """Difference-in-differences of a survey measure (a share or mean measure, or an item
    sub-index's 0-100 score before any base-year transform) of the published run's spec;
    a register measure of the spec is passed on to :func:`evaluate_register_measure`."""
    run = published_run(spec_name)
    spec = run_spec(run)
    if any(m.id == measure_id for m in spec.register):
        return evaluate_register_measure(measure_id=measure_id, treated=treated,
                                         comparison=comparison, pre_waves=pre_waves,
                                         post_waves=post_waves, spec_name=run.spec.spec_id)
    survey_ids = {m.id for m in spec.measures} | {s.id for s in spec.subindices
                                                  if s.source == "items"}
    if measure_id not in survey_ids:
        raise EvaluationUnavailableError("composite_measure", measure=measure_id, spec=spec.id)
    inputs = load_inputs([it.column for it in spec.items], register=False)
    if inputs.survey is None:
        raise EvaluationUnavailableError("no_survey")
    hier = _hierarchy(inputs)
    level = _one_level(hier, treated, comparison)
    frame, _cols, _codes = prepare(spec, inputs.survey, hier)
    values = {**measure_values(spec, frame), **subindex_scores(spec, frame)}
    frame[VALUE_COLUMN] = values[measure_id]
    design, problems = build_design(spec, frame, inputs.population, hier)
    if problems:
        raise EvaluationUnavailableError("input_problems", problems=str(InputError(problems)))
    _check_groups(pre_waves, post_waves, treated, comparison)
    try:
        result = survey_did(design, VALUE_COLUMN, area=level_column(level), treated=treated,
                            comparison=comparison, pre_waves=pre_waves,
                            post_waves=post_waves, wave_column="wave")
    except (ValueError, ArithmeticError) as exc:
        raise EvaluationUnavailableError("estimation", detail=str(exc)) from exc
    notes = [*result.notes, *_changed_note(run, inputs, ["survey", "population", "areas"])]
    return replace(result, notes=tuple(notes))


def _check_groups(pre_waves: Sequence[int], post_waves: Sequence[int], treated: Sequence[str],
                  comparison: Sequence[str]) -> None:
    """Waves before and after, treated and comparison areas: all four are needed."""
    pre, post = {int(w) for w in pre_waves}, {int(w) for w in post_waves}
    if not pre or not post or pre & post:
        raise EvaluationUnavailableError("waves_needed")
    if not treated:
        raise EvaluationUnavailableError("no_treated_areas")
    if not comparison:
        raise EvaluationUnavailableError("no_comparison_areas", level="")


def _hierarchy(inputs: StoredInputs) -> Hierarchy:
    hier, problems = build_hierarchy(inputs.areas)
    if hier is None or problems:
        raise EvaluationUnavailableError("input_problems", problems=str(InputError(problems)))
    return hier


def _pooled(rates: pd.DataFrame, areas: Sequence[str], waves: Sequence[int],
            years_per_wave: float) -> tuple[int, float]:
    """(count, exposure = population × years) summed over ``areas`` and ``waves``."""
    rows = rates[rates["area_code"].isin([str(a) for a in areas])
                 & rates["wave"].isin([int(w) for w in waves])]
    missing = {(str(a), int(w)) for a in areas for w in waves} - set(
        zip(rows["area_code"].astype(str), rows["wave"].astype(int), strict=True))
    if missing:
        area, wave = sorted(missing)[0]
        raise EvaluationUnavailableError("no_register_counts", area=area, wave=wave,
                                         count=len(missing))
    count = round(float(rows["count"].sum()))
    return count, float(rows["population"].sum()) * years_per_wave


def evaluate_register_measure(*, measure_id: str, treated: Sequence[str],
                              comparison: Sequence[str], pre_waves: Sequence[int],
                              post_waves: Sequence[int],
                              spec_name: str | None = None) -> Evaluation:
    """Ratio of rate ratios of a register measure of the published run's spec: the offences
    counted in each wave's window (as the run counts them), summed over the treated and the
    comparison areas and over the waves before and after. With two or more waves before, the
    parallel-trends check is the same ratio between the last wave before and the earlier ones.
    """
    run = published_run(spec_name)
    spec = run_spec(run)
    measure = next((m for m in spec.register if m.id == measure_id), None)
    if measure is None:
        raise EvaluationUnavailableError("not_register_measure", measure=measure_id,
                                         spec=spec.id)
    pre, post = sorted({int(w) for w in pre_waves}), sorted({int(w) for w in post_waves})
    if not pre or not post or set(pre) & set(post):
        raise EvaluationUnavailableError("waves_needed")
    _check_groups(pre, post, treated, comparison)
    inputs = load_inputs(survey=False)
    if inputs.register is None:
        raise EvaluationUnavailableError("no_register")
    hier = _hierarchy(inputs)
    _one_level(hier, treated, comparison)
    only = _single_measure_spec(spec, measure_id)
    rates, _warnings = register_rates(only, inputs.register, totals(inputs.population, hier),
                                      hier, [*pre, *post])
    if rates.empty:
        raise EvaluationUnavailableError("no_register_waves", waves=[*pre, *post])
    rates = rates[rates["measure"] == measure_id]
    years = measure.window_quarters / 4

    def pool(areas: Sequence[str], waves: Sequence[int]) -> tuple[int, float]:
        return _pooled(rates, areas, waves, years)

    dispersion = trend_dispersion([[(pool([a], pre), pool([a], post)) for a in group]
                                   for group in (treated, comparison)])
    result = rate_ratio_did(
        treated_pre=pool(treated, pre), treated_post=pool(treated, post),
        comparison_pre=pool(comparison, pre), comparison_post=pool(comparison, post),
        treated=[str(a) for a in treated], comparison=[str(a) for a in comparison],
        pre_waves=pre, post_waves=post, dispersion=dispersion)
    notes = [n for n in result.notes if n != "pre_trend_unavailable"]
    if len(pre) >= 2:
        trend = rate_ratio_did(
            treated_pre=pool(treated, pre[:-1]), treated_post=pool(treated, pre[-1:]),
            comparison_pre=pool(comparison, pre[:-1]),
            comparison_post=pool(comparison, pre[-1:]), dispersion=dispersion)
        if trend.p_value < 0.05:
            notes.append("pre_trends_differ")
        if "zero_counts_corrected" in trend.notes and "zero_counts_corrected" not in notes:
            notes.append("zero_counts_corrected")
        result = replace(result, pre_trend_estimate=trend.estimate, pre_trend_p=trend.p_value)
    else:
        notes.append("pre_trend_unavailable")
    notes += _changed_note(run, inputs, ["register", "population", "areas"])
    return replace(result, notes=tuple(notes))


def _single_measure_spec(spec: Spec, measure_id: str) -> Spec:
    """The spec with only the register measure evaluated (and no smoothing: raw counts)."""
    measure = next(m for m in spec.register if m.id == measure_id)
    return replace(spec, register=(replace(measure, smoothing="none"),))


def proposed_comparison(*, measure_id: str, treated: Sequence[str], k: int = 5,
                        pre_waves: Sequence[int] | None = None,
                        spec_name: str | None = None) -> list[str]:
    """The ``k`` areas of the treated areas' level most like them in the published run: on the
    measure's estimates in ``pre_waves`` (default: every wave of the run but the latest) and,
    as a covariate, the log of the population (areas of similar size). Areas without an
    estimate in one of those waves are not proposed."""
    run = published_run(spec_name)
    rows = pd.DataFrame.from_records(
        list(ResultRow.objects.filter(run=run, measure=measure_id, estimate__isnull=False,
                                      suppressed=False)
             .values_list("area_code", "level", "wave", "estimate")),
        columns=["area_code", "level", "wave", "estimate"])
    if rows.empty:
        raise EvaluationUnavailableError("no_estimates", measure=measure_id)
    levels = set(rows.loc[rows["area_code"].isin(list(treated)), "level"])
    if len(levels) != 1:
        raise EvaluationUnavailableError("treated_levels")
    level = str(levels.pop())
    rows = rows[rows["level"] == level]
    waves = sorted({int(w) for w in rows["wave"]})
    chosen = sorted({int(w) for w in pre_waves}) if pre_waves else waves[:-1] or waves
    table = rows[rows["wave"].isin(chosen)].pivot_table(
        index="area_code", columns="wave", values="estimate", aggfunc="first")
    table = table.reindex(columns=chosen)
    complete = table.dropna()
    pre_values = {str(a): [float(v) for v in complete.loc[a]] for a in complete.index}
    missing = [a for a in treated if a not in pre_values]
    if missing:
        raise EvaluationUnavailableError("treated_without_estimates", waves=chosen,
                                         codes=", ".join(missing))
    if not set(rows["area_code"].astype(str)) - {str(a) for a in treated}:
        raise EvaluationUnavailableError("whole_level", level=level)
    if not set(pre_values) - {str(a) for a in treated}:
        raise EvaluationUnavailableError("no_comparison_areas", level=level)
    covariates = _log_population(chosen[-1], list(pre_values))
    return propose_comparison_areas(pre_values, list(treated), k, covariates=covariates)


def _log_population(year: int, codes: list[str]) -> dict[str, list[float]] | None:
    """log population of each area in ``year`` (rolled up the hierarchy as the run does);
    None when not every area has one."""
    inputs = load_inputs(survey=False, register=False)
    hier, problems = build_hierarchy(inputs.areas)
    if hier is None or problems:
        return None
    pop = totals(inputs.population, hier)
    pop = pop[pop["year"] == year]
    people = dict(zip(pop["area_code"].astype(str), pop["population"].astype(float),
                      strict=True))
    if not all(people.get(c, 0.0) > 0 for c in codes):
        return None
    return {c: [math.log(people[c])] for c in codes}


__all__ = [
    "EvaluationUnavailableError",
    "evaluate_index_measure",
    "evaluate_register_measure",
    "proposed_comparison",
    "published_run",
]
