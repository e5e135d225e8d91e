"""Analysts' pages: stored data, index runs, publication."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
