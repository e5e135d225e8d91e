"""The JSON API: public aggregates, analyst-only record-level data, docs without a CDN."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from support.planted import (
    PUBLIC_ESTIMATE,
    RESPONDENT,
    SUPPRESSED_ESTIMATE,
    UNPUBLISHED_ESTIMATE,
    WAVE_YEAR,
    Site,
    client_as,
    plant,
)
from tryg.runs.models import IndexRun


@pytest.fixture
def site() -> Site:
    return plant()


@pytest.mark.django_db
def test_areas_with_parents_and_as_geojson(site: Site) -> None:
    client = Client()
    areas = client.get("/api/areas").json()
    assert {"code": "D999-1", "name": "Midtby", "level": "district",
            "parents": [{"code": "K999", "valid_from": 2020, "valid_to": None}]} in areas
    assert [a["code"] for a in client.get("/api/areas?level=kommune").json()] == ["K999"]
    geo = client.get("/api/areas?geometry=1").json()
    assert geo["type"] == "FeatureCollection"
    kommune = next(f for f in geo["features"] if f["id"] == "K999")
    assert kommune["geometry"] == {"type": "Point", "coordinates": [9.9, 57.0]}
    assert kommune["properties"]["name"] == "Testkommune"
    district = next(f for f in geo["features"] if f["id"] == "D999-1")
    assert district["geometry"] is None


@pytest.mark.django_db
def test_waves_and_measures(site: Site) -> None:
    client = Client()
    waves = client.get("/api/waves").json()
    assert waves == [{"year": WAVE_YEAR, "fieldwork_start": "2031-09-01",
                      "fieldwork_end": None, "producer": "Testinstitut", "questionnaire": "",
                      "synthetic": False, "responses": 2}]
    measures = client.get("/api/measures").json()
    assert measures["run"] == site.published.pk
    assert measures["spec_id"] == "dk-tryghedsindeks"
    by_id = {m["id"]: m for m in measures["measures"]}
    assert by_id["tryghed_trygge"]["kind"] == "survey"
    assert by_id["anmeldelser_vold"]["kind"] == "register"
    assert by_id["tryghedsindeks"]["kind"] == "composite"
    assert by_id["tryghed_trygge"]["label_da"]


@pytest.mark.django_db
def test_measures_before_anything_is_published() -> None:
    assert Client().get("/api/measures").json()["measures"] == []
    assert Client().get("/api/results").status_code == 404


@pytest.mark.django_db
def test_results_are_the_public_view_of_published_runs(site: Site) -> None:
    client = Client()
    answer = client.get("/api/results").json()
    assert answer["run"] == site.published.pk and answer["count"] == 3
    rows = {(r["area_code"], r["measure"]): r for r in answer["results"]}
    public = rows[("K999", "tryghed_trygge")]
    assert public["estimate"] == PUBLIC_ESTIMATE and public["n_display"] == "400"
    hidden = rows[("D999-1", "tryghed_trygge")]
    assert hidden["suppressed"] is True
    assert {k: hidden[k] for k in ("estimate", "se", "ci_low", "ci_high", "n_display")} == \
        dict.fromkeys(("estimate", "se", "ci_low", "ci_high", "n_display"))
    small = rows[("D999-1", "anmeldelser_vold")]
    assert small["n_display"] == "< 5" and small["estimate"] is None
    text = client.get("/api/results").content.decode()
    assert str(SUPPRESSED_ESTIMATE) not in text and str(UNPUBLISHED_ESTIMATE) not in text

    # Filters and paging.
    assert client.get("/api/results?area=K999").json()["count"] == 1
    assert client.get("/api/results?level=district").json()["count"] == 2
    assert client.get("/api/results?measure=anmeldelser_vold").json()["count"] == 1
    assert client.get(f"/api/results?wave={WAVE_YEAR + 1}").json()["count"] == 0
    page = client.get("/api/results?limit=1&offset=1").json()
    assert page["count"] == 3 and len(page["results"]) == 1
    assert client.get("/api/results?limit=0").status_code == 400
    # An unpublished run is not there, even for an analyst (this is the public view).
    assert client.get(f"/api/results?run={site.unpublished.pk}").status_code == 404
    analyst = client_as(site, "analyst")
    assert analyst.get(f"/api/results?run={site.unpublished.pk}").status_code == 404
    assert analyst.get(f"/api/results?run={site.published.pk}").json()["count"] == 3


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "sees_unpublished"), [
    ("anonymous", False), ("partner", False), ("walker", False),
    ("coordinator", True), ("analyst", True), ("admin", True)])
def test_runs(site: Site, who: str, sees_unpublished: bool) -> None:
    runs = client_as(site, who).get("/api/runs").json()
    ids = {r["id"] for r in runs}
    expected = {site.published.pk} | ({site.unpublished.pk} if sees_unpublished else set())
    assert ids == expected
    published = next(r for r in runs if r["id"] == site.published.pk)
    assert published["spec_id"] == "dk-tryghedsindeks" and published["published_at"]


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "status"), [
    ("anonymous", 401), ("partner", 403), ("walker", 403), ("coordinator", 403),
    ("analyst", 200), ("admin", 200)])
def test_record_level_endpoints_are_for_analysts(site: Site, who: str, status: int) -> None:
    client = client_as(site, who)
    responses = client.get(f"/api/waves/{WAVE_YEAR}/responses")
    records = client.get("/api/register/records")
    assert (responses.status_code, records.status_code) == (status, status)
    if status != 200:
        assert RESPONDENT not in responses.content.decode()
        return
    answer = responses.json()
    assert answer["count"] == 2
    mine = next(r for r in answer["responses"] if r["respondent"] == RESPONDENT)
    assert mine["area"] == "D999-1" and mine["answers"]["tryg_nabolag"] == 2
    assert client.get(f"/api/waves/{WAVE_YEAR}/responses?limit=1").json()["responses"] \
        .__len__() == 1
    assert client.get("/api/waves/1999/responses").status_code == 404
    rec = records.json()
    assert rec["count"] == 2 and rec["records"][0]["offence"] == "OFF-MK-8871"
    assert client.get(f"/api/register/records?batch={site.survey_batch.pk}").json()[
        "count"] == 0


@pytest.mark.django_db
def test_a_withdrawn_publication_disappears_from_the_api(site: Site) -> None:
    IndexRun.objects.filter(pk=site.published.pk).update(published_at=None)
    client = Client()
    assert client.get("/api/runs").json() == []
    assert client.get("/api/results").status_code == 404


def test_openapi_schema_lists_the_endpoints() -> None:
    schema = Client().get("/api/openapi.json").json()
    assert set(schema["paths"]) >= {"/api/areas", "/api/waves", "/api/measures", "/api/results",
                                    "/api/runs", "/api/waves/{year}/responses",
                                    "/api/register/records"}
    security = schema["paths"]["/api/register/records"]["get"].get("security")
    assert security, "the analyst endpoints are documented as needing a session"
    assert not schema["paths"]["/api/results"]["get"].get("security")


@pytest.mark.django_db  # closing a streamed response signals request_finished (DB cleanup)
def test_docs_page_loads_nothing_from_other_sites() -> None:
    client = Client()
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, "the docs page references its scripts"
    assert all(s.startswith("/") for s in sources), sources
    assert "cdn" not in html.lower()
    for source in sources:
        if source.endswith((".js", ".css")):
            asset = client.get(source)
            assert asset.status_code == 200, source
            assert b"".join(asset.streaming_content)  # type: ignore[attr-defined]
            asset.close()


@pytest.mark.django_db
def test_every_error_answer_is_documented_in_the_schema(site: Site) -> None:
    """The schema documents each status the API answers besides success (ninja itself lists
    only the success), with the ``{"detail": ...}`` body the answer has."""
    schema = Client().get("/api/openapi.json").json()
    assert "detail" in schema["components"]["schemas"]["Error"]["properties"]
    partner = client_as(site, "partner")
    answers = [
        ("/api/results", "get", Client().get("/api/results?wave=AAA")),
        ("/api/areas", "get", Client().get("/api/areas?level=a%00b")),
        ("/api/results", "get", Client().get("/api/results?run=999999")),
        ("/api/strategies/{strategy_id}", "get", Client().get("/api/strategies/999999")),
        ("/api/register/records", "get", Client().get("/api/register/records")),
        ("/api/register/records", "get", partner.get("/api/register/records")),
        ("/api/waves/{year}/responses", "get", partner.get(f"/api/waves/{WAVE_YEAR}/responses")),
    ]
    for path, method, answer in answers:
        assert answer.status_code >= 400
        assert "detail" in answer.json()
        documented = schema["paths"][path][method]["responses"]
        assert str(answer.status_code) in documented, (path, answer.status_code)
    statuses = {code for path in schema["paths"].values() for operation in path.values()
                for code in operation["responses"]}
    assert {"400", "401", "403", "404"} <= statuses


@pytest.mark.django_db
def test_an_answer_without_rows_is_not_kept(site: Site) -> None:
    """Made-up filters and pages past the end answer an empty list without a cache entry
    each (they could otherwise push the real answers out); an answer with rows is kept."""
    from django.core.cache import cache

    from tryg.api.public import results_key

    cache.clear()
    client = Client()

    def key(**query: object) -> str:
        return results_key(site.published, {"area": "", "level": "", "wave": None,
                                            "measure": "", "limit": 1000, "offset": 0,
                                            **query})

    for query in ({"measure": "made_up"}, {"area": "nowhere"}, {"offset": 50}):
        answer = client.get("/api/results", query)
        assert answer.status_code == 200 and answer.json()["results"] == []
        assert cache.get(key(**query)) is None, query
    assert client.get("/api/results", {"area": "K999"}).json()["count"] == 1
    assert cache.get(key(area="K999")) is not None
