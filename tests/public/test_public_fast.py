"""The public pages' fast path (tryg.public.fast): an anonymous visitor's repeated request is
answered before the session, locale, CSRF, authentication, messages, axes and CSP middlewares,
with the same headers and body as the whole stack gives, without a database query; a
logged-in user never gets such an answer; a publication (here, or on another server through
the shared cache's publication generation, real Redis) changes what is served at once.

Which way an answer came is read from the request the test client made: the session
middleware gives every request that goes through it a ``session``; the fast path answers
before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache, caches
from django.test import Client, RequestFactory, override_settings

from jobs.ops_sites import redis_url
from support.pages import page_html
from support.planted import PUBLIC_ESTIMATE, Site, client_as, float_forms, plant
from tryg.public import generation
from tryg.public.data import forget_publication
from tryg.public.fast import answers, request_key
from tryg.runs.models import IndexRun, ResultRow
from tryg.runs.services import publish, unpublish

__all__ = ["redis_url"]

AREA = "/areas/K999/"
PAGES = ("/", AREA, "/map/?measure=tryghed_trygge", "/methods/")


@pytest.fixture
def site() -> Iterator[Site]:
    cache.clear()
    answers().clear()
    forget_publication()
    # one reading of the publication per process and hour, as a busy site has (the site's
    # one second would make the reading depend on how fast the test runs)
    with override_settings(TRYG_PUBLICATION_RECHECK=3600):
        yield plant()
    forget_publication()


def _fast(response: Any) -> bool:
    """Whether the answer came from the fast path (before the session middleware)."""
    return not hasattr(response.wsgi_request, "session")


def _headers(response: Any) -> dict[str, str]:
    return dict(response.items())


def _forget_answer(path: str, headers: dict[str, str] | None = None) -> None:
    """Drop the remembered answer to this request (the page's own entry stays): the next
    such request takes the whole stack and is answered from the page cache."""
    key = request_key(RequestFactory().get(path, headers=headers))
    assert key is not None
    answers().delete(key)


@pytest.mark.django_db
@pytest.mark.parametrize("headers", [
    {}, {"Accept-Encoding": "gzip, deflate, br"},
    {"Accept-Language": "da", "Accept-Encoding": "gzip"},
], ids=["plain", "gzip", "danish-gzip"])
def test_a_repeated_anonymous_page_comes_from_the_fast_path_with_the_same_headers_and_body(
        site: Site, django_assert_num_queries: Any, headers: dict[str, str]) -> None:
    for path in PAGES:
        rendered = Client(headers=headers).get(path)
        assert not _fast(rendered)
        with django_assert_num_queries(0):
            fast = Client(headers=headers).get(path)
        assert _fast(fast), path
        _forget_answer(path, headers)
        with django_assert_num_queries(0):
            from_cache = Client(headers=headers).get(path)
        assert not _fast(from_cache)
        for other in (fast, from_cache):
            assert other.status_code == rendered.status_code == 200
            assert _headers(other) == _headers(rendered), path
            assert other.content == rendered.content, path
        seen = _headers(fast)
        assert {"Content-Security-Policy", "X-Frame-Options", "Content-Language", "ETag",
                "X-Content-Type-Options", "Referrer-Policy"} <= set(seen)
        assert "Cookie" not in seen["Vary"] and "Accept-Language" in seen["Vary"]
        assert "Cache-Control" not in seen and not fast.cookies
    assert '<html lang="da">' in page_html(Client(HTTP_ACCEPT_LANGUAGE="da").get("/"))
    assert '<html lang="en">' in page_html(Client(HTTP_ACCEPT_LANGUAGE="en").get("/"))


@pytest.mark.django_db
def test_a_known_etag_is_answered_not_modified_the_same_either_way(site: Site) -> None:
    client = Client(HTTP_ACCEPT_ENCODING="gzip")
    first = client.get(AREA)
    plain = Client().get(AREA)
    assert first["ETag"] != plain["ETag"]  # one tag per representation
    fast = client.get(AREA, HTTP_IF_NONE_MATCH=first["ETag"])
    assert _fast(fast) and fast.status_code == 304 and fast.content == b""
    _forget_answer(AREA, {"Accept-Encoding": "gzip"})
    slow = client.get(AREA, HTTP_IF_NONE_MATCH=f'"x", W/{first["ETag"]}')
    assert not _fast(slow) and slow.status_code == 304
    assert _headers(fast) == _headers(slow)
    assert fast["ETag"] == first["ETag"] and "Accept-Encoding" in fast["Vary"]
    assert "Content-Encoding" not in fast and "Content-Security-Policy" in fast
    # another representation's tag, or none, gets the page
    assert client.get(AREA, HTTP_IF_NONE_MATCH=plain["ETag"]).status_code == 200


@pytest.mark.django_db
def test_a_logged_in_user_never_gets_the_stored_answer(site: Site) -> None:
    anonymous = Client().get(AREA)
    assert _fast(Client().get(AREA))
    analyst = client_as(site, "analyst")
    for extra in ({}, {"If-None-Match": anonymous["ETag"]}):
        mine = analyst.get(AREA, headers=extra)
        assert not _fast(mine) and mine.status_code == 200
        assert "(analyst)" in page_html(mine).split("</header>")[0]
        assert {"no-store", "private"} <= {
            d.strip() for d in mine["Cache-Control"].split(",")}
    # a message waiting for the visitor (a cookie) also takes the whole stack
    with_message = Client()
    with_message.cookies["messages"] = "x"
    assert not _fast(with_message.get(AREA))
    # and the stored answer is still the anonymous page
    again = Client().get(AREA)
    assert _fast(again) and again.content == anonymous.content
    assert "(analyst)" not in page_html(again)


@pytest.mark.django_db
def test_only_get_and_head_from_allowed_hosts_take_the_fast_path(site: Site) -> None:
    Client().get(AREA)
    head = Client().head(AREA)
    assert _fast(head) and head.status_code == 200
    assert Client().get(AREA, HTTP_HOST="evil.example").status_code == 400
    assert Client().post(AREA).status_code == 405
    assert Client().get(AREA + "?%00").status_code == 400


@pytest.mark.django_db
def test_a_publication_in_this_process_changes_the_answer_at_once(site: Site) -> None:
    first = page_html(Client().get(AREA))
    assert _fast(Client().get(AREA))
    assert any(form in first for form in float_forms(PUBLIC_ESTIMATE))
    changed = 4410.6875
    ResultRow.objects.filter(run=site.published, area_code="K999").update(estimate=changed)
    unpublish(site.published)
    publish(site.published)
    again = Client().get(AREA)
    assert not _fast(again)
    assert any(form in page_html(again) for form in float_forms(changed))
    assert _fast(Client().get(AREA))


@pytest.fixture
def shared_cache(redis_url: str) -> Iterator[None]:
    """The site's production caches: Redis (this project's test database) and each
    process's own copy beside it."""
    caches_setting = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                    "LOCATION": redis_url, "KEY_PREFIX": "tryg-test"},
        "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                  "LOCATION": "tryg-test-fast-local"},
    }
    with override_settings(CACHES=caches_setting):
        caches["local"].clear()
        answers().clear()
        forget_publication()
        yield
    forget_publication()


@pytest.mark.django_db
def test_a_publication_on_another_server_changes_the_answer_at_once(
        site: Site, shared_cache: None, django_assert_num_queries: Any) -> None:
    first = page_html(Client().get(AREA))
    with django_assert_num_queries(0):
        assert _fast(Client().get(AREA))
    # Another server publishes: the database changes (no signal reaches this process) and
    # that server moves the publication generation in Redis once its transaction commits.
    changed = 4410.6875
    ResultRow.objects.filter(run=site.published, area_code="K999").update(estimate=changed)
    published_at = site.published.published_at
    assert published_at is not None
    IndexRun.objects.filter(pk=site.published.pk).update(
        published_at=published_at.replace(microsecond=(published_at.microsecond + 1) % 10**6))
    assert _fast(Client().get(AREA))  # the generation has not moved yet
    generation._increment()
    again = page_html(Client().get(AREA))
    assert again != first and any(form in again for form in float_forms(changed))
    assert _fast(Client().get(AREA))
