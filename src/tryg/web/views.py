"""Views: thin. They call services and render templates; no statistics are computed here."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tryg.runs.models import IndexRun


def home(request: HttpRequest) -> HttpResponse:
    run = IndexRun.objects.filter(published_at__isnull=False).order_by("-published_at").first()
    return render(request, "tryg/home.html", {"run": run})
