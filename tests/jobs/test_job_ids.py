"""A background job's id does not tell who may not see the job that it exists: for every URL
that names a job (its page, its retry, the file of a report made in the background), the
answer to an existing job that is not the visitor's is the answer to an id that does not
exist, byte for byte once the id is taken out: a 404 for a logged-in visitor, the log-in page
for the anonymous."""

from __future__ import annotations

import re

import pytest
from django.http import HttpResponse
from django.test import Client

from support.planted import Site, client_as, plant
from tryg.accounts.models import Role, User
from tryg.jobs.models import Job

pytestmark = pytest.mark.django_db

#: Every URL that names a job, with its method.
URLS = [("GET", "/analyse/jobs/{}/"), ("POST", "/analyse/jobs/{}/retry/"),
        ("GET", "/analyse/reports/file/{}/")]
#: Per-response values that differ between any two answers (CSP nonce, CSRF token).
VOLATILE = re.compile(rb'(nonce|csrfmiddlewaretoken" value|csrf-token" content)="[^"]*"')


def _foreign_jobs(site: Site) -> list[Job]:
    """A finished report of another coordinator and a failed index run of the analyst."""
    owner = User.objects.create_user("coordinator-2", role=Role.COORDINATOR)
    report = Job.objects.create(kind="report", state=Job.State.DONE, created_by=owner,
                                result={"file": "reports/1/r.html", "name": "r.html"})
    run = Job.objects.create(kind="index_run", state=Job.State.FAILED,
                             created_by=site.users["analyst"], error="bad row 7")
    return [report, run]


def _answer(client: Client, method: str, url: str, job_id: int) -> tuple[int, bytes]:
    path = url.format(job_id)
    response: HttpResponse = (client.get(path) if method == "GET"
                              else client.post(path))  # type: ignore[assignment]
    body = response.content.replace(path.encode(), b"<url>")
    body = body.replace(str(job_id).encode(), b"<id>")
    location = response.get("Location", "").replace(str(job_id), "<id>")
    return response.status_code, VOLATILE.sub(rb"\1=", body) + location.encode()


@pytest.mark.parametrize("who", ["anonymous", "partner", "walker", "coordinator"])
def test_a_job_that_is_not_yours_answers_as_one_that_does_not_exist(who: str) -> None:
    site = plant()
    missing = max(Job.objects.values_list("pk", flat=True)) + 1000
    client = client_as(site, who)
    for job in _foreign_jobs(site):
        for method, url in URLS:
            foreign = _answer(client, method, url, job.pk)
            absent = _answer(client, method, url, missing)
            assert foreign == absent, (who, method, url, job.kind)
            if who == "anonymous":
                assert foreign[0] == 302 and b"/login/" in foreign[1]
            elif url.endswith("retry/"):  # retrying is for those who see every job: a role
                assert foreign[0] == 403  # check, before and without any look-up
            else:
                assert foreign[0] == 404, (who, url)


def test_the_owner_and_those_who_see_jobs_still_see_them() -> None:
    site = plant()
    report, run = _foreign_jobs(site)
    owner = Client()
    owner.force_login(User.objects.get(pk=report.created_by_id))
    assert owner.get(f"/analyse/jobs/{report.pk}/").status_code == 200
    assert owner.get(f"/analyse/jobs/{run.pk}/").status_code == 404
    analyst = client_as(site, "analyst")
    page = analyst.get(f"/analyse/jobs/{run.pk}/")
    assert page.status_code == 200 and b"bad row 7" in page.content
    assert analyst.get(f"/analyse/jobs/{report.pk}/").status_code == 200
