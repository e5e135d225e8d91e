"""The analysts' start page. The other pages are in :mod:`tryg.analysis.data_views` (stored
data), :mod:`tryg.analysis.quality_views`, :mod:`tryg.analysis.run_views` (index runs) and
:mod:`tryg.analysis.diff_views` (two runs compared)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tryg.accounts import roles
from tryg.web.access import logged_in, require


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
