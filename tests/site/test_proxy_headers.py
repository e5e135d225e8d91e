"""Forwarding headers count only from TRYG_TRUSTED_PROXIES (tryg.site.proxies).

The client's address (for the log-in lock) is the connection's peer, or, when the peer is a
trusted reverse proxy, the first untrusted address in X-Forwarded-For read from the right.
X-Forwarded-Proto (https) is believed from trusted proxies only. tests/site/test_proxy.py
runs the same behind a real nginx.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from hypothesis import given
from hypothesis import strategies as st

from tryg.accounts.models import AuditEvent, Role, User
from tryg.site.config import Network, load, trusted_networks
from tryg.site.proxies import TrustedProxyMiddleware, client_address, is_trusted

PASSWORD = "correct horse battery staple 1"
NGINX = ("127.0.0.1", "::1")
LB = "10.20.0.0/16"
V6_PROXIES = "2001:db8:ff::/48"


def nets(text: str) -> tuple[Network, ...]:
    return trusted_networks(text)


# -- the setting -----------------------------------------------------------------------------


def test_trusted_proxies_are_read_as_networks() -> None:
    assert load({}).trusted_proxies == ()
    config = load({"TRYG_TRUSTED_PROXIES": " 127.0.0.1, 10.20.0.0/16 ,::1,, 2001:db8:ff::/48"})
    assert config.trusted_proxies == (
        ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.20.0.0/16"),
        ipaddress.ip_network("::1/128"), ipaddress.ip_network("2001:db8:ff::/48"))


@pytest.mark.parametrize("bad", ["*", "proxy.example", "10.20.0.5/16", "127.0.0.1:8080",
                                 "300.1.1.1"])
def test_a_bad_trusted_proxy_is_refused_by_name(bad: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"TRYG_TRUSTED_PROXIES: '{bad}' is not an IP")):
        load({"TRYG_TRUSTED_PROXIES": f"127.0.0.1,{bad}"})


# -- the client's address --------------------------------------------------------------------


@pytest.mark.parametrize(("peer", "forwarded_for", "trusted", "client"), [
    # No proxy trusted (the default): the header is the client's word, never believed.
    ("127.0.0.1", "203.0.113.7", "", "127.0.0.1"),
    # From a peer that is not a trusted proxy: the same.
    ("198.51.100.9", "203.0.113.7", "127.0.0.1", "198.51.100.9"),
    ("198.51.100.9", "127.0.0.1", "127.0.0.1", "198.51.100.9"),
    # nginx on the same host: the address it appended.
    ("127.0.0.1", "203.0.113.7", "127.0.0.1", "203.0.113.7"),
    ("127.0.0.1", None, "127.0.0.1", "127.0.0.1"),  # nginx's own request
    ("127.0.0.1", "", "127.0.0.1", "127.0.0.1"),
    # The client wrote entries of its own: they are left of the one nginx appended.
    ("127.0.0.1", "1.1.1.1, 203.0.113.7", "127.0.0.1", "203.0.113.7"),
    ("127.0.0.1", "10.20.0.5, 203.0.113.7", f"127.0.0.1,{LB}", "203.0.113.7"),
    ("127.0.0.1", "junk, 203.0.113.7", "127.0.0.1", "203.0.113.7"),
    # Two trusted hops (a load balancer in front of nginx): skipped from the right.
    ("127.0.0.1", "6.6.6.6, 203.0.113.7, 10.20.3.4", f"127.0.0.1,{LB}", "203.0.113.7"),
    ("10.20.0.1", "203.0.113.7, 10.20.3.4", LB, "203.0.113.7"),
    # The same hop untrusted: the load balancer is the client as far as tryg can tell.
    ("127.0.0.1", "203.0.113.7, 10.20.3.4", "127.0.0.1", "10.20.3.4"),
    # Only trusted proxies in the header: the furthest one vouched for.
    ("127.0.0.1", "10.20.0.9, 10.20.3.4", f"127.0.0.1,{LB}", "10.20.0.9"),
    # A proxy that writes something that is not an address: its own address.
    ("127.0.0.1", "203.0.113.7, unknown", "127.0.0.1", "127.0.0.1"),
    ("127.0.0.1", "203.0.113.7, unknown, 10.20.3.4", f"127.0.0.1,{LB}", "10.20.3.4"),
    # Ports and quotes some proxies add.
    ("127.0.0.1", "203.0.113.7:51234", "127.0.0.1", "203.0.113.7"),
    ("127.0.0.1", '"[2001:DB8::7]:51234"', "127.0.0.1", "2001:db8::7"),
    # IPv6: proxies, clients and networks.
    ("::1", "2001:db8::7", "::1", "2001:db8::7"),
    ("::1", "2001:db8::7", "127.0.0.1", "::1"),
    ("2001:db8:ff::2", "2001:db8::7, 2001:db8:ff:1::3", f"{V6_PROXIES},::1", "2001:db8::7"),
    ("2001:db8:ff::2", "[2001:db8::7], 203.0.113.7", V6_PROXIES, "203.0.113.7"),
    ("2001:db8:fe::2", "2001:db8::7", V6_PROXIES, "2001:db8:fe::2"),
    ("::1", "fe80::1%eth0", "::1", "fe80::1"),
    # A dual-stack socket's IPv4 peer, and an IPv4-mapped client entry.
    ("::ffff:127.0.0.1", "203.0.113.7", "127.0.0.1", "203.0.113.7"),
    ("127.0.0.1", "::ffff:203.0.113.7", "127.0.0.1", "203.0.113.7"),
    # A peer that is no IP address (a unix socket) is never a trusted proxy.
    ("", "203.0.113.7", "127.0.0.1", ""),
    ("unix:/run/tryg.sock", "203.0.113.7", "0.0.0.0/0", "unix:/run/tryg.sock"),
])
def test_the_client_address(peer: str, forwarded_for: str | None, trusted: str,
                            client: str) -> None:
    assert client_address(peer, forwarded_for, nets(trusted)) == client


def test_networks_of_both_families_match_only_their_own() -> None:
    assert is_trusted("10.20.255.255", nets(LB))
    assert not is_trusted("10.21.0.0", nets(LB))
    assert not is_trusted("::ffff:10.21.0.0", nets(LB))
    assert not is_trusted("::1", nets("0.0.0.0/0"))
    assert not is_trusted("127.0.0.1", nets("::/0"))
    assert is_trusted("2001:db8:ff:ffff::1", nets(V6_PROXIES))
    assert not is_trusted("127.0.0.1", ())


TRUSTED = f"127.0.0.1,::1,{LB}"


def _plain_untrusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None
    return not mapped and not is_trusted(address, nets(TRUSTED))


@given(client=st.ip_addresses().filter(_plain_untrusted),
       hops=st.lists(st.ip_addresses(network=LB).map(str), max_size=3),
       forged=st.lists(st.text(st.characters(exclude_characters=","), max_size=40), max_size=4),
       peer=st.sampled_from(NGINX))
def test_whatever_the_client_writes_the_address_is_its_own(
        client: ipaddress.IPv4Address | ipaddress.IPv6Address, hops: list[str],
        forged: list[str], peer: str) -> None:
    """Entries the client wrote, then its own address, then the trusted hops: the client."""
    header = ", ".join([*forged, str(client), *hops])
    assert client_address(peer, header, nets(TRUSTED)) == str(client)


# -- the site ----------------------------------------------------------------------------------


def _fail(client: Client, username: str, times: int, forged_for: str = "") -> int:
    """Fail ``times`` log-ins; with ``forged_for``, claim a new X-Forwarded-For every time."""
    status = 0
    for attempt in range(times):
        headers = {"X-Forwarded-For": forged_for.format(attempt=attempt)} if forged_for else {}
        status = client.post("/login/", {"username": username, "password": "wrong"},
                             headers=headers).status_code
    return status


@pytest.mark.django_db
def test_a_forged_x_forwarded_for_from_an_untrusted_peer_is_ignored(settings: Any) -> None:
    settings.TRYG_TRUSTED_PROXIES = nets("10.0.0.1")
    User.objects.create_user("ana", password=PASSWORD, role=Role.ANALYST)
    limit = settings.AXES_FAILURE_LIMIT = 3  # each failure costs an Argon2 hash
    # A new made-up address at every attempt does not escape the lock of the real one.
    attacker = Client(REMOTE_ADDR="198.51.100.9")
    assert _fail(attacker, "ana", limit, "203.0.113.{attempt}") == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.9"}
    # Nor does another client claiming the locked address share its lock.
    other = Client(REMOTE_ADDR="198.51.100.10", headers={"X-Forwarded-For": "198.51.100.9"})
    assert other.post("/login/", {"username": "ana", "password": PASSWORD}).status_code == 302


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_has_its_own_lock(settings: Any) -> None:
    settings.TRYG_TRUSTED_PROXIES = nets("10.0.0.1")
    User.objects.create_user("ana", password=PASSWORD, role=Role.ANALYST)
    limit = settings.AXES_FAILURE_LIMIT = 3  # each failure costs an Argon2 hash
    a = Client(REMOTE_ADDR="10.0.0.1", headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.7"})
    assert _fail(a, "ana", limit) == 429
    assert a.post("/login/", {"username": "ana", "password": PASSWORD}).status_code == 429
    b = Client(REMOTE_ADDR="10.0.0.1", headers={"X-Forwarded-For": "203.0.113.8"})
    assert b.post("/login/", {"username": "ana", "password": PASSWORD}).status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}
    locked = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_LOCKED)
    assert locked.details["ip_address"] == "203.0.113.7"


@pytest.mark.django_db
def test_x_forwarded_proto_counts_only_from_a_trusted_proxy(settings: Any) -> None:
    settings.TRYG_TRUSTED_PROXIES = nets("10.0.0.1")
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    https = {"X-Forwarded-Proto": "https"}
    assert Client(REMOTE_ADDR="10.0.0.1").get("/login/", headers=https).status_code == 200
    forged = Client(REMOTE_ADDR="198.51.100.9").get("/login/", headers=https)
    assert forged.status_code == 301
    assert forged["Location"] == "https://testserver/login/"


def test_every_forwarding_header_is_removed_unless_the_peer_is_trusted(settings: Any) -> None:
    settings.TRYG_TRUSTED_PROXIES = nets("10.0.0.1")
    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
               "X-Forwarded-Host": "evil.example", "X-Forwarded-Port": "443",
               "Forwarded": "for=203.0.113.7;proto=https", "X-Real-IP": "203.0.113.7"}
    keys = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
    seen: list[dict[str, Any]] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(dict(request.META))
        return HttpResponse()

    middleware = TrustedProxyMiddleware(view)
    for peer in ("198.51.100.9", "10.0.0.1"):
        middleware(RequestFactory().get("/", REMOTE_ADDR=peer,
                                        headers={**headers, "User-Agent": "t"}))
    untrusted, trusted = seen
    assert not set(keys) & set(untrusted)
    assert untrusted["HTTP_USER_AGENT"] == "t" and untrusted["REMOTE_ADDR"] == "198.51.100.9"
    assert {k: trusted[k] for k in keys} == keys


def test_without_trusted_proxies_django_reads_no_forwarding_header(settings: Any) -> None:
    # The test site, like a default one, trusts no proxy.
    assert settings.TRYG_TRUSTED_PROXIES == ()
    assert settings.SECURE_PROXY_SSL_HEADER is None
    assert settings.MIDDLEWARE[0] == "tryg.site.proxies.TrustedProxyMiddleware"
    assert settings.AXES_CLIENT_IP_CALLABLE == "tryg.site.proxies.client_ip"


def test_serve_help_lists_the_setting() -> None:
    from click.testing import CliRunner

    from tryg.cli.site import serve

    shown = CliRunner().invoke(serve, ["--help"], terminal_width=200).output
    assert "TRYG_TRUSTED_PROXIES: Comma-separated addresses or networks" in shown
