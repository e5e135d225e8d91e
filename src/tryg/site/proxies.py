"""Requests that come through a reverse proxy (``TRYG_TRUSTED_PROXIES``).

A reverse proxy (nginx) ends TLS and passes each request on with headers of its own:
``X-Forwarded-For`` (the address it got the request from, appended to whatever the client
sent) and ``X-Forwarded-Proto: https``. Anyone can send these headers, so they are believed
only from the proxies named in ``TRYG_TRUSTED_PROXIES``, judged by the address of the
connection itself (``REMOTE_ADDR``), which a client cannot forge:

* :class:`TrustedProxyMiddleware` (first in ``MIDDLEWARE``) removes every forwarding header from
  a request whose peer is not a trusted proxy. Django's ``SECURE_PROXY_SSL_HEADER`` then reads
  ``X-Forwarded-Proto`` from trusted proxies only, under waitress, gunicorn or any WSGI server
  (gunicorn passes the header on from every peer; ``--forwarded-allow-ips`` only decides its
  own ``wsgi.url_scheme``).
* :func:`client_ip` (django-axes' ``AXES_CLIENT_IP_CALLABLE``) is the client's address: the
  peer's, unless the peer is a trusted proxy; then ``X-Forwarded-For`` is read from the right,
  skipping trusted proxies, and the first address that is not one is the client's. Entries
  further left were written by the client itself and are ignored.

``REMOTE_ADDR`` itself is left as the server set it (the proxy's address).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from tryg.site.config import Network

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Request headers (as WSGI environ keys) only a trusted proxy may set.
FORWARDING_HEADERS = ("HTTP_FORWARDED", "HTTP_X_REAL_IP")
FORWARDING_PREFIX = "HTTP_X_FORWARDED_"


def parse_address(text: str) -> Address | None:
    """The IP address in one entry of X-Forwarded-For (or REMOTE_ADDR), or None.

    Accepts ``1.2.3.4``, ``1.2.3.4:5678``, ``2001:db8::1``, ``[2001:db8::1]:5678`` and quoted
    forms; drops an IPv6 zone (``%eth0``); an IPv4-mapped IPv6 address (``::ffff:1.2.3.4``, a
    dual-stack socket's view of an IPv4 peer) is the IPv4 address.
    """
    text = text.strip().strip('"').strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        text = text[1:end]
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.partition(":")[0]
    text = text.partition("%")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(address: str | Address | None, networks: Sequence[Network]) -> bool:
    """Whether ``address`` is in one of the trusted networks (never, if it is no address)."""
    if not networks or address is None:
        return False
    parsed = parse_address(address) if isinstance(address, str) else address
    return parsed is not None and any(parsed in network for network in networks)


def client_address(remote_addr: str, forwarded_for: str | None,
                   networks: Sequence[Network]) -> str:
    """The client's address, from the connection's peer and its X-Forwarded-For header.

    Each proxy appends the address it got the request from, so the header is read from the
    right: while the address is a trusted proxy, the one to its left is believed too. The first
    untrusted address is the client. An entry that is not an address stops the walk at the
    last address vouched for (a proxy's), as does a header with only trusted proxies in it.
    """
    if not forwarded_for or not is_trusted(remote_addr, networks):
        return remote_addr
    client = remote_addr
    for entry in reversed(forwarded_for.split(",")):
        address = parse_address(entry)
        if address is None:
            break
        client = str(address)
        if not is_trusted(address, networks):
            break
    return client


def trusted_proxies() -> tuple[Network, ...]:
    networks: tuple[Network, ...] = settings.TRYG_TRUSTED_PROXIES
    return networks


def client_ip(request: HttpRequest) -> str:
    """The client's address for django-axes (``AXES_CLIENT_IP_CALLABLE``)."""
    return client_address(request.META.get("REMOTE_ADDR", ""),
                          request.META.get("HTTP_X_FORWARDED_FOR"), trusted_proxies())


def is_forwarding_header(key: str) -> bool:
    return key.startswith(FORWARDING_PREFIX) or key in FORWARDING_HEADERS


class TrustedProxyMiddleware:
    """Drop the forwarding headers of requests that do not come from a trusted proxy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not is_trusted(request.META.get("REMOTE_ADDR"), trusted_proxies()):
            for key in [k for k in request.META if is_forwarding_header(k)]:
                del request.META[key]
        return self.get_response(request)
