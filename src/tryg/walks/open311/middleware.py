"""Every error under ``/open311/v2/`` in the GeoReport v2 error format.

The endpoint's views answer their own errors so (:func:`tryg.walks.open311.views._answers`);
this middleware covers what is answered before or around them: the site's 400 for a NUL in the
path or query (:class:`tryg.web.params.BadParameterMiddleware`, which sits inside it and may
not import the walks), Django's 400 for a malformed request, a 404 for an address that is no
endpoint, a 500. Such an answer (plain text or the site's HTML page) is replaced by the error
list in the format the address asks for (``….xml``: XML, otherwise JSON), with the plain
text's message or a sentence for its status.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from tryg.walks.open311 import render

PREFIX = "/open311/v2/"
_XML = re.compile(r"\.xml$")


def _description(response: HttpResponse) -> str:
    if response["Content-Type"].startswith("text/plain"):
        text = response.content.decode("utf-8", "replace").strip()
        if text:
            return text[:500]
    if response.status_code == 404:
        return _("There is no Open311 endpoint at this address.")
    if response.status_code < 500:
        return _("The request is not valid.")
    return _("The server could not answer the request.")


class Open311ErrorsMiddleware:
    """An error answer under :data:`PREFIX` not already in the specification's format becomes
    its error list (after the locale middleware: the sentence is in the asker's language)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (response.status_code < 400 or not request.path.startswith(PREFIX)
                or getattr(response, "streaming", False)
                or response["Content-Type"] in render.CONTENT_TYPES.values()):
            return response
        fmt = "xml" if _XML.search(request.path) else "json"
        answer = render.errors(fmt, response.status_code, _description(response))
        for header in ("Allow", "Retry-After"):
            if header in response:
                answer[header] = response[header]
        return answer
