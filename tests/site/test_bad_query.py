"""Bad input from outside: a 400 with a message, never a 500.

The cases an outside probe found (NUL characters, which PostgreSQL refuses in text; numbers
beyond a 64-bit integer; digits that are not ASCII), a withdrawn run's pages and downloads on a
process whose idea of the publication is stale, and the publication cache of /api/results.
Run on PostgreSQL too (TRYG_TEST_DB=postgres): the NUL-byte bug only shows there.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from support.planted import PUBLIC_ESTIMATE, Site, client_as, float_forms, plant
from tryg.public.data import _published, forget_publication, latest_publication
from tryg.runs.models import IndexRun, ResultRow
from tryg.runs.services import publish, unpublish

HUGE = "99999999999999999999"


@pytest.fixture
def site() -> Site:
    cache.clear()
    forget_publication()
    return plant()


def bad_urls(site: Site) -> list[str]:
    run = site.published.pk
    return [
        "/api/areas?level=%00", f"/analyse/runs/{run}/?measure=%00",
        f"/analyse/runs/{run}/?wave=%C2%B2", f"/analyse/runs/{run}/?wave={HUGE}",
        f"/api/register/records?batch={HUGE}", f"/api/register/records?offset={HUGE}",
        f"/api/waves/{HUGE}/responses", f"/api/results?run={HUGE}", f"/api/results?wave={HUGE}",
        f"/api/results?offset={HUGE}", "/api/results?measure=%00", "/api/results?limit=0",
        "/downloads/results.geojson?wave=%C2%B2", f"/downloads/results.geojson?wave={HUGE}",
        "/map/?wave=%00", "/map/?measure=" + "x" * 101,
        "/analyse/runs/compare/?a=%C2%B2", f"/analyse/runs/compare/?b={HUGE}",
        "/analyse/quality/?spec=%00", "/analyse/imports/?kind=%00", "/areas/%00/",
        "/analyse/runs/?page=%00", "/?%00=1",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["analyst", "admin"])
def test_bad_query_parameters_are_400_with_a_message(site: Site, who: str) -> None:
    client = client_as(site, who)
    failures = []
    for url in bad_urls(site):
        response = client.get(url)
        if response.status_code != 400 or not response.content.strip():
            failures.append(f"{url}: {response.status_code}")
    assert not failures, failures


@pytest.mark.django_db
def test_the_message_says_what_is_wrong_in_the_visitors_language(site: Site) -> None:
    url = f"/analyse/runs/{site.published.pk}/?wave={HUGE}"
    english = client_as(site, "analyst").get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 400
    assert english.content.decode() == ("The parameter wave must be a whole number from 0 to "
                                        "9999.")
    danish = client_as(site, "analyst").get(url, HTTP_ACCEPT_LANGUAGE="da")
    assert danish.status_code == 400
    assert danish.content.decode() == "Parameteren wave skal være et helt tal fra 0 til 9999."
    nul = Client(HTTP_ACCEPT_LANGUAGE="da").get("/api/areas?level=%00")
    assert nul.status_code == 400
    assert nul.json() == {"detail": "Adressen indeholder et tegn, der ikke er tilladt (NUL)."}
    nul = Client(HTTP_ACCEPT_LANGUAGE="da").get("/map/?measure=%00")
    assert nul.status_code == 400 and "NUL" in nul.content.decode()


@pytest.mark.django_db
def test_anonymous_bad_parameters_on_analysts_api_are_refused_not_served(site: Site) -> None:
    for url in (f"/api/register/records?offset={HUGE}", f"/api/waves/{HUGE}/responses"):
        assert Client().get(url).status_code in (400, 401)


@pytest.mark.django_db
def test_good_values_still_work(site: Site) -> None:
    client = client_as(site, "analyst")
    run = site.published.pk
    assert client.get(f"/analyse/runs/{run}/?wave=2031&measure=tryghed_trygge").status_code == 200
    assert client.get(f"/analyse/runs/compare/?a={run}").status_code == 200
    assert client.get("/api/register/records?offset=9223372036854775807").status_code == 200
    assert Client().get("/downloads/results.geojson?wave=2031").status_code == 200
    assert Client().get("/downloads/results.geojson?wave=1999").status_code == 404


# --- A withdrawn run, seen by a process whose idea of the publication is stale --------------

def _withdraw_elsewhere(run: IndexRun) -> None:
    """Withdraw as another process would: in the database, with no signal reaching this one."""
    IndexRun.objects.filter(pk=run.pk).update(published_at=None)


@pytest.mark.django_db
@override_settings(TRYG_PUBLICATION_RECHECK=3600)
def test_a_withdrawn_runs_downloads_are_404_while_the_process_has_not_rechecked(
        site: Site) -> None:
    for fmt in ("csv", "json"):
        assert Client().get(f"/downloads/results.{fmt}").status_code == 200
    assert latest_publication() is not None  # this process still believes it is published
    _withdraw_elsewhere(site.published)
    for fmt in ("csv", "xlsx", "json", "geojson"):
        assert Client().get(f"/downloads/results.{fmt}").status_code == 404, fmt


@pytest.mark.django_db
@override_settings(TRYG_PUBLICATION_RECHECK=3600)
def test_a_withdrawn_runs_pages_are_not_500_while_the_process_has_not_rechecked(
        site: Site) -> None:
    assert Client().get("/areas/K999/").status_code == 200
    _withdraw_elsewhere(site.published)
    # Pages not rendered yet for that publication: rendered from the database's answer.
    for url in ("/map/", "/methods/", "/downloads/", "/areas/D999-1/"):
        for client in (Client(), client_as(site, "partner")):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            assert not any(f in response.content.decode() for f in float_forms(PUBLIC_ESTIMATE))
    assert latest_publication() is None


@pytest.mark.django_db
@override_settings(TRYG_PUBLICATION_RECHECK=3600)
def test_a_stale_process_serves_the_now_current_publication(site: Site) -> None:
    first = Client().get("/downloads/results.csv")
    assert first.status_code == 200
    assert f"run{site.published.pk}" in first["Content-Disposition"]
    _withdraw_elsewhere(site.published)
    IndexRun.objects.filter(pk=site.unpublished.pk).update(published_at=timezone.now())
    answer = Client().get("/downloads/results.csv")
    assert answer.status_code == 200
    assert f"run{site.unpublished.pk}" in answer["Content-Disposition"]


# --- /api/results from the publication cache ------------------------------------------------

def _result_queries(queries: list[dict[str, str]]) -> list[str]:
    table = ResultRow._meta.db_table
    return [q["sql"] for q in queries if table in q["sql"]]


@pytest.mark.django_db
def test_api_results_are_computed_once_per_publication_and_query(site: Site) -> None:
    client = Client()
    with CaptureQueriesContext(connection) as first:
        one = client.get("/api/results?measure=tryghed_trygge")
    assert one.status_code == 200 and _result_queries(first.captured_queries)
    _published.cache_clear()  # the process's memo of the public table: not what serves it
    with CaptureQueriesContext(connection) as second:
        two = client.get("/api/results?measure=tryghed_trygge")
    assert two.status_code == 200 and two.content == one.content
    assert not _result_queries(second.captured_queries)  # no recomputation
    assert len(second.captured_queries) == 1  # only: which run is published
    # Another query of the same publication: computed from the memoised public table.
    client.get("/api/results?level=kommune")
    with CaptureQueriesContext(connection) as other:
        three = client.get("/api/results?level=kommune&limit=1")
    assert three.status_code == 200 and three.json()["count"] == 1
    assert not _result_queries(other.captured_queries)


@pytest.mark.django_db
def test_api_results_follow_a_new_publication_and_a_withdrawal(site: Site) -> None:
    client = Client()
    assert client.get("/api/results").json()["run"] == site.published.pk
    changed = 4410.6875
    ResultRow.objects.filter(run=site.published, area_code="K999").update(estimate=changed)
    unpublish(site.published)  # withdrawn and published again: a new publication key
    publish(site.published)
    rows = client.get("/api/results?area=K999").json()["results"]
    assert [r["estimate"] for r in rows] == [changed]
    IndexRun.objects.filter(pk=site.published.pk).update(published_at=None)
    assert client.get(f"/api/results?run={site.published.pk}").status_code == 404
    assert client.get("/api/results").status_code == 404
