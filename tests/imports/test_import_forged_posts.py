"""POSTs a browser can forge against the upload and withdrawal pages: values the form does not
offer, texts longer than their column, NUL bytes, implausible dates, an import withdrawn
twice or not there, the roles that may not, no CSRF token. Each answers with a form error,
a message or 403/404, and stores nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from support.planted import Site, client_as, plant
from tryg.accounts.models import AuditEvent
from tryg.imports.models import ImportBatch
from tryg.surveys.models import Wave

pytestmark = pytest.mark.django_db

URL = "/analyse/import/"
SURVEY = b"id;aar;omr;vaegt;q\nr1;2022;D999-1;1;2\n"
FORM_ERROR = '<span class="error" role="alert">'
COLUMNS = "id=respondent_id\naar=wave\nomr=area_code\nvaegt=weight"


@pytest.fixture
def site() -> Site:
    return plant()


def _upload(client: Client, **fields: str) -> Any:
    return client.post(URL, {"file": SimpleUploadedFile("svar.csv", SURVEY), **fields})


def test_forged_upload_fields_are_form_errors(site: Site) -> None:
    analyst = client_as(site, "analyst")
    batches = ImportBatch.objects.count()
    for forged in ({"kind": "x" * 100_000}, {"kind": "survey", "encoding": "utf-16"},
                   {"kind": "areas", "level": "x" * 41}, {"kind": "areas", "crs": "EPSG\x00"},
                   {"kind": "survey", "columns": COLUMNS, "producer": "p" * 201},
                   {"kind": "survey", "columns": COLUMNS, "fieldwork_end": "99999-01-01"}):
        response = _upload(analyst, **forged)
        assert response.status_code == 200 and FORM_ERROR in response.content.decode()
    assert ImportBatch.objects.count() == batches


def test_a_fieldwork_date_in_year_1_is_a_form_error(site: Site) -> None:
    analyst = client_as(site, "analyst")
    response = _upload(analyst, kind="survey", columns=COLUMNS, fieldwork_start="0001-01-01")
    assert "0001-01-01 is not a plausible date (years 1900 to 2200)." in response.content.decode()
    assert not Wave.objects.filter(year=2022).exists()
    analyst.get("/sprog/da/")
    danish = _upload(analyst, kind="survey", columns=COLUMNS, fieldwork_end="2300-01-01")
    assert "2300-01-01 er ikke en plausibel dato (årene 1900 til 2200)." in danish.content.decode()
    _upload(analyst, kind="survey", columns=COLUMNS, fieldwork_start="2022-03-01")
    assert Wave.objects.get(year=2022).fieldwork_start is not None


def test_an_import_withdrawn_twice_is_withdrawn_once(site: Site) -> None:
    analyst = client_as(site, "analyst")
    url = f"{URL}{site.register_batch.pk}/withdraw/"
    assert analyst.post(url).status_code == 302
    again = analyst.post(url, follow=True)
    assert f"Import #{site.register_batch.pk} is already withdrawn." in again.content.decode()
    events = AuditEvent.objects.filter(action=AuditEvent.Action.IMPORT_WITHDRAWN)
    assert events.count() == 1
    for pk in (10**9, 2**63):
        assert analyst.post(f"{URL}{pk}/withdraw/").status_code == 404


@pytest.mark.parametrize("who", ["coordinator", "partner", "walker"])
def test_uploads_and_withdrawals_are_refused_to_other_roles(site: Site, who: str) -> None:
    client = client_as(site, who)
    assert _upload(client, kind="survey", columns=COLUMNS).status_code == 403
    assert client.post(f"{URL}{site.survey_batch.pk}/withdraw/").status_code == 403
    assert ImportBatch.objects.filter(withdrawn_at__isnull=False).count() == 0
    assert not Wave.objects.filter(year=2022).exists()


def test_upload_and_withdrawal_check_the_csrf_token(site: Site) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(site.users["analyst"])
    assert _upload(client, kind="survey", columns=COLUMNS).status_code == 403
    assert client.post(f"{URL}{site.survey_batch.pk}/withdraw/").status_code == 403
    assert not Wave.objects.filter(year=2022).exists()
    assert not ImportBatch.objects.filter(withdrawn_at__isnull=False).exists()
