"""URLs of a tryg site."""

from django.contrib import admin
from django.urls import include, path

from tryg.public import language

urlpatterns = [
    path("admin/", admin.site.urls),
    path("sprog/<str:code>/", language.switch, name="language"),
    path("", include("tryg.web.urls")),
]
