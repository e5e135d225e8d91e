"""``Cache-Control: no-store, private`` on every answer that may hold what not everyone may see.

Record-level data (survey answers, register records) and unpublished results are shown only to
logged-in users, on the analysts' pages, the analysts' API and the admin. A browser or a proxy
must not keep such a page: no back-button copy on a shared computer, nothing in a shared
cache. :class:`NoStoreMiddleware` marks, with Django's ``add_never_cache_headers``
(``max-age=0, no-cache, no-store, must-revalidate, private``):

* every answer to a logged-in user (their pages carry their name, and may carry data), and
* every answer outside the public set below, whoever asks: private is the default, so a page
  added later is private until it is listed here.

The public set is what an anonymous visitor sees alike (the public pages, their downloads and
the public API): those answers keep their headers as they are (see :mod:`tryg.public.cache`).
Static files never reach this middleware (whitenoise answers them first).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers

#: URL namespaces whose every page is public.
PUBLIC_NAMESPACES: frozenset[str] = frozenset({"public"})
#: Public views by URL name (the public API: one name per endpoint of tryg.api.public, and
#: its schema and docs).
PUBLIC_VIEWS: frozenset[str] = frozenset({
    "home", "healthz",
    "api:areas", "api:waves", "api:measures", "api:results", "api:runs",
    "api:drivers", "api:area_problems",
    "api:openapi-json", "api:openapi-view",
})


def is_public(request: HttpRequest) -> bool:
    """Whether the request went to a page of the public set."""
    match = request.resolver_match
    if match is None:  # not resolved (404 before any view): nothing to keep either
        return False
    return match.view_name in PUBLIC_VIEWS or bool(PUBLIC_NAMESPACES & set(match.namespaces))


def logged_in(request: HttpRequest) -> bool:
    """Whether the request is a logged-in user's. Without a session cookie nobody is logged in:
    the session is then not read at all, so an anonymous public page gets no ``Vary: Cookie``
    it did not have."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class NoStoreMiddleware:
    """Adds the no-store headers (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if logged_in(request) or not is_public(request):
            add_never_cache_headers(response)
        return response
