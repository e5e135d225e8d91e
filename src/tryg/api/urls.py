"""URLs of the JSON API (included at /api/)."""

from django.urls import path

from tryg.api.api import api

urlpatterns = [path("", api.urls)]
