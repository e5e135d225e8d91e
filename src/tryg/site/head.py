"""HEAD answered as a GET without its body, whatever the WSGI server.

A HEAD request gets the status and headers a GET would get and no body (RFC 9110, 9.3.2).
Django leaves dropping the body to the server: gunicorn does, waitress (``tryg serve``) sends
what the application returns, and a client or proxy keeping the connection open then reads
that body as the start of the next answer. The views, for their part, refused HEAD wherever
they allow GET only (``require_GET``, django-ninja's API, Open311): 405 for a monitor's check.
So the request goes through the site as a GET (a safe method like HEAD, so nothing else
changes; nginx's proxy cache in front does the same, ``proxy_cache_convert_head``) and the
body is dropped here; ``Content-Length`` stays the GET's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _NoBody:
    """An answer's body replaced by nothing; closing it closes the answer (Django's
    ``request_finished`` comes from that)."""

    def __init__(self, answer: Iterable[bytes]) -> None:
        self._answer = answer

    def __iter__(self) -> Iterator[bytes]:
        return iter(())

    def close(self) -> None:
        close = getattr(self._answer, "close", None)
        if close is not None:
            close()


def head_as_get(app: WSGIApp) -> WSGIApp:
    """``app`` answering HEAD as GET without the body (Django's handler calls
    ``start_response`` before it returns, so the headers are out before the body is dropped)."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "HEAD":
            return app(environ, start_response)
        return _NoBody(app({**environ, "REQUEST_METHOD": "GET"}, start_response))

    return wrapped
