"""The upload page: analysts import and see the report; others are turned away."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tryg.accounts.models import Organisation, Role
from tryg.areas.models import Area
from tryg.imports.models import ImportBatch
from tryg.surveys.models import Response

pytestmark = pytest.mark.django_db

URL = "/analyse/import/"
AREAS = b"code,name,level,parent\n0851,Aalborg,kommune,\nS1,Budolfi,sogn,0851\n"


def client_for(role: str) -> Client:
    users = get_user_model()
    organisation = None
    if role == Role.PARTNER:
        organisation = Organisation.objects.create(name="Boligselskabet",
                                                   kind=Organisation.Kind.HOUSING)
    user = users.objects.create_user(role, password="a long password 1", role=role,
                                     organisation=organisation)
    client = Client()
    client.force_login(user)
    return client


def upload(client: Client, kind: str, name: str, data: bytes, **fields: str) -> str:
    response = client.post(URL, {"kind": kind, "file": SimpleUploadedFile(name, data),
                                 **fields})
    assert response.status_code == 200
    return response.content.decode()


def test_an_analyst_imports_and_sees_the_report() -> None:
    analyst = client_for(Role.ANALYST)
    page = analyst.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert '<label for="id_file">' in html and 'enctype="multipart/form-data"' in html

    html = upload(analyst, "areas", "areas.csv", AREAS)
    batch = ImportBatch.objects.get()
    assert batch.imported_by is not None and batch.imported_by.username == Role.ANALYST
    assert f"Imported as import #{batch.pk}" in html or f"import #{batch.pk}" in html
    assert "<td>areas</td><td class=\"num\">2</td>" in html
    assert Area.objects.count() == 2
    assert f'href="/analyse/import/{batch.pk}/"' in html and "areas.csv" in html

    html = upload(analyst, "areas", "areas.csv", AREAS)
    assert "imported before" in html and ImportBatch.objects.count() == 1

    detail = analyst.get(f"{URL}{batch.pk}/")
    assert detail.status_code == 200 and batch.sha256 in detail.content.decode()


def test_errors_are_shown_with_file_row_and_column() -> None:
    analyst = client_for(Role.ANALYST)
    upload(analyst, "areas", "areas.csv", AREAS)
    survey = b"id;aar;omr;vaegt;q1\nr1;2022;S1;1;2\nr2;2022;S7;1;3\n"
    html = upload(analyst, "survey", "svar.csv", survey,
                  columns="id = respondent_id\naar=wave\nomr=area_code\nvaegt=weight")
    assert "1 error: nothing was stored." in html
    # the file by its own name (not the temporary path), row 3, column area_code
    assert '<td>svar.csv</td><td class="num">3</td><td>area_code</td>' in html
    assert "tryg-upload-" not in html
    assert not Response.objects.exists()

    html = upload(analyst, "survey", "svar.csv", survey.replace(b"S7", b"S1"),
                  columns="id=respondent_id\naar=wave\nomr=area_code\nvaegt=weight",
                  producer="Epinion", fieldwork_start="2022-03-01")
    assert "<td>responses</td><td class=\"num\">2</td>" in html
    assert Response.objects.count() == 2

    html = upload(analyst, "survey", "svar.csv", survey, columns="no equals sign")
    assert "is not “file name = tryg name”" in html


@pytest.mark.parametrize("role", [Role.PARTNER, Role.COORDINATOR, Role.WALKER])
def test_others_may_not_import(role: str) -> None:
    other = client_for(role)
    assert other.get(URL).status_code == 403
    response = other.post(URL, {"kind": "areas", "file": SimpleUploadedFile("a.csv", AREAS)})
    assert response.status_code == 403
    assert other.get(f"{URL}1/").status_code == 403
    assert not Area.objects.exists() and not ImportBatch.objects.exists()


def test_the_anonymous_are_sent_to_log_in(tmp_path: Path) -> None:
    anonymous = Client()
    response = anonymous.post(URL, {"kind": "areas", "file": SimpleUploadedFile("a.csv", AREAS)})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert "next=/analyse/import/" in response["Location"]
    assert not Area.objects.exists()


def test_register_counts_over_stored_ones_need_the_replace_box() -> None:
    analyst = client_for(Role.ANALYST)
    upload(analyst, "areas", "areas.csv", AREAS)
    upload(analyst, "register", "counts.csv",
           b"area_code,quarter,offence,count\nS1,2015Q1,vold,4\nS1,2015Q2,vold,6\n")
    first = ImportBatch.objects.get(kind="register")
    corrected = b"area_code,quarter,offence,count\nS1,2015Q1,vold,2\nS1,2015Q2,vold,3\n"
    html = upload(analyst, "register", "corrected.csv", corrected)
    assert "2 errors: nothing was stored." in html
    assert f"is already stored (import #{first.pk}, counts.csv)" in html
    html = upload(analyst, "register", "corrected.csv", corrected, replace="on")
    assert f"Replaced 2 row(s) of import #{first.pk}." in html
    new = ImportBatch.objects.get(kind="register", replaced_at__isnull=True)
    assert new.pk != first.pk
    page = analyst.get(f"/analyse/import/{new.pk}/").content.decode()
    assert f"Replaced 2 row(s) of import #{first.pk}." in page


def test_a_long_danish_file_name_is_imported_under_its_own_name() -> None:
    """Django shortens a name to 255 characters; 200 "æ" are 400 bytes, more than a file
    system allows in a name: the upload was a server error."""
    analyst = client_for(Role.ANALYST)
    name = "områder " + "æ" * 200 + ".csv"
    html = upload(analyst, "areas", name, AREAS)
    assert Area.objects.count() == 2
    assert ImportBatch.objects.get().file_name.startswith("områder ææ")
    bad = upload(analyst, "survey", name, b"respondent_id,wave,area_code,weight,q1\n"
                                          b"r1,2022,S9,1,2\n")
    assert name[:60] in bad and "S9" in bad  # the problem names the file as uploaded
    assert html


def test_errors_are_shown_in_the_page_language() -> None:
    """The row/column messages of the readers are Danish on the Danish page (the default
    language of the product) and English on the English one."""
    analyst = client_for(Role.ANALYST)
    survey = b"id;aar;omr;vaegt;q1\nr1;2022;S1;x;2\nr2;2022;;1;3\n"
    columns = "id=respondent_id\naar=wave\nomr=area_code\nvaegt=weight"
    analyst.get("/sprog/da/", {"next": URL})
    html = upload(analyst, "survey", "svar.csv", survey, columns=columns)
    assert '<td class="num">2</td><td>weight</td><td>&#x27;x&#x27; er ikke et tal</td>' in html
    assert '<td class="num">3</td><td>area_code</td><td>cellen er tom</td>' in html
    assert "is not a number" not in html
    upload(analyst, "areas", "areas.csv", AREAS)
    unknown = b"id;aar;omr;vaegt;q1\nr1;2022;S1;1;2\nr2;2022;S7;1;3\n"
    html = upload(analyst, "survey", "svar.csv", unknown, columns=columns)
    assert ('<td class="num">3</td><td>area_code</td><td>intet gemt område har koden '
            "&#x27;S7&#x27;: importér områderne først</td>") in html

    analyst.get("/sprog/en/", {"next": URL})
    html = upload(analyst, "survey", "svar.csv", survey, columns=columns)
    assert '<td class="num">2</td><td>weight</td><td>&#x27;x&#x27; is not a number</td>' in html
    assert '<td class="num">3</td><td>area_code</td><td>this cell is empty</td>' in html
