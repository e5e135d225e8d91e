"""The NinjaAPI of a tryg site: public aggregates and analyst-only record-level data.

Docs: ``/api/docs`` (Swagger UI from the files django-ninja ships, served by the site; no
CDN, because ``ninja`` is an installed app) and the schema at ``/api/openapi.json``. The docs
page runs under the site's Content-Security-Policy (its scripts are files, its settings a JSON
data block), plus ``data:`` images: Swagger UI's stylesheet draws its icons from data URIs.
"""

from __future__ import annotations

from typing import Any

from csp.decorators import csp_update
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError
from ninja.openapi.schema import OpenAPISchema

from tryg import __version__
from tryg.api import analyst, public
from tryg.api.openapi import document_errors
from tryg.strategy import api as strategy_api


class TrygAPI(NinjaAPI):
    """The site's API: its schema also documents the error answers (tryg.api.openapi)."""

    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict[str, Any] | None = None) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        document_errors(schema)
        return schema


api = TrygAPI(
    title="tryg",
    version=__version__,
    description=("Areas, survey waves, measures and published results of the safety index. "
                 "Record-level data (survey answers, register records) need an analyst's "
                 "session."),
    urls_namespace="api",
    docs_decorator=csp_update({"img-src": ["data:"]}),
)
api.add_router("", public.router)
api.add_router("", analyst.router)
api.add_router("", strategy_api.router)


@api.exception_handler(ValidationError)
def bad_parameters(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """A parameter that does not fit the schema: 400, with what is wrong (ninja says 422)."""
    return api.create_response(request, {"detail": exc.errors}, status=400)
