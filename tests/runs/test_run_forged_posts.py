"""POSTs a browser can forge against the index-run pages: a specification the form does not
offer, ids of runs that are not there, publishing twice, the roles that may not, no CSRF
token. Each answers 400/403/404 or a message, and changes nothing it should not."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from support.planted import Site, client_as, plant
from tryg.accounts.models import AuditEvent
from tryg.jobs.models import Job
from tryg.runs import services
from tryg.runs.models import IndexRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def site() -> Site:
    return plant()


def _publications() -> int:
    return AuditEvent.objects.filter(action=AuditEvent.Action.PUBLISH).count()


def test_publishing_the_live_run_twice_changes_nothing(site: Site) -> None:
    analyst = client_as(site, "analyst")
    run = site.unpublished
    url = reverse("analyse:publish", args=[run.pk])
    assert analyst.post(url).status_code == 302
    run.refresh_from_db()
    stamped, before = run.published_at, _publications()
    again = analyst.post(url, follow=True)
    assert again.status_code == 200
    assert f"Run #{run.pk} is already published" in again.content.decode()
    analyst.get("/sprog/da/")
    danish = analyst.post(url, follow=True).content.decode()
    assert f"Beregning #{run.pk} er allerede offentliggjort" in danish
    run.refresh_from_db()
    assert run.published_at == stamped and _publications() == before
    # a published run that is no longer live is published again: it becomes live
    analyst.post(reverse("analyse:publish", args=[site.published.pk]))
    assert services.live_run() == site.published and _publications() == before + 1


def test_a_run_form_naming_no_shipped_specification_queues_nothing(site: Site) -> None:
    analyst = client_as(site, "analyst")
    for forged in ("", "x" * 100_000, "dk-tryghedsindeks\x00", "../../etc/passwd"):
        response = analyst.post(reverse("analyse:start_run"), {"spec": forged}, follow=True)
        assert response.status_code == 200
        assert "Choose one of the shipped specifications." in response.content.decode()
    assert Job.objects.filter(kind="index_run").count() == 1  # the planted one


def test_ids_of_no_run_are_404(site: Site) -> None:
    analyst = client_as(site, "analyst")
    for pk in (10**9, 2**63):
        for action in ("publish", "unpublish", "rerun"):
            assert analyst.post(reverse(f"analyse:{action}", args=[pk])).status_code == 404
    for query in ("a=1&b=99999999999999999999999", "a=-1", "a=1%00", f"a={10**9}"):
        assert analyst.get(f"/analyse/runs/compare/?{query}").status_code in (400, 404)


def test_starting_runs_is_refused_to_a_coordinator(site: Site) -> None:
    coordinator = client_as(site, "coordinator")
    assert coordinator.post(reverse("analyse:start_run"),
                            {"spec": "dk-tryghedsindeks"}).status_code == 403
    rerun = reverse("analyse:rerun", args=[site.published.pk])
    assert coordinator.post(rerun).status_code == 403
    assert IndexRun.objects.count() == 2


def test_publishing_without_the_csrf_token_is_refused(site: Site) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(site.users["analyst"])
    assert client.post(reverse("analyse:publish", args=[site.unpublished.pk])).status_code == 403
    site.unpublished.refresh_from_db()
    assert not site.unpublished.is_published
