"""The report made in the background: the page queues a PDF (and a large publication's
report) as a job of kind "report"; the file is kept through the storage API and linked from
the job's page, for the user who asked only. The suite's task backend runs a job at once."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client

from support.planted import Site, client_as, plant
from tryg.accounts.models import Role, User
from tryg.jobs.models import Job
from tryg.reports import background
from tryg.reports.sections import ReportOptions

pytestmark = pytest.mark.django_db

URL = "/analyse/reports/"


@pytest.fixture
def site(settings: Any, tmp_path: Path) -> Site:
    settings.MEDIA_ROOT = str(tmp_path / "uploads")
    return plant()


def _post(client: Client, **fields: str) -> HttpResponse:
    form = {"audience": "internal", "language": "da", "format": "html", "wave": "",
            "areas": "", "strategy": "", "run": "", **fields}
    response: Any = client.post(URL, form)
    assert isinstance(response, HttpResponse)
    return response


def test_a_pdf_or_a_large_publication_goes_to_the_background(site: Site, settings: Any
                                                             ) -> None:
    options = ReportOptions(created=datetime.date(2031, 12, 1))
    assert background.in_request(options, "html")  # two areas
    assert not background.in_request(options, "pdf")
    settings.TRYG_REPORT_INLINE_AREAS = 1
    assert not background.in_request(options, "html")
    preview = ReportOptions(audience="internal", run=site.unpublished.pk)
    assert background.in_request(preview, "html")


def test_the_coordinator_who_asked_downloads_the_file_from_the_jobs_page(
        site: Site, settings: Any, tmp_path: Path) -> None:
    settings.TRYG_REPORT_INLINE_AREAS = 0
    client = client_as(site, "coordinator")
    response = _post(client)
    assert response.status_code == 302
    job = Job.objects.get(kind="report")
    assert response["Location"] == f"/analyse/jobs/{job.pk}/"
    assert job.state == Job.State.DONE, job.error
    assert job.created_by == site.users["coordinator"]
    assert job.params["audience"] == "internal" and job.params["fmt"] == "html"
    stored = tmp_path / "uploads" / job.result["file"]
    assert stored.is_file() and stored.stat().st_size == job.result["bytes"]
    page = client.get(response["Location"])  # a coordinator does not see the jobs' list
    assert page.status_code == 200
    link = f"/analyse/reports/file/{job.pk}/"
    assert link.encode() in page.content
    download = client.get(link)
    assert download.status_code == 200
    assert download["Content-Type"] == "text/html; charset=utf-8"
    assert download["Content-Disposition"].startswith(
        'attachment; filename="tryg-rapport-intern-da-')
    body = download.content
    assert body == stored.read_bytes() and b'<html lang="da">' in body
    # nobody else downloads it: not another coordinator, not an analyst or the admin
    other = User.objects.create_user("coordinator-2", role=Role.COORDINATOR)
    someone = Client()
    someone.force_login(other)
    assert someone.get(link).status_code == 404
    assert someone.get(response["Location"]).status_code == 404
    for who in ("analyst", "admin", "partner", "walker"):
        assert client_as(site, who).get(link).status_code == 404, who
    assert Client().get(link).status_code == 302  # to the log-in page


@pytest.mark.slow
def test_a_pdf_is_made_in_the_background(site: Site) -> None:
    client = client_as(site, "analyst")
    response = _post(client, format="pdf", audience="public")
    assert response.status_code == 302
    job = Job.objects.get(kind="report")
    assert job.state == Job.State.DONE, job.error
    download = client.get(f"/analyse/reports/file/{job.pk}/")
    assert download["Content-Type"] == "application/pdf"
    assert download.content.startswith(b"%PDF")


def test_a_job_whose_user_lost_the_right_fails_and_keeps_no_file(site: Site) -> None:
    from tryg.jobs.services import enqueue

    partner = site.users["partner"]
    job = enqueue(background.KIND, user=partner, **background.options_params(
        ReportOptions(created=datetime.date(2031, 12, 1)), "html"))
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and "file" not in job.result
    assert client_as(site, "partner").get(f"/analyse/reports/file/{job.pk}/").status_code == 404


@pytest.mark.parametrize(("fields", "danish"), [
    ({"wave": "1999"}, "Måling 1999 har ingen offentliggjorte tal"),
    ({"run": "999999"}, "Der er ingen færdig indeksberegning nr. 999999."),
    ({"areas": "ZZZ"}, "Ingen offentliggjorte tal for område(rne) ZZZ."),
])
def test_a_report_that_cannot_be_made_is_refused_on_the_page_in_its_language(
        site: Site, fields: dict[str, str], danish: str) -> None:
    """The probe asked the Danish page for an English PDF of a wave without figures: a job
    was queued that failed without a word, and an HTML report's reason was in English."""
    client = client_as(site, "coordinator")
    client.get("/sprog/da/")
    for fmt in ("pdf", "html"):
        response = _post(client, format=fmt, language="en", **fields)
        assert response.status_code == 400, fmt
        assert danish in response.content.decode(), fmt
    assert not Job.objects.filter(kind=background.KIND).exists()
