"""The overview page reads a fixed number of queries, however many indicators it shows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from strategy.strategy_helpers import people
from tryg.accounts.models import Organisation
from tryg.strategy.models import (
    FocusArea,
    Indicator,
    Initiative,
    InitiativeArea,
    Measurement,
    Strategy,
    Target,
)


def build(indicators: int, *, owners: list[Organisation], per_initiative: int = 10,
          waves: int = 3) -> Strategy:
    """A strategy with ``indicators`` manual indicators, each measured ``waves`` times."""
    strategy = Strategy.objects.create(name="Stor strategi", period_start=dt.date(2020, 1, 1),
                                       status=Strategy.Status.ADOPTED)
    focus = [FocusArea.objects.create(strategy=strategy, name=f"Fokus {k}", order=k)
             for k in range(2)]
    made: list[Indicator] = []
    for k in range(max(1, indicators // per_initiative)):
        parent = Initiative.objects.create(focus_area=focus[k % 2], name=f"Indsats {k}",
                                           published=True, order=k)
        parent.owners.set(owners)
        InitiativeArea.objects.create(initiative=parent, code=f"A{k}")
        made += Indicator.objects.bulk_create([
            Indicator(initiative=parent, name=f"Indikator {k}.{j}", unit="%", order=j)
            for j in range(per_initiative)])
    Target.objects.bulk_create([Target(indicator=i, when=dt.date(2030, 1, 1), value=80)
                                for i in made])
    Measurement.objects.bulk_create([
        Measurement(indicator=i, when=dt.date(2020 + w, 12, 31), value=60 + w, se=1.5,
                    published=True) for i in made for w in range(waves)])
    return strategy


def _queries(client: Client, strategy: Strategy, assert_max: Any, limit: int) -> int:
    with assert_max(limit) as captured:
        response = client.get(reverse("strategy:overview", args=[strategy.pk]))
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "coordinator", "partner"])
def test_the_overview_does_not_query_per_indicator(
        who: str, django_assert_max_num_queries: Any) -> None:
    people_ = people()
    user = {"anonymous": None, "coordinator": people_.coordinator,
            "partner": people_.partner}[who]
    client = Client()
    if user is not None:
        client.force_login(user)
    small = build(20, owners=[people_.housing])
    large = build(200, owners=[people_.housing])
    client.get(reverse("strategy:overview", args=[small.pk]))  # session and publication read
    limit = 16
    few = _queries(client, small, django_assert_max_num_queries, limit)
    many = _queries(client, large, django_assert_max_num_queries, limit)
    assert few == many
    body = client.get(reverse("strategy:overview", args=[large.pk])).content.decode()
    assert body.count("status-") >= 200
