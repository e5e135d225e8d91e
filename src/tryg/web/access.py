"""Who may open a page: the role checks of the views, in one shape.

* not logged in: a redirect to the log-in page (which comes back afterwards);
* logged in without the right: 403;
* an object whose existence must not leak (an unpublished run, for a partner; another
  user's background job): 404, the answer to an id that does not exist.

The rules themselves are in :mod:`tryg.accounts.roles`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.cache import never_cache

from tryg.accounts import roles
from tryg.runs.models import IndexRun
from tryg.runs.published import visible_runs

M = TypeVar("M", bound=Model)
View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def logged_in(user: Any) -> bool:
    return roles.role_of(user) is not None


def require(predicate: Callable[[Any], bool]) -> Callable[[View], View]:
    """A view decorator: log-in redirect for the anonymous, 403 when ``predicate`` fails.
    The answer is never stored by a browser or a cache (``never_cache``; see also
    :mod:`tryg.web.nostore`)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not predicate(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return never_cache(wrapped)  # type: ignore[return-value]

    return decorate


def visible_run_or_404(user: Any, pk: int) -> IndexRun:
    """The run, or 404 whether it does not exist or is not for ``user``'s eyes."""
    run = visible_runs(user).filter(pk=pk).first()
    if run is None:
        raise Http404
    return run


def visible_or_404(objects: QuerySet[M], pk: int, allowed: Callable[[M], bool]) -> M:
    """The object the URL names (e.g. a background job), or 404 whether it does not exist or
    ``allowed`` refuses it: one answer, so the id's existence does not leak."""
    found = objects.filter(pk=pk).first()
    if found is None or not allowed(found):
        raise Http404
    return found
