"""Rendered public pages, cached per publication, language and page.

Two levels, both in Django's cache and both keyed by the published run (its id and
publication time), the language, the page and the parameters the page reads, so publishing
or withdrawing a run changes every key at once and nothing has to be invalidated:

* **whole responses** for anonymous visitors: their pages hold nothing personal (the language
  switch is a link, not a form with a CSRF token), so the HTML is the same for all of them and
  is stored as bytes, once as it is and once gzip-compressed for the clients that accept it
  (every browser: an area page of ~300 KiB, mostly SVG, travels as ~30 KiB). Compressing
  once when the page is stored costs a few milliseconds; compressing per request, as
  Django's GZipMiddleware would, costs them on every request. This is what most requests get.
* **page bodies** (:class:`Fragment`) for logged-in users, whose header shows their name and a
  log-out form: the body is cached and only the site's frame is rendered per request. (An
  anonymous visit does not store the body as well: each page takes one cache entry, not two.)

A request carrying a session or a pending message is never answered from the whole-response
cache, so nothing personal can be stored or served from it.

Each stored response carries a strong ``ETag`` per representation (plain and gzip), made once
when it is stored; :mod:`tryg.public.fast` answers a matching ``If-None-Match`` with 304 and
answers repeated anonymous requests from these entries before the session, locale, CSRF,
authentication, message, axes and CSP middlewares run.

With a shared cache (Redis, ``TRYG_CACHE_URL``) each process also keeps the entries it has read
in its own memory (the ``local`` cache): an entry's key names the publication, so an entry
never changes and a copy can never be stale; a new publication is new keys
(:mod:`tryg.public.generation` tells every process at once). A popular page then costs no
round trip to Redis, only the generation's small read.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import BaseCache, cache, caches
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.text import compress_string
from django.utils.translation import get_language

from tryg.public.data import Publication, Published, published

#: Seconds a rendered page is kept (a new publication changes the key anyway).
TIMEOUT = 24 * 3600
PREFIX = "tryg-public-page-2"  # -2: entries carry their ETags
#: The attribute a whole anonymous response from this cache carries: its entry's key
#: (:mod:`tryg.public.fast` reads it on the way out).
PAGE_KEY_ATTRIBUTE = "tryg_page_key"
#: The attribute of a rendered response whose fragment may not be kept (``Fragment.keep``).
NOT_KEPT_ATTRIBUTE = "tryg_not_kept"
_GZIP = re.compile(r"\bgzip\b")


@dataclass(frozen=True)
class Fragment:
    """A rendered page body and its title. ``keep``: whether the page may be kept under its
    address's key: not when the address asked for a choice the page does not have (a made-up
    ``?measure=``) and the page shows its default instead, so that made-up values make no
    new cache entries (each would push a real page out)."""

    title: str
    body: str
    keep: bool = True


@dataclass(frozen=True)
class StoredResponse:
    """A whole anonymous response: body, content type and the ETag of each representation
    (headers such as ``Vary`` and ``Content-Language`` are added again by the middleware on
    the way out)."""

    content: bytes
    gzipped: bytes
    content_type: str
    etag: str
    gzipped_etag: str

    @classmethod
    def of(cls, content: bytes, content_type: str) -> StoredResponse:
        """The entry of a rendered page: compressed and tagged once, here."""
        gzipped = compress_string(content)
        return cls(content, gzipped, content_type, _etag(content), _etag(gzipped))

    def body(self, gzipped: bool) -> tuple[bytes, str]:
        """The representation's bytes and ETag."""
        return (self.gzipped, self.gzipped_etag) if gzipped else (self.content, self.etag)

    def response(self, request: HttpRequest, key: str = "") -> HttpResponse:
        """The stored page, compressed if the client accepts gzip; ``key`` (this entry's)
        marks it as a whole anonymous page (:data:`PAGE_KEY_ATTRIBUTE`)."""
        gzipped = accepts_gzip(request)
        content, etag = self.body(gzipped)
        answer = HttpResponse(content, content_type=self.content_type)
        if gzipped:
            answer["Content-Encoding"] = "gzip"
        answer["ETag"] = etag
        patch_vary_headers(answer, ("Accept-Encoding",))
        if key:
            setattr(answer, PAGE_KEY_ATTRIBUTE, key)
        return answer


def _etag(content: bytes) -> str:
    """A strong entity tag: the first 128 bits of the body's SHA-256, quoted."""
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def accepts_gzip(request: HttpRequest) -> bool:
    """Whether the request's Accept-Encoding admits gzip (as Django's GZipMiddleware reads it)."""
    return bool(_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")))


def local_cache() -> BaseCache:
    """This process's own cache: ``local`` beside a shared cache, else the default (which is
    then in this process's memory)."""
    return caches["local"] if "local" in settings.CACHES else cache


def _get(key: str) -> object:
    """An entry: from this process's memory, else from the (shared) cache, kept locally."""
    if "local" not in settings.CACHES:
        return cache.get(key)
    local = caches["local"]
    found = local.get(key)
    if found is None:
        found = cache.get(key)
        if found is not None:
            local.set(key, found, TIMEOUT)
    return found


def stored(key: str) -> StoredResponse | None:
    """The whole response stored under ``key`` (:func:`cached_response`), if any."""
    found = _get(key)
    return found if isinstance(found, StoredResponse) else None


def _set(key: str, value: object) -> None:
    cache.set(key, value, TIMEOUT)
    if "local" in settings.CACHES:
        caches["local"].set(key, value, TIMEOUT)


def page_key(publication: Publication, language: str, page: str,
             params: Mapping[str, str], kind: str = "fragment") -> str:
    """The cache key of a page: publication, language, page name and the parameters the page
    reads (sorted; other query parameters do not make new entries)."""
    query = "&".join(f"{k}={params[k]}" for k in sorted(params))
    digest = hashlib.sha256(f"{kind}:{page}?{query}".encode()).hexdigest()[:32]
    return f"{PREFIX}:{publication.key}:{language}:{digest}"


def cached_fragment(publication: Publication, page: str, params: Mapping[str, str],
                    render: Callable[[Published], Fragment]) -> Fragment:
    """The page's fragment from the cache, or rendered from the run's public data and kept.
    ``render`` may raise Http404 (nothing is cached then)."""
    key = page_key(publication, get_language() or "da", page, params)
    found = _get(key)
    if isinstance(found, Fragment):
        return found
    fragment = render(published(publication.run()))
    if fragment.keep:
        _set(key, fragment)
    return fragment


def is_anonymous_visit(request: HttpRequest) -> bool:
    """True when the request carries no session and no pending message: the visitor sees
    exactly what every other anonymous visitor sees."""
    cookies = request.COOKIES
    return (settings.SESSION_COOKIE_NAME not in cookies
            and CookieStorage.cookie_name not in cookies)


def cached_response(request: HttpRequest, publication: Publication, page: str,
                    params: Mapping[str, str],
                    respond: Callable[[], HttpResponse]) -> HttpResponse:
    """An anonymous visitor's whole page from the cache, or ``respond()`` kept when it is a
    plain 200 (errors and redirects are not cached)."""
    key = page_key(publication, get_language() or "da", page, params, kind="response")
    found = stored(key)
    if found is not None:
        return found.response(request, key)
    response = respond()
    if (response.status_code != 200 or response.cookies or response.streaming
            or getattr(response, NOT_KEPT_ATTRIBUTE, False)):
        return response
    entry = StoredResponse.of(response.content, response["Content-Type"])
    _set(key, entry)
    return entry.response(request, key)
