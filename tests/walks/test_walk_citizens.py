"""Citizens' reports: anonymous, rate-limited per address, moderated before public."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.cache import cache
from django.test import Client
from django.test.utils import override_settings

from tryg.areas.models import Area
from tryg.walks import citizens, figures
from tryg.walks.models import Action, Finding
from tryg.walks.public import area_findings
from tryg.walks.states import ActionState as S
from walks.walk_fixtures import NOW, finding, organisations, users, walk

REPORT = {"idempotency_key": "c-1", "category": "lighting", "text": "CITIZEN-TEXT-41",
          "address": "Parken", "name": "REPORTER-NAME-7", "email": "reporter7@example.org",
          "area_code": "K1"}


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


@pytest.mark.django_db
def test_a_report_is_not_public_before_moderation_and_never_shows_the_reporter() -> None:
    Area.objects.create(code="K1", name="Kvarter 1", level="kvarter")
    client = Client()
    form = client.get("/meld-utrygt-sted/?area=K1")
    assert b'name="area_code" value="K1"' in form.content
    response = client.post("/meld-utrygt-sted/", REPORT)
    assert response.status_code == 302
    report = Finding.objects.get()
    assert report.source == "citizen" and report.moderation == "pending"
    assert not report.is_public and Action.objects.filter(finding=report).exists()
    assert area_findings("K1")["findings"] == []
    citizens.moderate(report, approve=True)
    shown = area_findings("K1")["findings"]
    assert [r["text"] for r in shown] == ["CITIZEN-TEXT-41"]
    assert "REPORTER" not in repr(shown) and "reporter7" not in repr(shown)


def square(west: float, south: float) -> str:
    return json.dumps({"type": "Polygon", "coordinates": [[
        [west, south], [west + 0.1, south], [west + 0.1, south + 0.1], [west, south + 0.1],
        [west, south]]]})


@pytest.mark.django_db
def test_a_report_is_counted_where_it_lies_and_never_in_an_unknown_area() -> None:
    """The form's area comes from the visitor's browser: a code no area has is not stored;
    a position inside a stored boundary places the report there, as an Open311 post is."""
    Area.objects.create(code="K1", name="Kvarter 1", level="kvarter", geometry=square(9.9, 57.0))
    Area.objects.create(code="K2", name="Kvarter 2", level="kvarter", geometry=square(10.0, 57.0))
    client = Client()
    posts = {"forged": {"area_code": "%00<b>K9"},
             "unplaced": {"area_code": "K1"},
             "inside K2": {"area_code": "K1", "lat": "57.05", "lon": "10.05"},
             "outside every area": {"area_code": "K1", "lat": "56.5", "lon": "10.05"},
             "outside, forged": {"area_code": "NOPE", "lat": "56.5", "lon": "10.05"}}
    for key, fields in posts.items():
        response = client.post("/meld-utrygt-sted/",
                               {**REPORT, "idempotency_key": key, **fields})
        assert response.status_code == 302, key
    stored = dict(Finding.objects.values_list("idempotency_key", "area_code"))
    assert stored == {"citizen:forged": "", "citizen:unplaced": "K1",
                      "citizen:inside K2": "K2", "citizen:outside every area": "K1",
                      "citizen:outside, forged": ""}


@pytest.mark.django_db
def test_the_public_sees_only_public_positions() -> None:
    w = walk(area_code="K1")
    hidden = finding(w, lat=57.123456, lon=9.654321, text="PRIVATE")
    shown = finding(w, lat=57.111111, lon=9.922222, text="PUBLIC", key="p")
    shown.is_public = True
    shown.save()
    rows = area_findings("K1")["findings"]
    assert [(r["text"], r["lat"], r["lon"]) for r in rows] == [("PUBLIC", 57.1111, 9.9222)]
    assert hidden.lat is not None and "57.1234" not in repr(rows)


@pytest.mark.django_db
@override_settings(TRYG_REPORTS_PER_HOUR=2)
def test_reports_are_rate_limited_per_address() -> None:
    client = Client()
    for i in range(2):
        response = client.post("/meld-utrygt-sted/", {**REPORT, "idempotency_key": f"r{i}"},
                               REMOTE_ADDR="198.51.100.7")
        assert response.status_code == 302
    refused = client.post("/meld-utrygt-sted/", {**REPORT, "idempotency_key": "r9"},
                          REMOTE_ADDR="198.51.100.7")
    assert refused.status_code == 429
    # a forged X-Forwarded-For from an untrusted peer does not reset the count
    forged = client.post("/meld-utrygt-sted/", {**REPORT, "idempotency_key": "r10"},
                         REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert forged.status_code == 429
    other = client.post("/meld-utrygt-sted/", {**REPORT, "idempotency_key": "r11"},
                        REMOTE_ADDR="198.51.100.8")
    assert other.status_code == 302
    assert Finding.objects.count() == 3


@pytest.mark.django_db
def test_moderation_is_for_coordinators_only() -> None:
    orgs = organisations()
    people = users(orgs)
    Client().post("/meld-utrygt-sted/", REPORT)
    report = Finding.objects.get()
    partner = Client()
    partner.force_login(people["partner"])
    assert partner.get("/tryghedsvandringer/moderation/").status_code == 403
    assert partner.post(f"/tryghedsvandringer/moderation/{report.pk}/",
                        {"decision": "approve"}).status_code == 403
    coordinator = Client()
    coordinator.force_login(people["coordinator"])
    page = coordinator.get("/tryghedsvandringer/moderation/")
    assert b"reporter7@example.org" in page.content
    coordinator.post(f"/tryghedsvandringer/moderation/{report.pk}/", {"decision": "approve"})
    report.refresh_from_db()
    assert report.is_public and report.moderation == "approved"


@pytest.mark.django_db
def test_figures_per_owner_and_area() -> None:
    from tryg.walks import actions

    orgs = organisations()
    people = users(orgs)
    w = walk(area_code="K1", status="held", organiser=orgs["municipality"])
    made = [Action.objects.get(finding=finding(w, key=str(i), now=NOW)) for i in range(4)]
    deadline = dt.date(2026, 10, 10)
    for a in made:
        actions.assign(a, organisation=orgs["housing"], deadline=deadline,
                       user=people["coordinator"])
    # fixed after 2 days (on time) and after 20 days (late); one open, overdue; one open, new
    actions.move(made[0], S.FIXED, user=people["partner"], now=NOW + dt.timedelta(days=2))
    actions.move(made[1], S.FIXED, user=people["partner"], now=NOW + dt.timedelta(days=20))
    owners = {f.name: f for f in figures.per_owner(today=dt.date(2026, 11, 1))}
    housing = owners["Boligselskab W"]
    assert housing.open_findings == 2 and housing.findings == 4
    assert housing.due == 4 and housing.fixed_by_deadline == 1
    assert housing.share_fixed_by_deadline == 0.25
    assert housing.median_days_to_fix == 11.0
    assert owners["Testkommune W"].walks_held == 1
    area = figures.for_area("K1", today=dt.date(2026, 11, 1))
    assert (area.open_findings, area.walks_held, area.median_days_to_fix) == (2, 1, 11.0)
    assert figures.for_area("nowhere").findings == 0
    client = Client()
    client.force_login(people["partner"])
    page = client.get("/tryghedsvandringer/tal/")
    assert page.status_code == 200 and b"25 %" in page.content


@pytest.mark.django_db
def test_the_figures_page_is_cached_until_an_action_changes() -> None:
    from tryg.walks import actions

    orgs = organisations()
    people = users(orgs)
    w = walk(area_code="K2")
    action = Action.objects.get(finding=finding(w, key="c1"))
    actions.assign(action, organisation=orgs["police"], deadline=None,
                   user=people["coordinator"])
    first = {f.name: f.open_findings for f in figures.cached_tables()[0]}
    assert first["Politi W"] == 1
    client = Client()
    client.force_login(people["partner"])

    def police_row(language: str) -> str:
        html = client.get("/tryghedsvandringer/tal/", HTTP_ACCEPT_LANGUAGE=language
                          ).content.decode()
        row = html.split("Politi W</th>", 1)[1].split("</tr>", 1)[0]
        return row.split("<td>", 2)[1].split("</td>", 1)[0]  # open findings

    assert police_row("da") == "1"
    actions.move(action, S.FIXED, user=people["coordinator"])
    assert {f.name: f.open_findings for f in figures.cached_tables()[0]}["Politi W"] == 0
    # the page's kept rendering follows the tables: the change shows at once
    assert police_row("da") == "0"
    english = client.get("/tryghedsvandringer/tal/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Open findings" in english.content.decode()


@pytest.mark.django_db
def test_the_area_sketch_draws_public_points_only() -> None:
    from tryg.areas.models import Area
    from tryg.imports.models import ImportBatch

    batch = ImportBatch.objects.create(kind="areas", file_name="a.csv", sha256="d" * 64)
    Area.objects.create(code="K3", name="Sketch", level="kommune", import_batch=batch,
                        geometry='{"type": "Polygon", "coordinates": '
                                 '[[[9.9, 57.0], [10.0, 57.0], [10.0, 57.1], [9.9, 57.0]]]}')
    w = walk(area_code="K3")
    finding(w, lat=57.05, lon=9.95, text="hidden")
    shown = finding(w, lat=57.02, lon=9.98, text="shown", key="s")
    shown.is_public = True
    shown.save()
    sketch = area_findings("K3")["sketch"]
    assert sketch is not None and sketch.outline.startswith("M") and sketch.outline.endswith("Z")
    assert len(sketch.points) == 1
    x, y, _title = sketch.points[0]
    assert 0 < x < sketch.width and 0 < y < sketch.height


@pytest.mark.django_db
def test_report_figures_count_real_findings_and_list_open_items_only_on_request() -> None:
    from tryg.walks import actions

    orgs = organisations()
    people = users(orgs)
    w = walk(area_code="K1", status="held", organiser=orgs["municipality"])
    walk(area_code="K1", title="Planlagt")  # planned: not held
    made = [Action.objects.get(finding=finding(w, key=str(i), now=NOW,
                                               category="graffiti" if i == 3 else "lighting",
                                               text=f"ITEM-{i}"))
            for i in range(4)]
    for a in made[:3]:
        actions.assign(a, organisation=orgs["housing"], deadline=dt.date(2026, 10, 10),
                       user=people["coordinator"])
    actions.move(made[0], S.FIXED, user=people["partner"], now=NOW + dt.timedelta(days=2))
    actions.move(made[1], S.FIXED, user=people["partner"], now=NOW + dt.timedelta(days=20))
    # a citizen's report awaiting moderation is not (yet) a finding of the report
    Client().post("/meld-utrygt-sted/", REPORT)
    found = figures.report_figures(dt.date(2026, 11, 1))
    assert (found.walks_held, found.findings, found.open_count) == (1, 4, 2)
    assert found.by_category == [("Lighting", 3), ("Graffiti and vandalism", 1)]
    assert found.by_owner == [("Boligselskab W", 3), ("", 1)]
    assert (found.due, found.fixed_by_deadline, found.share_fixed_by_deadline) == (3, 1, 1 / 3)
    assert found.median_days_to_fix == 11.0
    assert found.open_items == []  # counts only, unless the details are asked for
    detailed = figures.report_figures(dt.date(2026, 11, 1), details=True)
    assert [(i.text, i.owner, i.deadline, i.overdue) for i in detailed.open_items] == [
        ("ITEM-2", "Boligselskab W", dt.date(2026, 10, 10), True), ("ITEM-3", "", None, False)]
    assert "CITIZEN-TEXT-41" not in repr(detailed)
    # approved, it counts; a duplicate counts once (as the finding it repeats)
    citizens.moderate(Finding.objects.get(source="citizen"), approve=True)
    actions.move(made[3], S.DUPLICATE, user=people["coordinator"],
                 duplicate_of=made[0].finding)
    again = figures.report_figures(dt.date(2026, 11, 1))
    assert (again.findings, again.open_count) == (4, 2)
    assert figures.report_figures(dt.date(2026, 11, 1), ["nowhere"]).findings == 0
