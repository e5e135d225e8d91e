"""The Open311 GeoReport v2 endpoints: thin views over :mod:`.service`, answers via
:mod:`.render`. Every failure is answered in the specification's error format."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from tryg.bounds import control_character
from tryg.walks import citizens
from tryg.walks.open311 import keys, render, service
from tryg.walks.open311.service import Open311Error

#: The largest POST body read (a request is a few fields of text).
MAX_BODY = 64 * 1024

View = Callable[..., HttpResponse]


def _answers(*methods: str) -> Callable[[View], View]:
    """Allow ``methods`` only, and answer an :class:`Open311Error` in the asked format."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, format: str, **kwargs: Any
                    ) -> HttpResponse:
            if request.method not in methods:
                response = render.errors(format, 405, _("Method not allowed."))
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, format=format, **kwargs)
            except Open311Error as exc:
                return render.errors(format, exc.status, exc.description)

        return wrapped

    return decorate


def _param(request: HttpRequest, name: str, limit: int = 5000, *, text: bool = False) -> str:
    """Parameter ``name``; a ``text`` to be stored holds no control character (the forms'
    rule, :func:`tryg.bounds.control_character`)."""
    source = request.POST if request.method == "POST" else request.GET
    value = source.get(name, "")
    if "\x00" in value or len(value) > limit:
        raise Open311Error(400, _("The parameter %(name)s is not valid.") % {"name": name})
    found = control_character(value) if text else None
    if found is not None:
        raise Open311Error(400, _("The parameter %(name)s holds a control character "
                                  "(%(character)s), which cannot be stored.")
                           % {"name": name, "character": found})
    return value


@_answers("GET")
def discovery(request: HttpRequest, format: str) -> HttpResponse:
    url = request.build_absolute_uri(reverse("open311:discovery", args=["xml"]))
    return render.respond(format, "discovery",
                          service.discovery(url.rsplit("/", 1)[0] + "/"))


@_answers("GET")
def services(request: HttpRequest, format: str) -> HttpResponse:
    return render.respond(format, "services", service.services())


@_answers("GET")
def service_definition(request: HttpRequest, service_code: str, format: str) -> HttpResponse:
    return render.respond(format, "service_definition",
                          service.service_definition(service_code))


@_answers("GET")
def request_detail(request: HttpRequest, request_id: str, format: str) -> HttpResponse:
    return render.respond(format, "service_requests", service.request(request_id))


@_answers("GET")
def token(request: HttpRequest, token: str, format: str) -> HttpResponse:
    return render.respond(format, "service_requests", service.token(token))


@csrf_exempt  # an API for other systems: authenticated by its api_key, never by a cookie
@_answers("GET", "POST")
def requests(request: HttpRequest, format: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, format)
    query = service.RequestQuery(**{name: _param(request, name, 2000) for name in (
        "service_request_id", "service_code", "start_date", "end_date", "status")})
    return render.respond(format, "service_requests",
                          service.requests(query, now=timezone.now()))


def _create(request: HttpRequest, format: str) -> HttpResponse:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = MAX_BODY + 1
    if length > MAX_BODY:
        raise Open311Error(413, _("The request is larger than %(n)d bytes.") % {"n": MAX_BODY})
    given = _param(request, "api_key", 200)
    if not given:
        raise Open311Error(400, _("api_key is required to create a request."))
    key = keys.check(given)
    if key is None:
        raise Open311Error(403, _("Invalid api_key received: cannot create the request."))
    if not citizens.allow(f"key{key.pk}", bucket="open311",
                          limit=service.posts_per_hour()):
        raise Open311Error(429, _("Too many requests from this key; try again later."))
    attributes = {name[len("attribute["):-1]: _param(request, name, 100)
                  for name in request.POST if name.startswith("attribute[")
                  and name.endswith("]")}
    data = service.NewRequest(
        attributes=attributes,
        **{name: _param(request, name) for name in ("service_code", "lat", "long")},
        **{name: _param(request, name, text=True) for name in (
            "address_string", "description", "email", "first_name", "last_name")})
    return render.respond(format, "service_requests", service.create(data, key))
