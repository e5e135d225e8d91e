"""The strategy and walks sections against the interfaces they expect (the apps are built in
parallel and not on this branch): stand-in modules with those interfaces show that the
sections render, in the order given, and keep internal details out of a public report. The
lead replaces these stand-ins by the real apps when merging (see the sections' docstrings)."""

from __future__ import annotations

import datetime
import sys
import types
from collections.abc import Iterator
from types import SimpleNamespace as Ns
from typing import Any

import pytest
from django.apps import apps

from support.planted import Site, plant
from tryg.reports.sections import ReportOptions
from tryg.reports.services import render_html

pytestmark = pytest.mark.django_db

CREATED = datetime.date(2031, 12, 1)


class _Owners:
    def __init__(self, *names: str) -> None:
        self.names = names

    def all(self) -> list[Ns]:
        return [Ns(name=n) for n in self.names]


class _Strategies:
    def __init__(self, strategy: Ns | None) -> None:
        self.strategy = strategy

    def filter(self, **_: Any) -> _Strategies:
        return self

    def order_by(self, *_: str) -> _Strategies:
        return self

    def first(self) -> Ns | None:
        return self.strategy


def _strategy_view(strategy: Ns, user: Any, today: datetime.date) -> Ns:
    assessment = Ns(reason="", latest=Ns(value=0.891, when=datetime.date(2031, 10, 1)),
                    change=0.012, significant=True)
    indicator = Ns(indicator=Ns(name="Andel trygge i Jomfru Ane Gade", unit="andel"),
                   status="on_track", assessment=assessment)
    initiative = Ns(initiative=Ns(name="Et trygt natteliv", public_summary="Belysning.",
                                  owners=_Owners("Nordjyllands Politi")),
                    indicators=[indicator])
    return Ns(strategy=strategy, focus_areas=[
        Ns(focus_area=Ns(name="Natteliv", description=""), initiatives=[initiative])])


@pytest.fixture
def site() -> Site:
    return plant()


@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    strategy = Ns(pk=1, name="Tryg Aalborg 2014-17", description="",
                  period_start=datetime.date(2014, 1, 1), period_end=datetime.date(2017, 12, 31))
    overview = types.ModuleType("tryg.strategy.overview")
    overview.visible_strategies = lambda user: _Strategies(strategy)  # type: ignore[attr-defined]
    overview.strategy_view = _strategy_view  # type: ignore[attr-defined]
    figures = types.ModuleType("tryg.walks.figures")
    figures.report_figures = lambda **kw: Ns(  # type: ignore[attr-defined]
        walks_held=12, findings_by_category=[("Belysning", 7), ("Beplantning", 3)],
        findings_by_owner=[("Park og Natur", 6)], fixed_by_deadline=(8, 10),
        open_items=[Ns(title="Lygtepæl ved stien", area="Midtby", owner="Park og Natur",
                       deadline=datetime.date(2032, 1, 31))])
    real = apps.is_installed
    monkeypatch.setattr(apps, "is_installed",
                        lambda name: name in ("tryg.strategy", "tryg.walks") or real(name))
    monkeypatch.setitem(sys.modules, "tryg.strategy.overview", overview)
    monkeypatch.setitem(sys.modules, "tryg.walks.figures", figures)
    yield


def test_strategy_and_walks_sections_light_up(site: Site, stand_ins: None) -> None:
    html = render_html(ReportOptions(created=CREATED))
    order = [html.index(f'id="section-{k}"') for k in ("index", "strategy", "walks", "methods")
             if f'id="section-{k}"' in html]
    assert order == sorted(order) and len(order) >= 3
    assert "Et trygt natteliv" in html and "På rette spor" in html
    assert "Strategien “Tryg Aalborg 2014-17”, dens indikatorer: På rette spor: 1." in html
    assert "12 tryghedsvandringer holdt." in html
    assert "80 %" in html  # 8 of 10 fixed by the deadline
    assert "Belysning" in html
    # the open items' details are for internal reports only
    assert "Lygtepæl ved stien" not in html
    assert "1 punkt er stadig åbent." in html
    internal = render_html(ReportOptions(audience="internal", created=CREATED))
    assert "Lygtepæl ved stien" in internal
