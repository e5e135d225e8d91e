"""Evaluations from the stored demo data behind the published run (evaluation_service).

The demo municipality is imported through the real import services, run and published once
for the module (tests/support/demo_import.py), inside a transaction rolled back at the end.
The evaluation's figures are checked against the run's own stored estimates: with one treated
and one comparison area, the difference-in-differences of the survey measure is the
difference of the run's direct estimates, and the ratio of rate ratios is the ratio of the
run's register rates - so the designs, windows and populations are the run's.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from support.demo_import import published_demo_run
from tryg.runs.models import IndexRun, ResultRow
from tryg.strategy.evaluation_service import (
    EvaluationUnavailableError,
    evaluate_index_measure,
    evaluate_register_measure,
    proposed_comparison,
)

BYDELE = [f"9999-0{i}" for i in range(1, 9)]
SHARE = "tryghed_trygge"
REGISTER = "anmeldelser_straffelov"


@pytest.fixture(scope="module")
def demo_run(django_db_setup: Any, django_db_blocker: Any,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexRun]:
    yield from published_demo_run(django_db_blocker, tmp_path_factory,
                                                  "strategy-eval")


def stored(run: IndexRun, measure: str, area: str, wave: int, method: str) -> float:
    row = ResultRow.objects.get(run=run, measure=measure, area_code=area, wave=wave,
                                method=method)
    assert row.estimate is not None
    return float(row.estimate)


@pytest.mark.django_db
def test_survey_did_is_the_difference_of_the_runs_estimates(demo_run: IndexRun) -> None:
    t, c = BYDELE[0], BYDELE[1]
    ev = evaluate_index_measure(measure_id=SHARE, treated=[t], comparison=[c],
                                pre_waves=[2021], post_waves=[2023])
    expected = ((stored(demo_run, SHARE, t, 2023, "direct") - stored(demo_run, SHARE, c, 2023,
                                                                     "direct"))
                - (stored(demo_run, SHARE, t, 2021, "direct")
                   - stored(demo_run, SHARE, c, 2021, "direct")))
    assert ev.kind == "survey_did"
    assert ev.estimate == pytest.approx(expected, abs=1e-12)
    assert ev.se is not None and 0 < ev.se < 0.2
    assert ev.low < ev.estimate < ev.high and 0 <= ev.p_value <= 1
    assert ev.minimum_detectable_effect == pytest.approx(2.8 * ev.se, rel=0.01)
    assert ev.notes == ("pre_trend_unavailable",)


@pytest.mark.django_db
def test_survey_did_over_several_areas_and_waves(demo_run: IndexRun) -> None:
    ev = evaluate_index_measure(measure_id=SHARE, treated=BYDELE[:2], comparison=BYDELE[2:],
                                pre_waves=[2019, 2020, 2021], post_waves=[2022, 2023],
                                spec_name="dk-tryghedsindeks")
    assert ev.treated == tuple(BYDELE[:2]) and ev.post_waves == (2022, 2023)
    assert ev.pre_trend_estimate is not None and ev.pre_trend_p is not None
    assert ev.se is not None and math.isfinite(ev.se)
    assert "data_changed_since_run" not in ev.notes
    # an item sub-index (its 0-100 score) is a survey measure too
    sub = evaluate_index_measure(measure_id="oplevet_tryghed", treated=BYDELE[:2],
                                 comparison=BYDELE[2:], pre_waves=[2021], post_waves=[2023])
    assert sub.se is not None and sub.se > 0


@pytest.mark.django_db
def test_register_ratio_of_rate_ratios_uses_the_runs_counts(demo_run: IndexRun) -> None:
    t, c = BYDELE[2], BYDELE[3]
    ev = evaluate_register_measure(measure_id=REGISTER, treated=[t], comparison=[c],
                                   pre_waves=[2020], post_waves=[2023])
    rate = {(a, w): stored(demo_run, REGISTER, a, w, "register") for a in (t, c)
            for w in (2020, 2023)}
    expected = (rate[t, 2023] / rate[t, 2020]) / (rate[c, 2023] / rate[c, 2020])
    assert ev.kind == "rate_ratio"
    assert ev.estimate == pytest.approx(expected, rel=1e-9)
    assert ev.low < ev.estimate < ev.high
    # the index measure entry point hands register measures on
    same = evaluate_index_measure(measure_id=REGISTER, treated=[t], comparison=[c],
                                  pre_waves=[2020], post_waves=[2023])
    assert same.estimate == ev.estimate
    trend = evaluate_register_measure(measure_id=REGISTER, treated=[t], comparison=[c],
                                      pre_waves=[2019, 2020], post_waves=[2023])
    assert trend.pre_trend_estimate is not None and "pre_trend_unavailable" not in trend.notes
    # several areas a side: the areas' own counts give the overdispersion (never below Poisson)
    many = evaluate_register_measure(measure_id=REGISTER, treated=BYDELE[:3],
                                     comparison=BYDELE[3:], pre_waves=[2020], post_waves=[2023])
    assert many.se is not None and math.isfinite(many.se) and many.low < many.estimate
    assert many.treated == tuple(BYDELE[:3])


@pytest.mark.django_db
def test_proposed_comparison_areas_from_the_published_run(demo_run: IndexRun) -> None:
    got = proposed_comparison(measure_id=SHARE, treated=[BYDELE[0]], k=3)
    assert len(got) == 3 and BYDELE[0] not in got
    assert set(got) <= set(BYDELE)  # the treated area's level only
    assert proposed_comparison(measure_id=SHARE, treated=[BYDELE[0]], k=3) == got
    everything = proposed_comparison(measure_id=SHARE, treated=[BYDELE[0]], k=20,
                                     pre_waves=[2019, 2020])
    assert sorted(everything) == sorted(BYDELE[1:])


@pytest.mark.django_db
def test_what_cannot_be_evaluated_says_why(demo_run: IndexRun) -> None:
    kw: dict[str, Any] = {"treated": [BYDELE[0]], "comparison": [BYDELE[1]],
                          "pre_waves": [2021], "post_waves": [2023]}
    with pytest.raises(EvaluationUnavailableError, match="not a survey or register measure"):
        evaluate_index_measure(measure_id="nope", **kw)
    with pytest.raises(EvaluationUnavailableError, match="no index run of the specification"):
        evaluate_index_measure(measure_id=SHARE, spec_name="other-spec", **kw)
    with pytest.raises(EvaluationUnavailableError, match="one level"):
        evaluate_index_measure(measure_id=SHARE, treated=["9999-U01"], comparison=[BYDELE[1]],
                               pre_waves=[2021], post_waves=[2023])
    with pytest.raises(EvaluationUnavailableError, match="unknown area codes: 0000"):
        evaluate_index_measure(measure_id=SHARE, treated=["0000"], comparison=[BYDELE[1]],
                               pre_waves=[2021], post_waves=[2023])
    with pytest.raises(EvaluationUnavailableError, match="not a register measure"):
        evaluate_register_measure(measure_id=SHARE, **kw)
    with pytest.raises(EvaluationUnavailableError, match="no estimates of"):
        proposed_comparison(measure_id="nope", treated=[BYDELE[0]])


@pytest.mark.django_db
def test_why_is_a_code_with_parameters(demo_run: IndexRun) -> None:
    """The pages translate the code; the English message stays for the command line."""
    kw: dict[str, Any] = {"treated": [BYDELE[0]], "comparison": [BYDELE[1]],
                          "pre_waves": [2021], "post_waves": [2023]}
    with pytest.raises(EvaluationUnavailableError) as composite:
        evaluate_index_measure(measure_id="tryghedsindeks", **kw)
    assert composite.value.code == "composite_measure"
    assert composite.value.params == {"measure": "tryghedsindeks", "spec": "dk-tryghedsindeks"}
    with pytest.raises(EvaluationUnavailableError) as alone:
        evaluate_index_measure(measure_id=SHARE, treated=[BYDELE[0]], comparison=[],
                               pre_waves=[2021], post_waves=[2023])
    assert alone.value.code == "no_comparison_areas"
    with pytest.raises(EvaluationUnavailableError) as waves:
        evaluate_index_measure(measure_id=SHARE, treated=[BYDELE[0]], comparison=[BYDELE[1]],
                               pre_waves=[], post_waves=[2023])
    assert waves.value.code == "waves_needed"
    kommune = ResultRow.objects.filter(run=demo_run, level="kommune").values_list(
        "area_code", flat=True).first()
    assert kommune is not None
    with pytest.raises(EvaluationUnavailableError) as whole:
        proposed_comparison(measure_id=SHARE, treated=[kommune])
    assert whole.value.code == "whole_level"
    assert "nothing of that level to compare them with" in str(whole.value)


def _initiative(codes: list[str], start: int, comparison: list[str] | None = None) -> Any:
    from tryg.strategy import services
    from tryg.strategy.models import FocusArea, Indicator, Initiative, Strategy

    strategy = Strategy.objects.create(name="S", period_start=dt.date(start, 1, 1))
    focus = FocusArea.objects.create(strategy=strategy, name="F")
    made = Initiative(focus_area=focus, name="I", period_start=dt.date(start, 1, 1),
                      published=True, comparison_areas=comparison or [])
    services.save(made, areas=codes)
    indicator = Indicator(initiative=made, name="Trygge", unit="%", source="index",
                          measure_id=SHARE, frequency="per_wave")
    services.save(indicator)
    return made, indicator


@pytest.mark.django_db
def test_an_evaluation_is_computed_once_per_publication(demo_run: IndexRun) -> None:
    """The outcome is kept under the run's id and fingerprint and the parameters: once
    computed, the page does not read the answers again (deleted here, the cached result is
    still served); a run published later computes anew."""
    from django.core.cache import cache

    from tryg.public.data import latest_published_run, published
    from tryg.strategy import evaluation_cache, presentation
    from tryg.strategy.sources import SeriesContext
    from tryg.surveys.models import Response

    cache.clear()
    kommune = ResultRow.objects.filter(run=demo_run, level="kommune").values_list(
        "area_code", flat=True).first()
    assert kommune is not None
    # a district and its kommune: the district is evaluated (the finest level)
    initiative, indicator = _initiative([BYDELE[0], kommune], 2021)
    run = latest_published_run()
    assert run is not None and run.pk == demo_run.pk
    data = published(run)
    request = evaluation_cache.request_for(initiative, indicator, data)
    assert request is not None
    assert request.treated == (BYDELE[0],) and request.comparison == ()
    assert request.pre_waves == tuple(w for w in data.waves if w < 2021)
    assert request.post_waves == tuple(w for w in data.waves if w >= 2021)
    shown = presentation.evaluation(initiative, indicator, SeriesContext(), "da")
    assert shown is not None and "result" in shown, shown
    result = shown["result"]
    assert shown["proposed"] and len(result.comparison) == 5
    assert result.pre_trend_p is not None and result.minimum_detectable_effect is not None
    assert isinstance(cache.get(request.key(run)), evaluation_cache.Outcome)
    with transaction.atomic():
        sid = transaction.savepoint()
        Response.objects.all().delete()
        again = presentation.evaluation(initiative, indicator, SeriesContext(), "da")
        assert again is not None and again["result"] == result
        fresh = evaluation_cache.compute(request)  # without the cache: no answers now
        assert fresh.result is None and fresh.code in ("no_survey", "estimation")
        transaction.savepoint_rollback(sid)
    # a new publication (another fingerprint) is another key
    other = IndexRun(pk=run.pk, fingerprint="0" * 64)
    assert request.key(other) != request.key(run)
    cache.clear()


@pytest.mark.django_db
def test_an_evaluation_that_cannot_be_made_is_cached_and_said_in_danish(
        demo_run: IndexRun) -> None:
    from django.core.cache import cache
    from django.utils import translation

    from tryg.public.data import latest_published_run
    from tryg.strategy import evaluation_cache, presentation
    from tryg.strategy.sources import SeriesContext

    cache.clear()
    kommune = ResultRow.objects.filter(run=demo_run, level="kommune").values_list(
        "area_code", flat=True).first()
    assert kommune is not None
    initiative, indicator = _initiative([kommune], 2021)
    with translation.override("da"):
        shown = presentation.evaluation(initiative, indicator, SeriesContext(), "da")
    assert shown is not None and shown["code"] == "whole_level"
    assert "indsatsen dækker hele kommunen" in shown["error"]
    assert presentation.collapsed([shown, {**shown}]) == [{**shown, "indicator": None}]
    initiative, indicator = _initiative([BYDELE[5]], 2021)
    indicator.measure_id = "tryghedsindeks"
    with translation.override("da"):
        composite = presentation.evaluation(initiative, indicator, SeriesContext(), "da")
    assert composite is not None and composite["code"] == "composite_measure"
    assert "sammensat af spørgeskemasvar og registertal" in composite["error"]
    run = latest_published_run()
    assert run is not None
    request = evaluation_cache.request_for(initiative, indicator, SeriesContext().published)
    assert request is not None
    kept = cache.get(request.key(run))
    assert isinstance(kept, evaluation_cache.Outcome) and kept.code == "composite_measure"
    with translation.override("en"):
        english = presentation.evaluation(initiative, indicator, SeriesContext(), "en")
    assert english is not None and "is a composite of survey answers" in english["error"]
    cache.clear()


@pytest.mark.django_db
def test_publishing_computes_the_evaluations(demo_run: IndexRun) -> None:
    """:func:`evaluation_cache.warm` (run by the publish hook in a thread) fills the cache
    with every initiative's evaluations, errors included."""
    from django.core.cache import cache

    from tryg.public.data import latest_published_run, published
    from tryg.strategy import evaluation_cache

    cache.clear()
    initiative, indicator = _initiative([BYDELE[2]], 2021, comparison=[BYDELE[3], BYDELE[4]])
    run = latest_published_run()
    assert run is not None
    assert evaluation_cache.warm(run) >= 1
    request = evaluation_cache.request_for(initiative, indicator, published(run))
    assert request is not None and request.comparison == (BYDELE[3], BYDELE[4])
    kept = cache.get(request.key(run))
    assert isinstance(kept, evaluation_cache.Outcome) and kept.result is not None
    assert not kept.proposed and kept.result.comparison == (BYDELE[3], BYDELE[4])
    # a changed initiative: only its own evaluations are computed
    cache.clear()
    assert evaluation_cache.warm(run, initiative.pk) == 1
    assert isinstance(cache.get(request.key(run)), evaluation_cache.Outcome)
    cache.clear()


@pytest.mark.django_db
def test_data_stored_since_the_run_is_named(demo_run: IndexRun) -> None:
    """The evaluation reads the data stored now; when that is not what the run saw (its input
    fingerprints differ), the notes say so. (The test's transaction undoes the change.)"""
    run = IndexRun.objects.get(pk=demo_run.pk)
    run.inputs = {**run.inputs, "survey": {**run.inputs["survey"], "sha256": "0" * 64}}
    run.save(update_fields=["inputs"])
    ev = evaluate_index_measure(measure_id=SHARE, treated=[BYDELE[0]], comparison=[BYDELE[1]],
                                pre_waves=[2021], post_waves=[2023])
    assert "data_changed_since_run" in ev.notes


@pytest.mark.django_db
def test_the_demo_shows_a_working_evaluation(demo_run: IndexRun) -> None:
    """`tryg demo`'s strategy on the demo data: the initiatives placed in districts compare
    them with the other districts (estimate, interval, p, parallel trends, minimum detectable
    effect); one for the whole kommune says once, in Danish, why it cannot."""
    import re

    from django.core.cache import cache
    from django.test import Client

    from tryg.accounts.models import Organisation
    from tryg.strategy.demo import build_demo
    from tryg.strategy.models import Initiative

    cache.clear()
    kommune = ResultRow.objects.filter(run=demo_run, level="kommune").values_list(
        "area_code", flat=True).first()
    assert kommune is not None
    municipality = Organisation.objects.create(name="Demo Kommune", kind="municipality")
    police = Organisation.objects.create(name="Demo Politi", kind="police")
    strategy, _accounts = build_demo(kommune=kommune, municipality=municipality, police=police,
                                     first_wave=2019, today=dt.date(2026, 12, 6))
    initiatives = list(Initiative.objects.filter(focus_area__strategy=strategy)
                       .order_by("focus_area__order", "order"))
    client = Client(HTTP_ACCEPT_LANGUAGE="da")
    working = 0
    for initiative in initiatives:
        codes = {a.code for a in initiative.areas.all()}
        page = client.get(f"/initiatives/{initiative.pk}/").content.decode()
        box = re.search(r'<section aria-labelledby="evaluation-h">(.*?)</section>', page, re.S)
        if codes - {kommune}:
            assert box is not None, initiative.name
            text = box.group(1)
            assert "Estimat (forskel i forskelle)" in text and "p = " in text
            assert "Mindste effekt" in text and "not enough" not in text
            assert "2019, 2020 / 2021, 2022, 2023" in text
            working += 1
        elif box is not None:
            assert box.group(1).count("Sammenligningen kan ikke laves") == 1
            assert "dækker hele kommunen" in box.group(1)
            assert "difference-in-differences" not in box.group(1)
    assert working >= 2
    cache.clear()
