"""Upload and import pages (analysts)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
