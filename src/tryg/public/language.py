"""The language switch: a plain link (GET) that stores the visitor's choice in a cookie.

Django's own ``set_language`` wants a POST form with a CSRF token, which would put a
per-visitor token in every page's header; a link keeps the public pages identical for every
anonymous visitor, so whole pages can be cached (:mod:`tryg.public.cache`). Changing the
language is harmless, so a forged link can do no more than switch someone's language.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@require_safe
@never_cache
def switch(request: HttpRequest, code: str) -> HttpResponseRedirect:
    """Remember language ``code`` and go back to ``?next=`` (a path on this site) or home."""
    if code not in dict(settings.LANGUAGES):
        raise Http404("no such language")
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = "/"
    response = HttpResponseRedirect(target)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, code,
        max_age=settings.LANGUAGE_COOKIE_AGE, path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN, secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY, samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response
