"""Indicator sources: an index measure is read from the published runs when asked, so a newly
published run shows without any edit; register measures likewise; plug-ins register."""

from __future__ import annotations

import datetime as dt

import pytest

from strategy.strategy_helpers import TODAY, areas, indicator, initiative, people, published_run
from tryg.runs.services import unpublish
from tryg.strategy import sources
from tryg.strategy.models import Indicator
from tryg.strategy.overview import context_for, indicator_view
from tryg.strategy.status import Point


@pytest.mark.django_db
def test_an_index_indicator_picks_up_a_newly_published_run_without_any_edit() -> None:
    who = people()
    areas("0851")
    ind = indicator(initiative([who.municipality]), source="index",
                    measure_id="tryghed_trygge")
    published_run([("0851", "tryghed_trygge", 2022, 0.80, 0.01),
                   ("0851", "tryghed_trygge", 2023, 0.82, 0.01)])
    before = sources.series(ind)
    assert [(p.when, round(p.value, 6)) for p in before] == [
        (dt.date(2022, 12, 31), 80.0), (dt.date(2023, 12, 31), 82.0)]
    assert before[0].se == pytest.approx(1.0) and before[0].n == 500
    # a new run with a new wave is published: the indicator is not touched
    published_run([("0851", "tryghed_trygge", 2022, 0.80, 0.01),
                   ("0851", "tryghed_trygge", 2023, 0.82, 0.01),
                   ("0851", "tryghed_trygge", 2024, 0.86, 0.01)], fingerprint="a" * 64)
    ind.refresh_from_db()
    after = sources.series(ind)
    assert [p.when.year for p in after] == [2022, 2023, 2024]
    assert after[-1].value == pytest.approx(86.0)
    assert after[-1].low == pytest.approx(86.0 - 1.96)
    view = indicator_view(ind, context_for(None), TODAY, show_unpublished=False)
    assert view.assessment.latest is not None and view.assessment.latest.when.year == 2024


@pytest.mark.django_db
def test_a_withdrawn_publication_is_no_longer_read() -> None:
    who = people()
    areas("0851")
    ind = indicator(initiative([who.municipality]), source="index", measure_id="tryghed_trygge")
    run = published_run([("0851", "tryghed_trygge", 2022, 0.80, 0.01)])
    assert len(sources.series(ind)) == 1
    unpublish(run)
    assert sources.series(ind) == []


@pytest.mark.django_db
def test_a_register_indicator_reads_its_measure_of_its_own_area() -> None:
    who = people()
    areas("0851", "0851-01")
    parent = initiative([who.police], codes=("0851", "0851-01"))
    ind = indicator(parent, source="register", measure_id="anmeldelser_vold",
                    area_code="0851-01", unit="pr. 1.000")
    published_run([("0851-01", "anmeldelser_vold", 2023, 6.5, 0.4),
                   ("0851", "anmeldelser_vold", 2023, 5.0, 0.2)])
    points = sources.series(ind)
    assert [p.value for p in points] == [6.5]  # a rate, not a share: not scaled


@pytest.mark.django_db
def test_a_plugin_feeds_indicators_through_the_registry() -> None:
    who = people()
    ind = indicator(initiative([who.municipality]), source="plugin", plugin="walks.test")

    def walks(indicator: Indicator, context: sources.SeriesContext) -> list[Point]:
        return [Point(when=dt.date(2025, 5, 1), value=3, estimate=False)]

    sources.register_plugin("walks.test", walks)
    try:
        assert [p.value for p in sources.series(ind)] == [3]
    finally:
        del sources.PLUGINS["walks.test"]
    assert sources.series(ind) == []
