"""HEAD from outside: the headers of a GET and no body, through the WSGI application itself.

Django's test client drops a HEAD answer's body on its own, so these requests go to
``tryg.site.wsgi.application`` as a WSGI server sends them. Under ``tryg serve`` (waitress,
which passes on whatever the application returns) every HEAD answer had a body: on a kept-alive
connection the client, or a proxy, read it as the start of the next answer. And the API, the
Open311 endpoints and the analysts' pages answered HEAD with 405 where GET works.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

from support.planted import Site, plant
from tryg.public.data import forget_publication

#: Addresses of every kind: a public page, the API, Open311, a download, a redirect to the
#: log-in page, an analysts' page (logged in), a 404, a 400.
URLS = ("/", "/map/", "/api/areas", "/api/results", "/open311/v2/services.json",
        "/downloads/results.csv", "/analyse/runs/", "/healthz", "/areas/NOPE/",
        "/api/results?wave=99999999999999999999")


@dataclass(frozen=True)
class Answer:
    status: str
    headers: dict[str, str]
    body: bytes


@pytest.fixture
def site() -> Iterator[Site]:
    """The planted site, with the test's database connection kept open across WSGI requests
    (as in test_fuzz_web: Django closes it when a request finishes)."""
    forget_publication()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield plant()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def call(method: str, url: str, cookie: str = "") -> Answer:
    from tryg.site.wsgi import application

    path, _, query = url.partition("?")
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path,
                               "QUERY_STRING": query, "HTTP_COOKIE": cookie}
    setup_testing_defaults(environ)
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None
                       ) -> Any:
        seen["status"], seen["headers"] = status, dict(headers)
        return lambda data: None

    result = application(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return Answer(seen["status"], seen["headers"], body)


def cookie_of(site: Site, who: str) -> str:
    client = Client()
    client.force_login(site.users[who])
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}"


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "analyst"])
def test_head_is_answered_as_get_without_a_body(site: Site, who: str) -> None:
    cookie = "" if who == "anonymous" else cookie_of(site, who)
    failures = []
    for url in URLS:
        get = call("GET", url, cookie)
        head = call("HEAD", url, cookie)
        if head.body:
            failures.append(f"{url}: HEAD answered with a body of {len(head.body)} bytes")
        if head.status != get.status:
            failures.append(f"{url}: HEAD {head.status}, GET {get.status}")
        for name in ("Content-Type", "Content-Length", "Content-Security-Policy", "Location"):
            if head.headers.get(name) != get.headers.get(name):
                failures.append(f"{url}: {name} {head.headers.get(name)!r} for HEAD, "
                                f"{get.headers.get(name)!r} for GET")
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
def test_other_methods_keep_their_bodies(site: Site) -> None:
    get = call("GET", "/")
    assert get.status.startswith("200") and b"<html" in get.body
    post = call("POST", "/api/areas")
    assert post.status.startswith("405") and post.body
