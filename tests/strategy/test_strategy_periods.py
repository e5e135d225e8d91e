"""A strategy's or an initiative's period: the probe saved a strategy running from 2030 to 2020
and one starting in 1800, and an initiative ending before it started (its evaluation reads the
start as "before/after"). The forms refuse both with the reason at the field; nothing changes."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from strategy.strategy_helpers import People, initiative, people
from tryg.strategy.models import Initiative, Strategy

pytestmark = pytest.mark.django_db


def _coordinator() -> tuple[Client, People]:
    who = people()
    client = Client()
    client.force_login(who.coordinator)
    client.get("/sprog/en/")
    return client, who


@pytest.mark.parametrize(("start", "end", "reason"), [
    ("2030-01-01", "2020-01-01", "The period ends (2020-01-01) before it starts (2030-01-01)."),
    ("1800-01-01", "2020-01-01", "1800-01-01 is not a plausible date (years 1900 to 2200)."),
    ("2020-01-01", "9999-12-31", "9999-12-31 is not a plausible date (years 1900 to 2200)."),
])
def test_a_strategy_with_an_impossible_period_is_refused(start: str, end: str,
                                                         reason: str) -> None:
    client, _who = _coordinator()
    before = Strategy.objects.count()
    response = client.post(reverse("strategy:new"), {
        "name": "Baglæns", "period_start": start, "period_end": end, "status": "adopted"})
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert Strategy.objects.count() == before


def test_an_initiative_ending_before_it_starts_is_refused() -> None:
    client, who = _coordinator()
    parent = initiative([who.housing])
    response = client.post(reverse("strategy:initiative_edit", args=[parent.pk]), {
        "name": "Lys", "owners": [who.housing.pk], "period_start": "2026-01-01",
        "period_end": "2025-12-31", "order": 1})
    assert response.status_code == 400
    assert ("The period ends (2025-12-31) before it starts (2026-01-01)."
            in response.content.decode())
    assert Initiative.objects.get(pk=parent.pk).name == parent.name
    # one day is a period
    assert client.post(reverse("strategy:initiative_edit", args=[parent.pk]), {
        "name": "Lys", "owners": [who.housing.pk], "period_start": "2026-01-01",
        "period_end": "2026-01-01", "order": 1}).status_code == 302
