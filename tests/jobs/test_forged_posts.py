"""Retries a browser can forge: of a job that is running, done or not there, by a role that
may not, without the CSRF token. Only a failed job is queued again, by those who see jobs."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from support.planted import client_as, plant
from tryg.jobs.models import Job

pytestmark = pytest.mark.django_db


def test_only_a_failed_job_is_retried_and_only_by_who_sees_jobs() -> None:
    site = plant()
    running = Job.objects.create(kind="index_run", state=Job.State.RUNNING, step="reading",
                                 fraction=0.5, params={"spec": "dk-tryghedsindeks"})
    done = Job.objects.create(kind="report", state=Job.State.DONE, result={"file": "r.html"},
                              created_by=site.users["coordinator"])
    analyst = client_as(site, "analyst")
    for job in (running, done):
        assert analyst.post(reverse("jobs:retry", args=[job.pk])).status_code == 302
    running.refresh_from_db()
    done.refresh_from_db()
    assert (running.state, running.step, running.fraction) == (Job.State.RUNNING, "reading", 0.5)
    assert (done.state, done.result) == (Job.State.DONE, {"file": "r.html"})
    for pk in (10**9, 2**63):
        assert analyst.post(reverse("jobs:retry", args=[pk])).status_code == 404
    failed = Job.objects.get(state=Job.State.FAILED)
    for who in ("coordinator", "partner", "walker"):
        assert client_as(site, who).post(reverse("jobs:retry", args=[failed.pk])).status_code \
            == 403
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(site.users["analyst"])
    assert checked.post(reverse("jobs:retry", args=[failed.pk])).status_code == 403
    failed.refresh_from_db()
    assert failed.state == Job.State.FAILED and failed.attempts == 0
