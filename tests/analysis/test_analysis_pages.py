"""The analysts' pages: what each role gets, paging, filters, publication."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from support.planted import (
    OFFENCE,
    PUBLIC_ESTIMATE,
    RESPONDENT,
    SUPPRESSED_ESTIMATE,
    UNPUBLISHED_FINGERPRINT,
    WAVE_YEAR,
    Site,
    client_as,
    float_forms,
    leaks,
    plant,
)
from tryg.accounts.models import AuditEvent
from tryg.analysis import data_views
from tryg.runs.models import IndexRun, ResultRow
from tryg.surveys.models import Response


@pytest.fixture
def site() -> Site:
    return plant()


def _text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "expected"), [
    ("anonymous", "login"), ("partner", 403), ("walker", 403), ("coordinator", 403),
    ("analyst", 200), ("admin", 200)])
def test_record_level_pages(site: Site, who: str, expected: int | str) -> None:
    client = client_as(site, who)
    for url in (reverse("analyse:waves"), reverse("analyse:wave", args=[WAVE_YEAR]),
                reverse("analyse:imports"),
                reverse("analyse:records", args=[site.register_batch.pk])):
        response = client.get(url)
        if expected == "login":
            assert response.status_code == 302
            assert response["Location"] == f"{reverse('login')}?next={url}"
        else:
            assert response.status_code == expected, url


@pytest.mark.django_db
def test_an_analyst_reads_answers_and_records(site: Site) -> None:
    client = client_as(site, "analyst")
    waves = _text(client.get(reverse("analyse:waves")))
    assert f'href="{reverse("analyse:wave", args=[WAVE_YEAR])}"' in waves
    answers = _text(client.get(reverse("analyse:wave", args=[WAVE_YEAR])))
    assert RESPONDENT in answers and "<caption>" in answers
    assert '<th scope="col"><code>kommentar</code></th>' in answers
    assert client.get(reverse("analyse:wave", args=[1999])).status_code == 404
    imports = _text(client.get(reverse("analyse:imports")))
    assert reverse("analyse:records", args=[site.register_batch.pk]) in imports
    assert reverse("analyse:records", args=[site.survey_batch.pk]) not in imports
    assert "records.csv" in _text(client.get(reverse("analyse:imports") + "?kind=register"))
    assert "records.csv" not in _text(client.get(reverse("analyse:imports") + "?kind=survey"))
    records = _text(client.get(reverse("analyse:records", args=[site.register_batch.pk])))
    assert OFFENCE in records and "record coordinate" in leaks(records)
    # Only register imports have records.
    assert client.get(reverse("analyse:records", args=[site.survey_batch.pk])).status_code \
        == 404


@pytest.mark.django_db
def test_responses_are_paged(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_views, "PAGE_SIZE", 1)
    client = client_as(site, "analyst")
    url = reverse("analyse:wave", args=[WAVE_YEAR])
    first = _text(client.get(url))
    second = _text(client.get(url + "?page=2"))
    keys = sorted(Response.objects.values_list("respondent", flat=True))
    assert keys[0] in first and keys[1] not in first
    assert keys[1] in second and keys[0] not in second
    assert 'rel="next"' in first and 'rel="prev"' in second
    assert keys[1] in _text(client.get(url + "?page=99"))  # out of range: the last page


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["partner", "walker"])
def test_partners_see_published_runs_only_as_published(site: Site, who: str) -> None:
    client = client_as(site, who)
    runs = _text(client.get(reverse("analyse:runs")))
    assert reverse("analyse:run", args=[site.published.pk]) in runs
    assert reverse("analyse:run", args=[site.unpublished.pk]) not in runs
    assert client.get(reverse("analyse:run", args=[site.unpublished.pk])).status_code == 404
    page = _text(client.get(reverse("analyse:run", args=[site.published.pk])))
    assert any(f in page for f in float_forms(PUBLIC_ESTIMATE))
    assert not any(f in page for f in float_forms(SUPPRESSED_ESTIMATE))
    assert "&lt; 5" in page  # the small register count, as published
    assert "<form method=\"post\" action=\"/analyse/runs/" not in page  # no (un)publish form


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["coordinator", "analyst"])
def test_the_internal_table_of_a_run(site: Site, who: str) -> None:
    client = client_as(site, who)
    runs = _text(client.get(reverse("analyse:runs")))
    assert reverse("analyse:run", args=[site.unpublished.pk]) in runs
    url = reverse("analyse:run", args=[site.published.pk])
    page = _text(client.get(url))
    assert any(f in page for f in float_forms(SUPPRESSED_ESTIMATE))  # internal: everything
    assert 'class="suppressed"' in page
    assert '<label for="id_measure">' in page and '<th scope="col">' in page
    only = _text(client.get(url + "?measure=anmeldelser_vold"))
    assert "anmeldelser_vold" in only and "K999" not in only
    assert "K999" not in _text(client.get(url + f"?wave={WAVE_YEAR + 1}"))
    unpublished = _text(client.get(reverse("analyse:run", args=[site.unpublished.pk])))
    assert UNPUBLISHED_FINGERPRINT[:12] in unpublished
    can_publish = reverse("analyse:publish", args=[site.unpublished.pk]) in unpublished
    assert can_publish == (who == "analyst")


@pytest.mark.django_db
def test_the_run_results_table_is_paged(site: Site) -> None:
    rows = [ResultRow(run=site.unpublished, area_code=f"A{i:03d}", area_name=f"Area {i}",
                      level="district", wave=WAVE_YEAR, measure="tryghed_trygge", estimate=i)
            for i in range(150)]
    ResultRow.objects.bulk_create(rows)
    client = client_as(site, "analyst")
    url = reverse("analyse:run", args=[site.unpublished.pk])
    first = _text(client.get(url + "?measure=tryghed_trygge"))
    assert "A000" in first and "A149" not in first
    assert "?measure=tryghed_trygge&amp;page=2" in first
    assert "A149" in _text(client.get(url + "?measure=tryghed_trygge&page=2"))


@pytest.mark.django_db
def test_an_analyst_publishes_and_withdraws(site: Site) -> None:
    client = client_as(site, "analyst")
    run = site.unpublished
    response = client.post(reverse("analyse:publish", args=[run.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("analyse:run", args=[run.pk])
    run.refresh_from_db()
    assert run.is_published and run.published_by == site.users["analyst"]
    event = AuditEvent.objects.filter(action=AuditEvent.Action.PUBLISH).latest("id")
    assert event.actor == site.users["analyst"] and event.details["run"] == run.pk
    assert run.pk in [r["id"] for r in Client().get("/api/runs").json()]

    client.post(reverse("analyse:unpublish", args=[run.pk]))
    run.refresh_from_db()
    assert not run.is_published
    assert AuditEvent.objects.filter(action=AuditEvent.Action.UNPUBLISH).exists()
    # Withdrawing again is refused with a message, not an error page.
    page = client.post(reverse("analyse:unpublish", args=[run.pk]), follow=True)
    assert page.status_code == 200 and 'class="error"' in page.content.decode()
    # A GET does not publish: it is the confirmation page.
    assert client.get(reverse("analyse:publish", args=[run.pk])).status_code == 200
    run.refresh_from_db()
    assert not run.is_published
    # A failed run cannot be published.
    IndexRun.objects.filter(pk=run.pk).update(status=IndexRun.Status.FAILED)
    client.post(reverse("analyse:publish", args=[run.pk]))
    run.refresh_from_db()
    assert not run.is_published


@pytest.mark.django_db
def test_start_page_links_by_role(site: Site) -> None:
    assert client_as(site, "anonymous").get(reverse("analyse:home")).status_code == 302
    partner = _text(client_as(site, "partner").get(reverse("analyse:home")))
    assert reverse("analyse:waves") not in partner and reverse("analyse:runs") in partner
    analyst = _text(client_as(site, "analyst").get(reverse("analyse:home")))
    assert reverse("analyse:waves") in analyst and reverse("admin:index") not in analyst
    admin = _text(client_as(site, "admin").get(reverse("analyse:home")))
    assert reverse("admin:index") in admin


@pytest.mark.django_db
def test_pages_use_no_scripts_and_label_their_inputs(site: Site) -> None:
    client = client_as(site, "analyst")
    for url in (reverse("analyse:home"), reverse("analyse:waves"),
                reverse("analyse:wave", args=[WAVE_YEAR]), reverse("analyse:imports"),
                reverse("analyse:records", args=[site.register_batch.pk]),
                reverse("analyse:runs"), reverse("analyse:run", args=[site.published.pk])):
        html = _text(client.get(url))
        assert "<script" not in html, url
        for match in re.finditer(r"<(?:select|input)[^>]*\bid=\"([^\"]+)\"", html):
            assert f'<label for="{match.group(1)}"' in html, (url, match.group(1))
        for table in re.findall(r"<table>.*?</table>", html, flags=re.DOTALL):
            assert "<caption>" in table and 'scope="col"' in table, url
