"""Response headers: no-store where a page may hold what not everyone may see, and the
Content-Security-Policy on every page.

The URLs are the permission walker's (tests/site/test_permissions.py): every pattern of the
site's resolver, filled from the planted data, so a page added later is checked too.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from django.http import HttpResponse
from test_permissions import _client, _request, _sensitive, _with_queries, targets

from support.planted import Site, client_as, plant
from tryg.api.public import router as public_router

PUBLIC_PAGES = ("/", "/map/", "/methods/", "/downloads/", "/downloads/results.csv",
                "/api/areas", "/api/waves", "/api/measures", "/api/results", "/api/runs",
                "/api/drivers", "/api/area-problems",
                "/api/docs", "/api/openapi.json", "/healthz")


def public(url: str) -> bool:
    """Whether ``url`` is in the public set (the same for every anonymous visitor)."""
    path = urlparse(url).path
    return path in PUBLIC_PAGES or path == "/search/" or path.startswith(("/areas/", "/downloads/"))


def no_store(response: HttpResponse) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


@pytest.fixture
def site() -> Site:
    return plant()


@pytest.mark.django_db
def test_every_answer_to_a_logged_in_user_and_every_sensitive_url_is_no_store(
        site: Site) -> None:
    found, _ = targets(site)
    sensitive = _sensitive(site, found)
    assert "/api/register/records" in sensitive  # else this proves nothing
    # a URL with record-level data or unpublished results is private, except the public
    # lists that show analysts more (/api/runs, /api/results?run=...): the permission tests
    # check that the public gets nothing unpublished from them
    assert {u for u in sensitive if public(u)} <= {
        u for u in sensitive if urlparse(u).path in ("/api/runs", "/api/results")}
    failures: list[str] = []
    for who in ("admin", "analyst", "coordinator", "partner", "walker", "anonymous"):
        user = site.users.get(who)
        client = _client(user)
        for target in found:
            for url in _with_queries(site, target.url):
                response = _request(client, user, "get", url)
                private = user is not None or not public(url)
                if private and not no_store(response):
                    failures.append(f"{who} GET {url} ({response.status_code}): "
                                    f"Cache-Control {response.get('Cache-Control')!r}")
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
def test_public_pages_for_anonymous_visitors_keep_their_headers(site: Site) -> None:
    client = client_as(site, "anonymous")
    for url in PUBLIC_PAGES:
        for _ in range(2):  # rendered, then from the page cache
            response = client.get(url)
            assert response.status_code == 200, url
            assert "Cache-Control" not in response, (url, response["Cache-Control"])
    # every endpoint of the public API is in the public set
    paths = {f"/api{path}" for path in public_router.path_operations}
    assert paths <= set(PUBLIC_PAGES), paths - set(PUBLIC_PAGES)


@pytest.mark.django_db
def test_the_content_security_policy_is_on_every_page(site: Site) -> None:
    found, _ = targets(site)
    expected = {"default-src 'self'", "script-src 'self'", "style-src 'self'",
                "img-src 'self'", "object-src 'none'", "base-uri 'self'",
                "frame-ancestors 'none'", "form-action 'self'"}
    for who in ("anonymous", "admin"):
        client = _client(site.users.get(who))
        for target in found:
            response = client.get(target.url)
            if not response.get("Content-Type", "").startswith("text/html"):
                continue
            policy = {d.strip() for d in response["Content-Security-Policy"].split(";")}
            if target.url == "/api/docs":  # Swagger UI's icons are data: URIs
                assert "img-src 'self' data:" in policy
                policy = (policy - {"img-src 'self' data:"}) | {"img-src 'self'"}
            assert policy == expected, (who, target.url, policy)
            assert "unsafe" not in response["Content-Security-Policy"]
