"""The strategy's history page names each changed object's kind in the page's language (the
outside probe found "measurement" and "note" on the Danish page)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from strategy.strategy_helpers import indicator, initiative, people
from tryg.strategy import services
from tryg.strategy.models import ChangeRecord


def _kinds(page: bytes) -> list[str]:
    rows = re.findall(r"<tr><td>.*?</tr>", page.decode(), re.S)
    return [re.findall(r"<td>(.*?)</td>", row)[3] for row in rows]


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "kinds"), [
    ("da", {"strategi", "fokusområde", "indsats", "indikator"}),
    ("en", {"strategy", "focus area", "initiative", "indicator"})])
def test_the_kind_of_each_change_is_in_the_pages_language(language: str,
                                                          kinds: set[str]) -> None:
    who = people()
    ind = indicator(initiative([who.housing]))
    strategy = ind.initiative.focus_area.strategy
    # the helpers write no history: make one change of each kind through the services
    for obj in (strategy, ind.initiative.focus_area, ind.initiative, ind):
        services.save(obj, user=who.coordinator)
    client = Client()
    client.force_login(who.coordinator)
    client.get(f"/sprog/{language}/")
    page = client.get(reverse("strategy:history", args=[strategy.pk]))
    assert page.status_code == 200
    assert set(_kinds(page.content)) == kinds


@pytest.mark.django_db
def test_a_kind_no_longer_known_is_shown_as_stored() -> None:
    record = ChangeRecord.objects.create(action="create", model="gone", object_id=1)
    assert record.kind_label() == "gone"
