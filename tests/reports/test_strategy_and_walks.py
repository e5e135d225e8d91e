"""The strategy and safety-walk sections on real data (the planted site: a strategy with a
published and an unpublished initiative and an unpublished measurement; a held walk with a
private finding, the partner's own action and a citizen's report awaiting moderation): they
appear in their place, say what the apps say, and keep what the public may not see out of a
public report."""

from __future__ import annotations

import datetime

import pytest

from support.planted import (
    REPORTER_EMAIL,
    UNPUBLISHED_INITIATIVE,
    UNPUBLISHED_MEASUREMENT,
    WALK_FINDING_TEXT,
    Site,
    float_forms,
    plant,
)
from tryg.reports import strategy_section, walks_section
from tryg.reports.sections import ReportOptions
from tryg.reports.services import render_html, report_data
from tryg.strategy.models import Strategy
from tryg.walks.models import Finding, Walk

pytestmark = pytest.mark.django_db

CREATED = datetime.date(2031, 12, 1)


@pytest.fixture
def site() -> Site:
    return plant()


def test_the_sections_come_between_the_index_and_the_method(site: Site) -> None:
    html = render_html(ReportOptions(created=CREATED))
    order = [html.index(f'id="section-{k}"') for k in ("index", "strategy", "walks", "methods")]
    assert order == sorted(order)


def test_public_report_shows_published_initiatives_and_walk_counts_only(site: Site) -> None:
    html = render_html(ReportOptions(created=CREATED))
    assert "Planted strategy" in html and "Planted initiative" in html
    assert "Ansvarlig: Testkommune" in html  # the initiative's owner
    assert UNPUBLISHED_INITIATIVE not in html
    assert not any(f in html for f in float_forms(UNPUBLISHED_MEASUREMENT))
    assert "3.142 (2031-06-01)" not in html  # as the internal report writes it
    # the published measurement is the latest the public sees: 61,5 (2030-06-01)
    assert "61,5 (2030-06-01)" in html
    # the index indicator's district figure is suppressed: it has no figure here either
    assert "Planted index (%)" in html
    assert "Strategien “Planted strategy”, dens indikatorer:" in html
    # walks: one held (the re-walk is planned); two findings of the walk and the public one
    # of the Open311 plant; the citizen's report and the Open311 post await moderation
    assert "1 tryghedsvandring holdt. 3 fund registreret." in html
    assert "3 punkter er stadig åbne." in html
    assert "Belysning" in html and "Graffiti og hærværk" in html
    assert "Boligforeningen Test" in html  # findings by owner
    assert WALK_FINDING_TEXT not in html and REPORTER_EMAIL not in html


def test_internal_report_lists_the_open_items_and_what_its_reader_may_see(site: Site) -> None:
    options = ReportOptions(audience="internal", created=CREATED)
    html = render_html(options, user=site.users["coordinator"])
    assert WALK_FINDING_TEXT in html  # the open item, with its owner and deadline
    assert "2031-12-01" in html
    assert REPORTER_EMAIL not in html
    assert UNPUBLISHED_INITIATIVE in html and "(ikke offentliggjort)" in html
    assert "3.142 (2031-06-01)" in html  # the unpublished measurement, as it is written
    # without a user who may (the command line): the strategy as the public sees it
    plain = render_html(options)
    assert UNPUBLISHED_INITIATIVE not in plain and WALK_FINDING_TEXT in plain


def test_a_strategy_chosen_by_name_or_number(site: Site) -> None:
    other = Strategy.objects.create(name="Later strategy", status="adopted",
                                    period_start=datetime.date(2031, 1, 1))
    latest = report_data(ReportOptions(created=CREATED))
    assert strategy_section.chosen_strategy(latest) == other  # the latest by start
    named = report_data(ReportOptions(strategy="Planted strategy", created=CREATED))
    assert strategy_section.chosen_strategy(named) is not None
    assert strategy_section.chosen_strategy(named) != other
    by_id = report_data(ReportOptions(strategy=str(other.pk), created=CREATED))
    assert strategy_section.chosen_strategy(by_id) == other
    # the later strategy has no initiatives: no section, and no line on the summary
    assert strategy_section.build_strategy(latest) is None
    Strategy.objects.filter(pk=other.pk).update(status="draft")  # drafts are not public
    again = report_data(ReportOptions(strategy=str(other.pk), created=CREATED))
    assert strategy_section.chosen_strategy(again) is None


def test_without_a_strategy_or_walks_the_sections_stay_out(site: Site) -> None:
    Strategy.objects.all().delete()
    Finding.objects.all().delete()
    Walk.objects.all().delete()
    report = report_data(ReportOptions(created=CREATED))
    assert strategy_section.build_strategy(report) is None
    assert strategy_section.summarise_strategy(report) == []
    assert walks_section.build_walks(report) is None
    html = render_html(ReportOptions(created=CREATED))
    assert 'id="section-strategy"' not in html and 'id="section-walks"' not in html
