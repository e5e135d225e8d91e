"""A measurement dated years ahead is a typo (an outside probe entered one dated 2199: it
became the indicator's latest figure and decided its status). The form, the file import and
the API refuse a date after the end of next year alike, in the page's language, and store
nothing; the end of next year itself is taken (a yearly figure dated 31 December is often
entered before that day)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from strategy.strategy_helpers import indicator, initiative, people
from tryg.index.inputs import InputError
from tryg.strategy.measurement_import import import_measurements
from tryg.strategy.models import Measurement, latest_measurement_date

pytestmark = pytest.mark.django_db


def _dates() -> tuple[dt.date, dt.date]:
    """The last date taken and the first one refused, from the site's today."""
    latest = latest_measurement_date(timezone.localdate())
    return latest, latest + dt.timedelta(days=1)


def test_the_latest_date_is_the_end_of_next_year() -> None:
    assert latest_measurement_date(dt.date(2026, 1, 1)) == dt.date(2027, 12, 31)
    assert latest_measurement_date(dt.date(2026, 12, 31)) == dt.date(2027, 12, 31)


def test_the_form_refuses_a_date_years_ahead_in_danish() -> None:
    who = people()
    ind = indicator(initiative([who.housing]))
    client = Client()
    client.force_login(who.partner)
    client.get("/sprog/da/")
    url = reverse("strategy:measurement_new", args=[ind.pk])
    latest, refused = _dates()
    response = client.post(url, {"when": refused.isoformat(), "value": "70"})
    assert response.status_code == 400
    page = response.content.decode()
    assert f"En måling kan ikke dateres senere end {latest.isoformat()}" in page
    assert Measurement.objects.count() == 0
    assert client.post(url, {"when": latest.isoformat(), "value": "70"}).status_code == 302
    assert list(Measurement.objects.values_list("when", flat=True)) == [latest]


def test_the_file_import_names_the_cell_for_a_date_or_a_wave(tmp_path: Path) -> None:
    who = people()
    ind = indicator(initiative([who.housing]))
    latest, refused = _dates()
    path = tmp_path / "m.csv"
    path.write_text("indicator,value,date,wave\n"
                    f"{ind.pk},70,{latest.isoformat()},\n"    # row 2: the last day taken
                    f"{ind.pk},70,{refused.isoformat()},\n"   # row 3: a day later
                    f"{ind.pk},70,,{refused.year}\n"    # row 4: a wave past it
                    f"{ind.pk},70,,{latest.year}\n", encoding="utf-8")  # row 5: taken
    with pytest.raises(InputError) as caught:
        import_measurements(path, user=who.partner)
    assert {(p.row, p.column) for p in caught.value.problems} == {(3, "date"), (4, "wave")}
    assert Measurement.objects.count() == 0


def test_the_api_refuses_a_date_years_ahead() -> None:
    who = people()
    ind = indicator(initiative([who.housing]))
    client = Client()
    client.force_login(who.partner)
    _, refused = _dates()
    answer = client.post(f"/api/indicators/{ind.pk}/measurements",
                         json.dumps({"date": refused.isoformat(), "value": 70}),
                         content_type="application/json")
    assert answer.status_code == 400, answer.content
    assert "the end of next year" in answer.content.decode()
    assert Measurement.objects.count() == 0
