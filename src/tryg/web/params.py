"""Query parameters read safely: a bad one is a 400 with a message, never a 500.

The views read ``request.GET`` through :func:`text` and :func:`whole_number`, which refuse
what the database or Python would choke on further down: NUL characters (PostgreSQL rejects
them in text parameters), numbers that are not plain ASCII digits (``"²".isdigit()`` is true,
``int("²")`` fails) and numbers too large for a database integer (SQLite's are 64-bit).

:class:`BadParameterMiddleware` answers every :class:`BadParameter` as a 400 with its message
(plain text, or JSON ``{"detail": ...}`` under ``/api/``), and refuses up front, as defence in
depth, any request whose path or query string holds a NUL character.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

#: The largest id or count a parameter may name (a PostgreSQL ``bigint`` holds it, and so
#: does SQLite's INTEGER).
MAX_INT = 2**63 - 1
#: The largest survey wave (year) a parameter may name.
MAX_YEAR = 9999
#: The longest text a parameter may hold (codes, measure ids, levels).
MAX_TEXT = 200
_DIGITS = re.compile(r"[0-9]{1,19}")


class BadParameter(BadRequest):
    """A query parameter the site cannot use (answered 400 with this message)."""


def has_nul(value: str) -> bool:
    return "\x00" in value


def text(request: HttpRequest, name: str, *, max_length: int = MAX_TEXT) -> str:
    """Query parameter ``name`` stripped ("" when absent); 400 for NUL or an overlong value."""
    value = request.GET.get(name, "").strip()
    if has_nul(value):
        raise BadParameter(_("The parameter %(name)s holds a character that is not allowed.")
                           % {"name": name})
    if len(value) > max_length:
        raise BadParameter(_("The parameter %(name)s is longer than %(max)d characters.")
                           % {"name": name, "max": max_length})
    return value


def parse_whole_number(name: str, value: str, *, lo: int = 0, hi: int = MAX_INT) -> int | None:
    """``value`` as a whole number in [lo, hi] (None when empty); 400 otherwise."""
    value = value.strip()
    if not value:
        return None
    if not _DIGITS.fullmatch(value) or not lo <= int(value) <= hi:
        raise BadParameter(_("The parameter %(name)s must be a whole number from %(lo)d to "
                             "%(hi)d.") % {"name": name, "lo": lo, "hi": hi})
    return int(value)


def whole_number(request: HttpRequest, name: str, *, lo: int = 0,
                 hi: int = MAX_INT) -> int | None:
    """Query parameter ``name`` as a whole number in [lo, hi] (None when absent or empty)."""
    return parse_whole_number(name, request.GET.get(name, ""), lo=lo, hi=hi)


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=400)
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def _nul_in_request(request: HttpRequest) -> bool:
    if has_nul(request.path) or "%00" in request.META.get("QUERY_STRING", ""):
        return True
    return any(has_nul(k) or any(has_nul(v) for v in values)
               for k, values in request.GET.lists())


class BadParameterMiddleware:
    """400 for a NUL character anywhere in the path or query, and for :class:`BadParameter`
    raised by a view (after the locale middleware, so the message is in the visitor's
    language)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _nul_in_request(request):
            return _bad_request(request, _("The address holds a character that is not "
                                           "allowed (NUL)."))
        return self.get_response(request)

    def process_exception(self, request: HttpRequest,
                          exception: Exception) -> HttpResponse | None:
        if isinstance(exception, BadParameter):
            return _bad_request(request, str(exception))
        return None
