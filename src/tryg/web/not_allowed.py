"""A page for "method not allowed" (405).

Django's ``require_POST`` and ``require_http_methods`` answer a wrong method with an empty 405
(``HttpResponseNotAllowed``): a visitor who opens a form's target address in the browser gets
a blank page. :class:`NotAllowedPageMiddleware` gives such an answer a page in the site's
layout and the visitor's language, keeping its status and its ``Allow`` header; under
``/api/`` the answer is JSON ``{"detail": ...}``, as the API's other errors (django-ninja
answers a wrong method with plain text). A page's 405 that already has a body keeps it.
The new body's ``Content-Length`` replaces the one ``CommonMiddleware`` set for the empty one
(Django's test client ignores the header; a real server and browser do not).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.loader import render_to_string
from django.utils.translation import gettext as _


class NotAllowedPageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code != 405 or not isinstance(response, HttpResponse):
            return response  # (a streamed or file answer is left as it is)
        if request.path.startswith("/api/"):
            if not response.get("Content-Type", "").startswith("application/json"):
                response.content = json.dumps({"detail": _(
                    "The method %(method)s is not allowed here; allowed: %(allowed)s.") % {
                    "method": request.method, "allowed": response.get("Allow", "")}}).encode()
                response["Content-Type"] = "application/json"
        elif not response.content:
            response.content = render_to_string("405.html", {}, request=request).encode()
            response["Content-Type"] = "text/html; charset=utf-8"
        if response.has_header("Content-Length"):
            # CommonMiddleware (inside this one) counted the empty body; a server sends what
            # the header says, so a stale 0 would cut the page off
            response["Content-Length"] = str(len(response.content))
        return response
