"""Views: thin. They call services and render templates; no statistics are computed here.

The analysts' pages are in :mod:`tryg.web.data_views` (stored data) and
:mod:`tryg.web.run_views` (index runs); who may see what is decided in
:mod:`tryg.accounts.roles` and enforced by :mod:`tryg.web.access`.
"""

from __future__ import annotations

from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from tryg.accounts import roles
from tryg.web.access import logged_in, require


def healthz(request: HttpRequest) -> HttpResponse:
    """Answers "ok" while the site is up: for load balancers, and the baseline of
    bench/web_load.py.

    It reads nothing (no database, no data), so it measures the server and Django alone.
    """
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


@require(logged_in)
def analyse_home(request: HttpRequest) -> HttpResponse:
    """The start page of the logged-in: links to what the role may open."""
    user = request.user
    return render(request, "tryg/analyse/home.html", {
        "microdata": roles.can_see_microdata(user),
        "import": roles.can_import(user),
        "unpublished": roles.can_see_unpublished(user),
        "accounts": roles.can_manage_accounts(user),
        "report": roles.can_build_report(user),
    })


class StaffLoginView(LoginView):
    """Log-in; without a ``next``, staff (analysts, coordinators, administrators) land on
    the analysts' start page, everybody else on the public front page."""

    def get_default_redirect_url(self) -> str:
        if roles.can_see_unpublished(self.request.user):
            return reverse("analyse:home")
        return str(super().get_default_redirect_url())
