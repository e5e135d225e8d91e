"""``/open311/v2/``: each endpoint as ``name.json`` and ``name.xml``."""

from django.urls import path, register_converter

from tryg.walks.open311 import views


class FormatConverter:
    regex = "json|xml"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FormatConverter, "open311_format")

app_name = "open311"

urlpatterns = [
    path("discovery.<open311_format:format>", views.discovery, name="discovery"),
    path("services.<open311_format:format>", views.services, name="services"),
    path("services/<str:service_code>.<open311_format:format>", views.service_definition,
         name="service"),
    path("requests.<open311_format:format>", views.requests, name="requests"),
    path("requests/<str:request_id>.<open311_format:format>", views.request_detail,
         name="request"),
    path("tokens/<str:token>.<open311_format:format>", views.token, name="token"),
]
