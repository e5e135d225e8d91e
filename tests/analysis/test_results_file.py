"""A large run's XLSX is made in the background (a national run's takes about a minute, longer
than a proxy waits): the run page's link queues a job of kind "results_xlsx" whose page links
the file, for the user who asked only; a small run's file is answered at once. The suite's
task backend runs a job at once."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from support.planted import Site, client_as, plant
from tryg.accounts.models import Role, User
from tryg.analysis import results_file
from tryg.jobs.models import Job
from tryg.runs.models import ResultRow

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(settings: Any, tmp_path: Path) -> Site:
    settings.MEDIA_ROOT = str(tmp_path / "uploads")
    return plant()


def _sheet_rows(body: bytes) -> list[tuple[Any, ...]]:
    book = load_workbook(io.BytesIO(body), read_only=True)
    rows = [tuple(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    return rows


def test_a_small_runs_workbook_is_answered_at_once(site: Site) -> None:
    url = f"/analyse/runs/{site.unpublished.pk}/results.xlsx"
    response = client_as(site, "analyst").get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(f'tryg-run-{site.unpublished.pk}.xlsx"')
    rows = ResultRow.objects.filter(run=site.unpublished).count()
    assert len(_sheet_rows(response.content)) == rows + 1
    assert not Job.objects.filter(kind=results_file.KIND).exists()


def test_a_large_runs_workbook_is_made_in_the_background_for_who_asked(
        site: Site, settings: Any, tmp_path: Path) -> None:
    settings.TRYG_XLSX_INLINE_ROWS = 0
    client = client_as(site, "coordinator")
    response = client.get(f"/analyse/runs/{site.unpublished.pk}/results.xlsx")
    assert response.status_code == 302
    job = Job.objects.get(kind=results_file.KIND)
    assert response["Location"] == f"/analyse/jobs/{job.pk}/"
    assert job.state == Job.State.DONE, job.error
    assert job.created_by == site.users["coordinator"] and job.params == {
        "run": site.unpublished.pk}
    stored = tmp_path / "uploads" / job.result["file"]
    assert stored.is_file() and stored.stat().st_size == job.result["bytes"]
    link = f"/analyse/runs/results-file/{job.pk}/"
    page = client.get(response["Location"])
    assert page.status_code == 200 and link.encode() in page.content
    download = client.get(link)
    assert download.status_code == 200
    assert download["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert download["Content-Disposition"].startswith("attachment; filename=")
    body = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    assert body == stored.read_bytes()
    # the same table as the file made in the request
    settings.TRYG_XLSX_INLINE_ROWS = 10**6
    direct = client.get(f"/analyse/runs/{site.unpublished.pk}/results.xlsx")
    assert _sheet_rows(body) == _sheet_rows(direct.content)
    # nobody else: not another coordinator, not the analyst or the admin; 404 as for no job
    other = User.objects.create_user("coordinator-2", role=Role.COORDINATOR)
    someone = Client()
    someone.force_login(other)
    assert someone.get(link).status_code == 404
    assert someone.get("/analyse/runs/results-file/999999/").status_code == 404
    for who in ("analyst", "admin"):
        assert client_as(site, who).get(link).status_code == 404, who
    for who in ("partner", "walker"):
        assert client_as(site, who).get(link).status_code == 403, who
    assert Client().get(link).status_code == 302  # to the log-in page


def test_a_job_whose_user_lost_the_right_fails_and_keeps_no_file(site: Site) -> None:
    job = results_file.enqueue_file(site.unpublished, site.users["partner"])
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and "file" not in job.result

