"""The public pages' whole-page cache, the language link and the publication recheck.

Anonymous visitors get whole pages from the cache (tryg.public.cache), gzip-compressed when
they accept it; logged-in users never share those pages; a new publication changes what is
served at once in this process (and within TRYG_PUBLICATION_RECHECK seconds elsewhere).
"""

from __future__ import annotations

import gzip

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone

from support.pages import page_html
from support.planted import PUBLIC_ESTIMATE, Site, client_as, float_forms, plant
from tryg.public import data
from tryg.public.data import forget_publication
from tryg.runs.models import IndexRun, ResultRow
from tryg.runs.services import publish, unpublish

AREA = "/areas/K999/"


@pytest.fixture
def site() -> Site:
    cache.clear()
    forget_publication()
    return plant()


def _shows_public_estimate(html: str) -> bool:
    return any(form in html for form in float_forms(PUBLIC_ESTIMATE))


@pytest.mark.django_db
def test_an_anonymous_page_is_served_from_the_cache_until_the_next_publication(
        site: Site) -> None:
    first = page_html(Client().get(AREA))
    assert _shows_public_estimate(first)
    # A stored result changes without a new publication (nothing the site does, but it shows
    # where the page comes from): the cached page stays as it was rendered.
    changed = 4410.6875
    ResultRow.objects.filter(run=site.published, area_code="K999").update(estimate=changed)
    assert page_html(Client().get(AREA)) == first
    # Publishing again (a new publication key) serves a freshly rendered page.
    unpublish(site.published)
    publish(site.published)
    again = page_html(Client().get(AREA))
    assert not _shows_public_estimate(again)
    assert any(form in again for form in float_forms(changed))


@pytest.mark.django_db
def test_gzip_is_served_to_clients_that_accept_it_and_is_the_same_page(site: Site) -> None:
    plain = Client().get(AREA)
    packed = Client().get(AREA, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert len(packed.content) < len(plain.content)
    assert gzip.decompress(packed.content) == plain.content
    for response in (plain, packed):
        assert "Accept-Encoding" in response["Vary"]
    refused = Client().get(AREA, HTTP_ACCEPT_ENCODING="identity")
    assert "Content-Encoding" not in refused and refused.content == plain.content


@pytest.mark.django_db
def test_anonymous_pages_carry_no_token_or_cookie_and_logged_in_pages_are_never_shared(
        site: Site) -> None:
    anonymous = Client().get(AREA)
    html = page_html(anonymous)
    assert "csrfmiddlewaretoken" not in html and not anonymous.cookies
    # A logged-in analyst sees their name and the log-out form...
    analyst = page_html(client_as(site, "analyst").get(AREA))
    assert "analyst" in analyst.split("</header>")[0] and "csrfmiddlewaretoken" in analyst
    # ...which the next anonymous visitor does not get, in either order.
    cache.clear()
    page_html(client_as(site, "analyst").get(AREA))
    after = page_html(Client().get(AREA))
    assert "csrfmiddlewaretoken" not in after and "(analyst)" not in after
    assert page_html(client_as(site, "coordinator").get(AREA)).count("(coordinator)") == 1


@pytest.mark.django_db
def test_the_cache_keeps_the_languages_apart(site: Site) -> None:
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    danish = Client(HTTP_ACCEPT_LANGUAGE="da")
    assert '<html lang="en">' in page_html(english.get(AREA))
    assert '<html lang="da">' in page_html(danish.get(AREA))
    assert '<html lang="en">' in page_html(english.get(AREA))
    chosen = Client(HTTP_ACCEPT_LANGUAGE="en")
    chosen.cookies["django_language"] = "da"
    assert '<html lang="da">' in page_html(chosen.get(AREA))


@pytest.mark.django_db
def test_the_language_link_sets_the_cookie_and_returns_to_the_page(site: Site) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="da")
    page = page_html(client.get("/map/?measure=tryghed_trygge&utm_source=x"))
    # The link returns to the page with the parameters the page reads, not the others.
    assert 'href="/sprog/en/?next=/map/%3Fmeasure%3Dtryghed_trygge"' in page
    answer = client.get("/sprog/en/", {"next": "/map/?measure=tryghed_trygge"})
    assert answer.status_code == 302 and answer["Location"] == "/map/?measure=tryghed_trygge"
    cookie = answer.cookies["django_language"]
    assert cookie.value == "en" and int(cookie["max-age"]) >= 300 * 24 * 3600
    assert cookie["samesite"] == "Lax"  # as the session's and the CSRF cookies
    assert '<html lang="en">' in page_html(client.get("/map/?measure=tryghed_trygge"))
    assert "no-cache" in answer["Cache-Control"] or "max-age=0" in answer["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", ""])
def test_the_language_link_never_leaves_the_site(site: Site, target: str) -> None:
    answer = Client().get("/sprog/da/", {"next": target})
    assert answer.status_code == 302 and answer["Location"] == "/"


@pytest.mark.django_db
def test_an_unknown_language_is_not_found(site: Site) -> None:
    assert Client().get("/sprog/xx/").status_code == 404
    assert Client().post("/sprog/da/").status_code == 405


@pytest.mark.django_db
def test_a_publication_elsewhere_is_seen_within_the_recheck_interval(
        site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(data, "clock", lambda: now[0])
    with override_settings(TRYG_PUBLICATION_RECHECK=0.5):
        assert _shows_public_estimate(page_html(Client().get(AREA)))
        # Withdrawn by another process (no signal reaches this one): still served for now...
        IndexRun.objects.filter(pk=site.published.pk).update(published_at=None)
        assert _shows_public_estimate(page_html(Client().get(AREA)))
        now[0] += 0.6
        # ...and not once the interval has passed.
        gone = page_html(Client().get(AREA))
        assert not _shows_public_estimate(gone)
        # Published again through this process (a save): seen at once.
        site.published.published_at = timezone.now()
        site.published.save()
        assert _shows_public_estimate(page_html(Client().get(AREA)))


@pytest.mark.django_db
def test_made_up_choices_on_the_map_make_no_cache_entries(site: Site) -> None:
    """A map address naming a measure, wave, level or view the page does not have shows the
    default page, and keeps nothing under that address: made-up values cannot push the real
    pages out of the cache. The default page and a real choice are kept."""
    from tryg.public.cache import page_key, stored
    from tryg.public.data import latest_publication

    publication = latest_publication()
    assert publication is not None

    def kept(**params: str) -> bool:
        asked = {"measure": "", "wave": "", "level": "", "show": "", **params}
        return stored(page_key(publication, "da", "map", asked, kind="response")) is not None

    client = Client(HTTP_ACCEPT_LANGUAGE="da")
    made_up = [{"measure": "no_such_measure"}, {"wave": "1066"}, {"level": "galaxy"},
               {"show": "sideways"}]
    for params in made_up:
        response = client.get("/map/", params)
        assert response.status_code == 200
        assert not kept(**params), params
    for params in ({}, {"measure": "tryghed_trygge"}, {"show": "values"}):
        assert client.get("/map/", params).status_code == 200
        assert kept(**params), params
    # the same for a logged-in visitor's page fragments
    analyst = client_as(site, "analyst")
    assert analyst.get("/map/", {"measure": "no_such_measure"}).status_code == 200
    fragment_key = page_key(publication, "da", "map", {"measure": "no_such_measure", "wave": "",
                                                       "level": "", "show": ""})
    assert cache.get(fragment_key) is None
