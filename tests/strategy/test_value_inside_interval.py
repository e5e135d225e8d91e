"""A measurement (or baseline) whose value lies outside its own interval is a typo (the probe
entered 90 with the interval 10 to 20 and it was stored, and an indicator's status reads that
interval): the form, the file import and the API refuse it alike, nothing is stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from strategy.strategy_helpers import indicator, initiative, people
from tryg.index.inputs import InputError
from tryg.strategy.measurement_import import import_measurements
from tryg.strategy.models import Baseline, Measurement

pytestmark = pytest.mark.django_db


def _client(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    client.get("/sprog/en/")
    return client


def test_the_form_refuses_a_value_outside_its_interval() -> None:
    who = people()
    ind = indicator(initiative([who.housing]))
    client = _client(who.partner)
    url = reverse("strategy:measurement_new", args=[ind.pk])
    form = {"when": "2025-06-30", "value": "90", "low": "10", "high": "20"}
    response = client.post(url, form)
    assert response.status_code == 400
    assert "The value lies outside its own interval." in response.content.decode()
    assert Measurement.objects.count() == 0
    # the ends themselves belong to the interval
    assert client.post(url, {**form, "value": "20"}).status_code == 302
    assert client.post(url, {**form, "value": "10"}).status_code == 302
    assert Measurement.objects.count() == 2


def test_the_baseline_form_refuses_a_value_outside_its_interval() -> None:
    who = people()
    ind = indicator(initiative([who.housing]))
    response = _client(who.coordinator).post(
        reverse("strategy:baseline", args=[ind.pk]),
        {"when": "2024-12-31", "value": "5", "low": "10", "high": "20"})
    assert response.status_code == 400
    assert "The value lies outside its own interval." in response.content.decode()
    assert Baseline.objects.count() == 0


def test_the_file_import_names_the_cell(tmp_path: Path) -> None:
    who = people()
    ind = indicator(initiative([who.housing]))
    path = tmp_path / "m.csv"
    path.write_text("indicator,value,date,low,high\n"
                    f"{ind.pk},15,2024-12-31,10,20\n"
                    f"{ind.pk},90,2025-12-31,10,20\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        import_measurements(path, user=who.partner)
    assert {(p.row, p.column) for p in caught.value.problems} == {(3, "value")}
    assert Measurement.objects.count() == 0


def test_the_api_refuses_a_value_outside_its_interval() -> None:
    who = people()
    ind = indicator(initiative([who.housing]))
    client = Client()
    client.force_login(who.partner)
    answer = client.post(f"/api/indicators/{ind.pk}/measurements",
                         json.dumps({"date": "2025-12-31", "value": 90, "low": 10, "high": 20}),
                         content_type="application/json")
    assert answer.status_code == 400, answer.content
    assert "outside its own interval" in answer.content.decode()
    assert Measurement.objects.count() == 0
