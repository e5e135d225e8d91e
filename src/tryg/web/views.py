"""The pages every visitor shares, whatever app: the health check and the log-in.

Views are thin: they call services and render templates; no statistics are computed here.
"""

from __future__ import annotations

from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from tryg.accounts import roles


def healthz(request: HttpRequest) -> HttpResponse:
    """Answers "ok" while the site is up: for load balancers, and the baseline of
    bench/web_load.py.

    It reads nothing (no database, no data), so it measures the server and Django alone.
    """
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


class StaffLoginView(LoginView):
    """Log-in; without a ``next``, staff (analysts, coordinators, administrators) land on
    the analysts' start page, everybody else on the public front page."""

    def get_default_redirect_url(self) -> str:
        if roles.can_see_unpublished(self.request.user):
            return reverse("analyse:home")
        return str(super().get_default_redirect_url())
