"""The public pages' fast path: an anonymous visitor's repeated request answered from the page
cache before the expensive middlewares run.

A cached public page (:func:`tryg.public.cache.cached_response`) still went through every
middleware: the session, the locale, CSRF, authentication, messages, axes and the
Content-Security-Policy (which django-csp builds anew for every response): 60–70 % of the
application's CPU time for such a request (bench/results/web_scale.md).
:class:`PublicPageMiddleware` stands right after the proxy, security and static-file
middlewares. On the way out it remembers, in this process's own memory, what the rest of the
stack answered to a request that ended as a whole anonymous page from the page cache: the
headers every middleware set (CSP, ``X-Frame-Options``, ``Vary``, ``Content-Language``,
``ETag``, ``Content-Length``) and the key of the page's entry (in the ``answers`` cache: this
process's memory, apart from the pages so that these small entries never push a rendered page
out). The next request that would get the same answer gets it at once: same headers, same body
(the entry's), 0 database queries.

"The same answer" is keyed by everything the answer depends on: the publication (its key, read
as the page cache reads it, so a new publication, seen by every server at once through the
publication generation, changes every key), the language the locale middleware would choose
(cookie, Accept-Language), http or https, whether the client accepts gzip, and the path and
query string exactly as sent. Only requests that can be anonymous pages take it: GET and HEAD
of a public page's address (the ``public`` URL namespace and the front page; the API and every
other address never) without a session or message cookie, for an allowed host. Anything else,
and every miss, goes through the whole stack as before; a logged-in user never gets a stored
page.

A request whose ``If-None-Match`` names the page's ETag is answered ``304 Not Modified``
(with the page's headers, without its body and its content headers), whichever way the page
came.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import BaseCache, InvalidCacheBackendError, caches
from django.core.exceptions import DisallowedHost
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotModified
from django.urls import Resolver404, get_urlconf, resolve
from django.utils import translation
from django.utils.http import parse_etags

from tryg.public.cache import (
    PAGE_KEY_ATTRIBUTE,
    PREFIX,
    TIMEOUT,
    accepts_gzip,
    is_anonymous_visit,
    local_cache,
    stored,
)
from tryg.public.data import latest_publication

#: How many addresses :func:`is_page_path` remembers (then it starts again).
REMEMBERED_PATHS = 10_000
_page_paths: dict[tuple[str | None, str], bool] = {}
#: Headers of a page that describe its body, left out of a 304 (RFC 9110, 15.4.5).
BODY_HEADERS = frozenset({"content-type", "content-length", "content-encoding",
                          "content-language"})


@dataclass(frozen=True)
class Answer:
    """What the stack answered to a request: the page entry's key, which representation
    (gzip or not) with which ETag, and every header the middlewares set."""

    page_key: str
    gzipped: bool
    etag: str
    headers: tuple[tuple[str, str], ...]

    def response(self) -> HttpResponse | None:
        """The answer again, or None when the page's entry is gone or is not the one the
        headers were made for (the request then takes the whole stack)."""
        entry = stored(self.page_key)
        if entry is None:
            return None
        content, etag = entry.body(self.gzipped)
        if etag != self.etag:
            return None
        response = HttpResponse(content)
        for name, value in self.headers:
            response[name] = value
        setattr(response, PAGE_KEY_ATTRIBUTE, self.page_key)
        return response


def answers() -> BaseCache:
    """Where answers are kept: the ``answers`` cache, else this process's own cache."""
    return caches["answers"] if "answers" in settings.CACHES else local_cache()


def is_page_path(path_info: str) -> bool:
    """Whether ``path_info`` is the address of a public page (the front page or one in the
    ``public`` URL namespace), resolved once per address and process."""
    key = (get_urlconf(), path_info)
    known = _page_paths.get(key)
    if known is None:
        try:
            match = resolve(path_info)
        except Resolver404:
            known = False
        else:
            known = match.url_name == "home" or "public" in match.namespaces
        if len(_page_paths) >= REMEMBERED_PATHS:
            _page_paths.clear()
        _page_paths[key] = known
    return known


@receiver(setting_changed)
def forget_answers(*, setting: str, **_: object) -> None:
    """A setting changed in a running process (only tests do that; a deployment restarts, which
    empties this per-process cache): the answers given under the old settings are not given
    again. (A change of CACHES makes new caches of its own.)"""
    _page_paths.clear()
    if setting == "CACHES":
        return
    # (settings restored together with CACHES, whose own receiver has not yet made the caches
    # anew: they will be new, hence empty)
    with contextlib.suppress(InvalidCacheBackendError):
        answers().clear()


def request_key(request: HttpRequest) -> str | None:
    """The key of the answer ``request`` would get, when it may be an anonymous page; None
    when it may not (a method other than GET/HEAD, not a public page's address, a session or
    a message, a host that is not allowed, nothing published)."""
    if (request.method not in ("GET", "HEAD") or not is_anonymous_visit(request)
            or not is_page_path(request.path_info)):
        return None
    try:
        request.get_host()
    except DisallowedHost:
        return None
    publication = latest_publication()
    if publication is None:
        return None
    language = translation.get_language_from_request(request)
    what = "\n".join((request.scheme or "", "gzip" if accepts_gzip(request) else "",
                      request.path, request.META.get("QUERY_STRING", "")))
    digest = hashlib.sha256(what.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return f"{PREFIX}:answer:{publication.key}:{language}:{digest}"


def storable(response: HttpResponseBase) -> bool:
    """Whether an answer is a whole anonymous page that may be given again as it is."""
    if getattr(response, PAGE_KEY_ATTRIBUTE, None) is None:
        return False
    cache_control = response.get("Cache-Control", "")
    return (response.status_code == 200 and not response.streaming and not response.cookies
            and "private" not in cache_control and "no-store" not in cache_control)


def not_modified(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """304 when the request's If-None-Match names the page's ETag (weak comparison, as for
    GET), else the page."""
    etag = response.get("ETag")
    wanted = request.META.get("HTTP_IF_NONE_MATCH")
    if not etag or not wanted or response.status_code != 200:
        return response
    tags = parse_etags(wanted)
    if "*" not in tags and etag.removeprefix("W/") not in {t.removeprefix("W/") for t in tags}:
        return response
    answer = HttpResponseNotModified()
    for name, value in response.items():
        if name.lower() not in BODY_HEADERS:
            answer[name] = value
    return answer


class PublicPageMiddleware:
    """The fast path (see the module docstring); in ``MIDDLEWARE`` after the proxy, security
    and static-file middlewares and before the session middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        key = request_key(request)
        if key is not None:
            found = answers().get(key)
            if isinstance(found, Answer):
                again = found.response()
                if again is not None:
                    return not_modified(request, again)
        response = self.get_response(request)
        if not storable(response):
            return response
        if key is not None:
            page_key = str(getattr(response, PAGE_KEY_ATTRIBUTE))
            encoding = response.get("Content-Encoding", "")
            answers().set(key, Answer(page_key, encoding == "gzip", response["ETag"],
                                          tuple(response.items())), TIMEOUT)
        return not_modified(request, response)
