"""The measurement upload page: the same import as ``tryg indicator import``, for coordinators
and for partners (their own organisation's initiatives only), all or nothing, every problem
shown with file, row and column."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from strategy.strategy_helpers import areas, indicator, initiative, people
from tryg.accounts.models import User
from tryg.strategy.models import Measurement

URL = "/measurements/import/"


def _client(user: User | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _csv(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def _xlsx(name: str, rows: list[list[object]]) -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def test_the_page_is_the_one_named() -> None:
    assert reverse("strategy:measurement_import") == URL


@pytest.mark.django_db
def test_a_partner_imports_for_its_own_initiative_only_and_all_or_nothing() -> None:
    who = people()
    areas("0851")
    own = indicator(initiative([who.housing], name="Egen indsats"))
    other = indicator(initiative([who.police], name="Politiets indsats"))
    partner = _client(who.partner)
    page = partner.get(URL)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Egen indsats" in text and "Politiets indsats" not in text
    # a row of another organisation's indicator: nothing stored, the row and column named
    bad = _csv("maalinger.csv", f"indicator,value,date,se\n{own.pk},71.5,2025-12-31,2.0\n"
                                f"{other.pk},60,2025-12-31,1.5\n{own.pk},x,2026-06-30,1\n")
    response = partner.post(URL, {"file": bad})
    assert response.status_code == 400
    assert Measurement.objects.count() == 0
    body = response.content.decode()
    assert "maalinger.csv" in body and "/tmp" not in body
    assert "<td class=\"num\">3</td><td>indicator</td>" in body  # line 3: the police's
    assert "<td class=\"num\">4</td><td>value</td>" in body
    good = _csv("maalinger.csv", f"indicator,value,date,se\n{own.pk},71.5,2025-12-31,2.0\n")
    done = partner.post(URL, {"file": good})
    assert done.status_code == 200, done.content.decode()
    made = Measurement.objects.get()
    assert (made.indicator_id, made.value, made.se, made.entered_by) == (own.pk, 71.5, 2.0,
                                                                         who.partner)


@pytest.mark.django_db
def test_a_coordinator_imports_an_xlsx_file_for_any_initiative() -> None:
    who = people()
    areas("0851")
    first = indicator(initiative([who.housing], name="A"))
    second = indicator(initiative([who.police], name="B"), unit="antal")
    upload = _xlsx("tal.xlsx", [["indicator", "value", "wave", "exact", "published"],
                                [first.pk, 70.5, 2024, "", 1], [second.pk, 12, 2024, 1, 1]])
    response = _client(who.coordinator).post(URL, {"file": upload})
    assert response.status_code == 200, response.content.decode()
    assert sorted(Measurement.objects.values_list("indicator_id", "value", "exact")) == [
        (first.pk, 70.5, False), (second.pk, 12.0, True)]


@pytest.mark.django_db
def test_who_may_use_the_page_and_what_it_refuses() -> None:
    who = people()
    anonymous = _client().get(URL)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    walker = User.objects.create_user("walker", role="walker", organisation=who.police)
    assert _client(walker).get(URL).status_code == 403
    assert _client(who.coordinator).get(URL).status_code == 200
    refused = _client(who.coordinator).post(URL, {"file": _csv("tal.txt", "indicator\n")})
    assert refused.status_code == 400 and Measurement.objects.count() == 0
    assert _client(who.coordinator).post(URL, {}).status_code == 400
    empty = _client(who.coordinator).post(URL, {"file": _csv("tom.csv", "indicator,value\n")})
    assert empty.status_code == 400


@pytest.mark.django_db
def test_a_long_danish_file_name_is_no_server_error() -> None:
    """200 "æ" are 400 bytes: more than a file system allows in one name."""
    who = people()
    ind = indicator(initiative([who.housing]))
    name = "målinger " + "æ" * 200 + ".csv"
    answer = _client(who.coordinator).post(URL, {"file": _csv(
        name, f"indicator,value,wave\n{ind.pk},70,2024\n{ind.pk},x,2025\n")})
    assert answer.status_code == 400
    assert name[:60] in answer.content.decode()  # the problem names the file as uploaded
    answer = _client(who.coordinator).post(URL, {"file": _csv(
        name, f"indicator,value,wave\n{ind.pk},70,2024\n")})
    assert answer.status_code == 200 and Measurement.objects.count() == 1


@pytest.mark.django_db
def test_the_problems_are_in_the_page_language() -> None:
    who = people()
    areas("0851")
    own = indicator(initiative([who.housing], name="Egen indsats"))
    partner = _client(who.partner)
    bad = f"indicator,value,date,exact\n{own.pk},x,2025-12-31,måske\n999999,1,2025-12-31,1\n"
    partner.get("/sprog/da/", {"next": URL})
    body = partner.post(URL, {"file": _csv("maalinger.csv", bad)}).content.decode()
    assert "<td>value</td><td>&#x27;x&#x27; er ikke et tal</td>" in body
    assert "<td>exact</td><td>&#x27;måske&#x27; er ikke ja/nej (1/0)</td>" in body
    assert "<td>indicator</td><td>ingen indikator med id &#x27;999999&#x27;</td>" in body
    partner.get("/sprog/en/", {"next": URL})
    body = partner.post(URL, {"file": _csv("maalinger.csv", bad)}).content.decode()
    assert "<td>value</td><td>&#x27;x&#x27; is not a number</td>" in body
    assert "<td>indicator</td><td>no indicator with the id &#x27;999999&#x27;</td>" in body


@pytest.mark.django_db
def test_a_control_character_in_the_method_refuses_the_file() -> None:
    """The method note is free text: an ESC or DEL in it (invisible in the page, refused by
    the form) is an error at its row and column, in the page language, and nothing is
    stored (the good row neither)."""
    who = people()
    areas("0851")
    own = indicator(initiative([who.housing], name="Egen indsats"))
    partner = _client(who.partner)
    bad = (f"indicator,value,date,method\n{own.pk},70,2024-12-31,telefon\n"
           f"{own.pk},71,2025-12-31,tele\x1bfon\n{own.pk},72,2026-12-31,\x7f\n")
    partner.get("/sprog/da/", {"next": URL})
    answer = partner.post(URL, {"file": _csv("maalinger.csv", bad)})
    assert answer.status_code == 400
    body = answer.content.decode()
    assert ("<td class=\"num\">3</td><td>method</td><td>teksten indeholder et usynligt "
            "kontroltegn (U+001B), som ikke kan gemmes</td>") in body
    assert "<td class=\"num\">4</td><td>method</td>" in body and "(U+007F)" in body
    assert Measurement.objects.count() == 0
    partner.get("/sprog/en/", {"next": URL})
    body = partner.post(URL, {"file": _csv("maalinger.csv", bad)}).content.decode()
    assert ("<td>method</td><td>the text holds an invisible control character (U+001B), "
            "which cannot be stored</td>") in body
    assert Measurement.objects.count() == 0
