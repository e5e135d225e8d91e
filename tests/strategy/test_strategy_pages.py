"""The strategy pages: coordinators make, partners measure their own initiatives only, the
public sees what is published, and the area page follows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from strategy.strategy_helpers import areas, indicator, initiative, people, published_run
from tryg.accounts.models import User
from tryg.strategy.models import (
    ChangeLockedError,
    ChangeRecord,
    FocusArea,
    Indicator,
    Initiative,
    Measurement,
    Strategy,
    Target,
)

UNPUBLISHED_VALUE = "4711.25"


def _client(user: User | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.django_db
def test_a_coordinator_builds_a_strategy_through_the_forms() -> None:
    who = people()
    areas("0851", "0851-01")
    c = _client(who.coordinator)
    response = c.post(reverse("strategy:new"), {
        "name": "Tryg By", "period_start": "2025-01-01", "period_end": "2028-12-31",
        "status": "adopted", "partners": [who.municipality.pk, who.police.pk]})
    strategy = Strategy.objects.get()
    assert response.status_code == 302
    assert set(strategy.partners.all()) == {who.municipality, who.police}
    c.post(reverse("strategy:focus_area_new", args=[strategy.pk]), {"name": "Natteliv",
                                                                    "order": 1})
    focus = FocusArea.objects.get()
    response = c.post(reverse("strategy:initiative_new", args=[focus.pk]), {
        "name": "Lys i gaden", "owners": [who.housing.pk], "area_codes": "0851-01, 0851",
        "period_start": "2025-01-01", "published": "on", "order": 1,
        "links": "Om indsatsen | https://example.org/lys\njavascript:alert(1)"})
    initiative_ = Initiative.objects.get()
    assert response.status_code == 302
    assert sorted(initiative_.areas.values_list("code", flat=True)) == ["0851", "0851-01"]
    assert initiative_.link_list() == [("Om indsatsen", "https://example.org/lys")]
    c.post(reverse("strategy:indicator_new", args=[initiative_.pk]), {
        "name": "Trygge i gaden", "unit": "%", "polarity": "up", "frequency": "annual",
        "source": "manual", "order": 1})
    ind = Indicator.objects.get()
    c.post(reverse("strategy:target_new", args=[ind.pk]), {"when": "2028-12-31", "value": 80})
    c.post(reverse("strategy:baseline", args=[ind.pk]), {"when": "2024-12-31", "value": 60,
                                                          "se": 2})
    assert Target.objects.get().value == 80
    # an index indicator must name its measure: the form says so (400), nothing is stored
    response = c.post(reverse("strategy:indicator_new", args=[initiative_.pk]), {
        "name": "Indeks", "unit": "%", "polarity": "up", "frequency": "annual",
        "source": "index", "order": 2})
    assert response.status_code == 400 and Indicator.objects.count() == 1
    # every change is in the history, by whom
    actions = list(ChangeRecord.objects.order_by("id").values_list("model", "action",
                                                                   "actor_name"))
    assert ("initiative", "create", "coord") in actions and ("target", "create", "coord") in actions
    record = ChangeRecord.objects.first()
    assert record is not None
    with pytest.raises(ChangeLockedError):
        record.save()
    page = c.get(reverse("strategy:history", args=[strategy.pk]))
    assert b"Lys i gaden" in page.content


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["partner", "other_partner", "analyst"])
def test_only_coordinators_edit_strategies(who: str) -> None:
    people_ = people()
    parent = initiative([people_.housing])
    c = _client(getattr(people_, who))
    for url in (reverse("strategy:new"), reverse("strategy:initiative_edit", args=[parent.pk]),
                reverse("strategy:indicator_new", args=[parent.pk])):
        assert c.get(url).status_code == 403
        assert c.post(url, {"name": "x"}).status_code == 403
    assert _client().get(reverse("strategy:new")).status_code == 302  # to the log-in page


@pytest.mark.django_db
def test_a_partner_measures_its_own_initiative_and_not_another() -> None:
    who = people()
    areas("0851")
    parent = initiative([who.housing])
    ind = indicator(parent)
    url = reverse("strategy:measurement_new", args=[ind.pk])
    form = {"when": "2025-06-30", "value": "72.5", "se": "2.0", "n": "300",
            "method_note": "Spørgeskema", "published": "on"}
    assert _client(who.other_partner).post(url, form).status_code == 403
    assert _client(who.other_partner).get(url).status_code == 403
    assert Measurement.objects.count() == 0
    response = _client(who.partner).post(url, form)
    assert response.status_code == 302
    made = Measurement.objects.get()
    assert (made.value, made.entered_by) == (72.5, who.partner)
    # the other organisation's partner cannot edit it either
    edit = reverse("strategy:measurement_edit", args=[made.pk])
    assert _client(who.other_partner).post(edit, {**form, "value": "1"}).status_code == 403
    made.refresh_from_db()
    assert made.value == 72.5
    note = reverse("strategy:note_new", args=[ind.pk])
    assert _client(who.other_partner).post(note, {"text": "x"}).status_code == 403
    assert _client(who.partner).post(note, {"text": "Flere lamper", "published": "on"}
                                     ).status_code == 302


@pytest.mark.django_db
def test_the_public_never_sees_unpublished_measurements_or_initiatives() -> None:
    who = people()
    areas("0851")
    shown = initiative([who.housing])
    ind = indicator(shown)
    Measurement.objects.create(indicator=ind, when=dt.date(2025, 1, 1), value=4711.25, se=1,
                               published=False)
    Measurement.objects.create(indicator=ind, when=dt.date(2024, 1, 1), value=55.5, se=1,
                               published=True)
    hidden = initiative([who.housing], published=False, name="Hemmelig indsats")
    anonymous = _client()
    page = anonymous.get(reverse("strategy:initiative", args=[shown.pk]))
    assert page.status_code == 200
    assert UNPUBLISHED_VALUE not in page.content.decode().replace(",", ".")
    assert "55.5" in page.content.decode().replace(",", ".")
    assert anonymous.get(reverse("strategy:initiative", args=[hidden.pk])).status_code == 404
    for url in (reverse("strategy:list"),
                reverse("strategy:overview", args=[shown.focus_area.strategy_id]),
                f"/api/indicators/{ind.pk}/measurements", f"/api/initiatives/{shown.pk}"):
        body = anonymous.get(url).content.decode().replace(",", ".")
        assert UNPUBLISHED_VALUE not in body and "4711.2" not in body, url
        assert "Hemmelig" not in body, url
    # the owning partner and the coordinator do see it
    for user in (who.partner, who.coordinator):
        seen = _client(user).get(reverse("strategy:initiative", args=[shown.pk])).content
        assert UNPUBLISHED_VALUE in seen.decode().replace(",", ".")
    assert _client(who.partner).get(reverse("strategy:initiative",
                                            args=[hidden.pk])).status_code == 200
    assert _client(who.other_partner).get(reverse("strategy:initiative",
                                                  args=[hidden.pk])).status_code == 404


@pytest.mark.django_db
def test_the_area_page_lists_the_initiative_and_follows_a_new_measurement(
        django_capture_on_commit_callbacks: Any) -> None:
    who = people()
    areas("0851")
    published_run([("0851", "tryghed_trygge", 2024, 0.8, 0.01)])
    parent = initiative([who.housing], name="Lys i Jomfru Ane Gade")
    ind = indicator(parent)
    Target.objects.create(indicator=ind, when=dt.date(2028, 12, 31), value=80)
    anonymous = _client()
    page = anonymous.get(reverse("public:area", args=["0851"])).content.decode()
    assert "Lys i Jomfru Ane Gade" in page
    assert "status-on_track" not in page
    # the partner enters a measurement: the cached area page is renewed
    with django_capture_on_commit_callbacks(execute=True):
        _client(who.partner).post(reverse("strategy:measurement_new", args=[ind.pk]), {
            "when": "2026-06-30", "value": "95", "se": "1", "published": "on"})
    page = anonymous.get(reverse("public:area", args=["0851"])).content.decode()
    assert "status-on_track" in page
    front = anonymous.get("/").content.decode()
    assert reverse("strategy:list") in front


@pytest.mark.django_db
def test_a_measurement_deleted_by_mistake_stays_in_the_history() -> None:
    who = people()
    ind = indicator(initiative([who.housing]))
    made = Measurement.objects.create(indicator=ind, when=dt.date(2025, 1, 1), value=12.5)
    url = reverse("strategy:measurement_delete", args=[made.pk])
    assert _client(who.other_partner).post(url).status_code == 403
    assert _client(who.partner).get(url).status_code == 200
    assert _client(who.partner).post(url).status_code == 302
    assert not Measurement.objects.exists()
    last = ChangeRecord.objects.filter(model="measurement", object_id=made.pk).first()
    assert last is not None and last.action == "delete" and last.data["value"] == 12.5
    assert last.actor_name == "partner"


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["99999999999999999999", "-1", "²", "1.5"])
def test_an_organisation_id_no_database_holds_is_a_form_error_not_500(bad: str) -> None:
    who = people()
    parent = initiative([who.housing])
    c = _client(who.coordinator)
    response = c.post(reverse("strategy:new"), {
        "name": "Tryg By", "period_start": "2025-01-01", "status": "adopted",
        "partners": [who.police.pk, bad]})
    assert response.status_code == 400 and not Strategy.objects.filter(name="Tryg By")
    response = c.post(reverse("strategy:initiative_edit", args=[parent.pk]), {
        "name": "Ny", "owners": [bad], "period_start": "2025-01-01", "order": 1})
    assert response.status_code == 400
    parent.refresh_from_db()
    assert parent.name != "Ny" and list(parent.owners.all()) == [who.housing]


@pytest.mark.django_db
def test_the_measurement_form_refuses_implausible_values_and_dates() -> None:
    """As the API and the file import: values smaller than 10^12 in size, years 1900-2200;
    the message in Danish on a Danish page."""
    who = people()
    ind = indicator(initiative([who.housing]))
    url = reverse("strategy:measurement_new", args=[ind.pk])
    form = {"when": "0001-01-01", "value": "1e308", "se": "2", "low": "", "high": ""}
    response = _client(who.partner).post(url, form, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400  # the form again, with its errors
    page = response.content.decode()
    assert "not a plausible value" in page and "not a plausible date" in page
    response = _client(who.partner).post(url, {**form, "se": "1e12"},
                                         HTTP_ACCEPT_LANGUAGE="da")
    assert "ikke en plausibel værdi" in response.content.decode()
    assert Measurement.objects.count() == 0
    assert _client(who.partner).post(url, {**form, "when": "2025-06-30", "value": "71"}
                                     ).status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["measurement_new", "note_new", "measurement_edit",
                                  "measurement_delete"])
def test_an_anonymous_visitor_cannot_tell_which_ids_exist(name: str) -> None:
    """A partner's pages send an anonymous visitor to the log-in whether or not the indicator
    or measurement exists (a 404 for a missing id only would tell which ones do)."""
    who = people()
    areas("0851")
    ind = indicator(initiative([who.housing]))
    made = Measurement.objects.create(indicator=ind, when=dt.date(2025, 6, 30), value=1.0)
    existing = made.pk if name.startswith("measurement_e") or name.endswith("delete") else ind.pk
    for pk in (existing, existing + 1000):
        response = _client().get(reverse(f"strategy:{name}", args=[pk]))
        assert response.status_code == 302 and "/login/" in response["Location"], (name, pk)
