"""POSTs a browser can forge against the strategy pages: area codes no stored area has, a
partner's measurement moved through another organisation's URL, values the form never offers.
Each is a form error (400) or a refusal and stores nothing; none is a server error."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from strategy.strategy_helpers import areas, indicator, initiative, people
from tryg.accounts.models import User
from tryg.strategy.models import Indicator, Initiative, InitiativeArea, Measurement

pytestmark = pytest.mark.django_db

INITIATIVE = {"name": "Lys på stien", "order": "0"}


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _initiative_form(client: Client, parent: Initiative, **fields: str) -> Any:
    return client.post(reverse("strategy:initiative_edit", args=[parent.pk]),
                       {**INITIATIVE, **fields})


def test_an_initiatives_areas_are_stored_areas() -> None:
    who = people()
    areas("0851", "085101")
    parent = initiative([who.housing])
    coordinator = _client(who.coordinator)
    for field, forged in (("area_codes", "0851\nNOPE"), ("comparison", "085101, 9999")):
        response = _initiative_form(coordinator, parent, **{"area_codes": "0851",
                                                              field: forged})
        assert response.status_code == 400, field
        assert b"No area has the code" in response.content
    assert list(InitiativeArea.objects.filter(initiative=parent)
                .values_list("code", flat=True)) == ["0851"]
    parent.refresh_from_db()
    assert parent.comparison_areas == []
    response = _initiative_form(coordinator, parent, area_codes="0851, 085101",
                                comparison="085101")
    assert response.status_code == 302
    parent.refresh_from_db()
    assert parent.comparison_areas == ["085101"]


def test_an_indicators_choices_and_area_are_those_offered() -> None:
    who = people()
    areas("0851")
    parent = initiative([who.housing])
    url = reverse("strategy:indicator_new", args=[parent.pk])
    base = {"name": "Andel trygge", "unit": "%", "polarity": "up", "frequency": "annual",
            "source": "manual", "order": "0"}
    coordinator = _client(who.coordinator)
    for forged in ({"polarity": "sideways"}, {"source": "sql"}, {"area_code": "NOPE"},
                   {"order": "-1"}, {"name": "x\x00y"}, {"unit": "%" * 100_000},
                   {"name": "x\x01y"}, {"definition": "\x7f"}, {"order": "٣"},
                   {"order": "３"}):
        assert coordinator.post(url, {**base, **forged}).status_code == 400, forged
    assert not Indicator.objects.exists()


def test_a_measurement_cannot_be_deleted_through_another_organisations_initiative() -> None:
    who = people()
    areas("0851")
    theirs = indicator(initiative([who.police]))
    made = Measurement.objects.create(indicator=theirs, when="2025-06-30", value=1.0)
    partner = _client(who.partner)
    response = partner.post(reverse("strategy:measurement_delete", args=[made.pk]))
    assert response.status_code == 403
    assert Measurement.objects.filter(pk=made.pk).exists()
