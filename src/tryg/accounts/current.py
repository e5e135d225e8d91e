"""Who is acting: the user of the current request, for the audit log.

Signals (a role changed in the admin, a group added) do not know the request; the
:class:`CurrentUserMiddleware` puts its user in a context variable for the request's
duration, and :func:`tryg.accounts.models.audit` reads it. The CLI and tests use
:func:`acting_as`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

_current: ContextVar[Any] = ContextVar("tryg_current_user", default=None)


def current_user() -> Any:
    """The acting user, or None (a command, a migration, an anonymous request)."""
    return _current.get()


@contextmanager
def acting_as(user: Any) -> Iterator[None]:
    """Attribute audit events inside the ``with`` to ``user``."""
    token = _current.set(user)
    try:
        yield
    finally:
        _current.reset(token)


class CurrentUserMiddleware:
    """Make ``request.user`` the acting user while the request is handled."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with acting_as(getattr(request, "user", None)):
            return self.get_response(request)
