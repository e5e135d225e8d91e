"""`tryg serve` behind a real nginx, as the README's production section runs it.

A temporary site (SQLite, migrated, users made with `tryg user add`) is served by `tryg serve`
with ``TRYG_TRUSTED_PROXIES=127.0.0.1`` and ``TRYG_SECURE=1``; Debian's nginx runs in front of
it as a child process (its configuration, pid, logs and temporary files in the test's folder),
sets X-Forwarded-For to ``$proxy_add_x_forwarded_for`` and X-Forwarded-Proto to https (it stands
in for the TLS end). Clients connect from different loopback addresses (127.0.0.2, 127.0.0.3,
... are all on Linux's ``lo``), the way different people reach a real site: nginx sees each
one's own address and passes it on.

A second `tryg serve` without TRYG_SECURE (so that a plain-http log-in is not redirected) is
reached directly, not through nginx, to show that forged forwarding headers are ignored there.
Missing nginx skips these tests locally and fails them under ``CI=true`` (tests/conftest.py).
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest

from support.commands import start_serving

pytestmark = pytest.mark.slow

TRYG = Path(sys.executable).parent / "tryg"
HOST = "tryg.test"  # the public name; nginx passes it on as Host
PASSWORD = "correct horse battery staple 1"
USERS = ("ana", "bo", "cy")
START_ATTEMPTS = 600  # connection attempts a tenth of a second apart


def _environment(data_dir: Path, **settings: str) -> dict[str, str]:
    """A user's shell: none of the test suite's TRYG_*/Django settings, plus ``settings``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TRYG_", "DJANGO_")) and k != "DATABASE_URL"}
    env.update(TRYG_DATA_DIR=str(data_dir), TRYG_ALLOWED_HOSTS=f"{HOST},127.0.0.1", **settings)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Try to connect until something listens on ``port``, at most ``START_ATTEMPTS`` times
    (fails if the process exits or never listens; no clock is read).

    Only for nginx, which says nothing when it listens; ``tryg serve`` says so
    (:func:`support.commands.start_serving`)."""
    for _ in range(START_ATTEMPTS):
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}:\n"
                               f"{log.read_text(errors='replace')[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)  # not to spin: nginx is starting in another process
    raise RuntimeError(f"nothing listens on port {port} after {START_ATTEMPTS} attempts:\n"
                       f"{log.read_text(errors='replace')[-3000:]}")


def _stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


NGINX_CONF = """\
daemon off;
master_process off;  # one process, as the user running the test (root or not)
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {work}/nginx-access.log;
    client_body_temp_path {work}/nginx-body;
    proxy_temp_path {work}/nginx-proxy;
    fastcgi_temp_path {work}/nginx-fastcgi;
    uwsgi_temp_path {work}/nginx-uwsgi;
    scgi_temp_path {work}/nginx-scgi;
    server {{
        listen 127.0.0.1:{port};
        server_name {host};
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            # In production this is the TLS server block and the value is $scheme.
            proxy_set_header X-Forwarded-Proto https;
        }}
    }}
}}
"""


@dataclass(frozen=True)
class Site:
    data_dir: Path
    proxy_port: int  # nginx, in front of the TRYG_SECURE=1 server
    secure_port: int  # that server, reached directly
    plain_port: int  # the TRYG_SECURE=0 server, reached directly

    def query(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.data_dir / "tryg.sqlite3") as db:
            return db.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, nginx: Path) -> Iterator[Site]:
    work = tmp_path_factory.mktemp("proxy")
    data_dir = work / "site"
    for username in USERS:
        made = subprocess.run([str(TRYG), "user", "add", username, "--role", "analyst",
                               "--data-dir", str(data_dir)],
                              input=f"{PASSWORD}\n{PASSWORD}\n", capture_output=True, text=True,
                              env=_environment(data_dir), timeout=300, check=False)
        assert made.returncode == 0, made.stdout + made.stderr
    processes: list[subprocess.Popen[Any]] = []
    try:
        ports = {}
        for name, secure in (("secure", "1"), ("plain", "0")):
            port = ports[name] = _free_port()
            processes.append(start_serving(
                [TRYG, "serve", "--data-dir", data_dir, "--port", str(port)],
                env=_environment(data_dir, TRYG_TRUSTED_PROXIES="127.0.0.1", TRYG_SECURE=secure),
                log=work / f"serve-{name}.log"))
        proxy_port = _free_port()
        conf = work / "nginx.conf"
        conf.write_text(NGINX_CONF.format(work=work, port=proxy_port, host=HOST,
                                          upstream=ports["secure"]), encoding="utf-8")
        log = work / "nginx-error.log"
        with (work / "nginx.out").open("wb") as out:
            processes.append(subprocess.Popen(
                [str(nginx), "-p", str(work), "-c", str(conf), "-e", str(log)],
                stdout=out, stderr=subprocess.STDOUT))
        _wait_for_port(proxy_port, processes[-1], log)
        yield Site(data_dir, proxy_port, ports["secure"], ports["plain"])
    finally:
        for process in reversed(processes):
            _stop(process)


@dataclass
class Answer:
    status: int
    headers: Message
    body: str


@dataclass
class Browser:
    """An HTTP client with its own loopback address and cookies (kept even if Secure)."""

    port: int
    address: str
    scheme: str = "https"  # what the site looks like to the person
    cookies: dict[str, str] = field(default_factory=dict)
    secure_cookies: set[str] = field(default_factory=set)

    def request(self, method: str, path: str, form: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        sent = {"Host": HOST, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["Origin"] = f"{self.scheme}://{HOST}"  # as a browser sends with a POST
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60,
                                                source_address=(self.address, 0))
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            answer = Answer(response.status, response.headers,
                            response.read().decode("utf-8", errors="replace"))
        finally:
            connection.close()
        for line in answer.headers.get_all("Set-Cookie") or []:
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(line)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
                if morsel["secure"]:
                    self.secure_cookies.add(name)
        return answer

    def log_in(self, username: str, password: str,
               headers: dict[str, str] | None = None) -> Answer:
        page = self.request("GET", "/login/", headers=headers)
        assert page.status == 200, (page.status, page.headers.get("Location"))
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        assert token is not None
        return self.request("POST", "/login/", {"csrfmiddlewaretoken": token.group(1),
                                                "username": username, "password": password},
                            headers)


def test_log_in_works_through_nginx_with_https_and_no_redirect(site: Site) -> None:
    browser = Browser(site.proxy_port, "127.0.0.2")
    page = browser.request("GET", "/login/")
    # The https of nginx's header counts: no redirect to https, HSTS, Secure cookies.
    assert page.status == 200
    assert "max-age=31536000" in (page.headers.get("Strict-Transport-Security") or "")
    assert "csrftoken" in browser.secure_cookies
    logged_in = browser.log_in("ana", PASSWORD)
    # (staff land on the analysts' pages)
    assert logged_in.status == 302 and logged_in.headers["Location"] == "/analyse/"
    assert "sessionid" in browser.secure_cookies
    analyst_page = browser.request("GET", "/analyse/")
    assert analyst_page.status == 200 and "ana" in analyst_page.body


def test_failed_log_ins_lock_the_client_not_everyone_behind_nginx(site: Site) -> None:
    a = Browser(site.proxy_port, "127.0.0.3")
    token_page = a.request("GET", "/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', token_page.body)
    assert token is not None
    statuses = []
    for attempt in range(5):  # TRYG_LOGIN_ATTEMPTS' default
        # A made-up X-Forwarded-For of A's own is kept by nginx, left of A's real address.
        statuses.append(a.request(
            "POST", "/login/", {"csrfmiddlewaretoken": token.group(1), "username": "bo",
                                "password": "wrong"},
            {"X-Forwarded-For": f"203.0.113.{attempt}"}).status)
    assert statuses == [200, 200, 200, 200, 429]
    assert a.log_in("bo", PASSWORD).status == 429  # locked, even with the right password
    # B, elsewhere, behind the same nginx: not locked out by A.
    b = Browser(site.proxy_port, "127.0.0.4")
    assert b.log_in("bo", PASSWORD).status == 302
    attempts = site.query("SELECT DISTINCT ip_address FROM axes_accessattempt WHERE username = ?",
                          "bo")
    assert attempts == [("127.0.0.3",)]
    locks = site.query("SELECT details FROM accounts_auditevent WHERE action = 'login_locked' "
                       "AND details LIKE '%\"bo\"%'")
    assert len(locks) == 1 and '"127.0.0.3"' in str(locks[0][0])


def test_forged_forwarding_headers_sent_directly_to_tryg_are_ignored(site: Site) -> None:
    forged = {"X-Forwarded-For": "203.0.113.50", "X-Forwarded-Proto": "https"}
    # The TRYG_SECURE=1 server from a peer that is not the proxy: plain http, redirected.
    direct = Browser(site.secure_port, "127.0.0.5")
    answer = direct.request("GET", "/login/", headers=forged)
    assert answer.status == 301 and answer.headers["Location"] == f"https://{HOST}/login/"
    # The TRYG_SECURE=0 server: a new made-up address at every attempt does not spread the
    # failures over many addresses; the lock is on the peer's own.
    attacker = Browser(site.plain_port, "127.0.0.5", scheme="http")
    statuses = [attacker.log_in("cy", "wrong", {"X-Forwarded-For": f"203.0.113.{attempt}"}).status
                for attempt in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    attempts = site.query("SELECT DISTINCT ip_address FROM axes_accessattempt WHERE username = ?",
                          "cy")
    assert attempts == [("127.0.0.5",)]
    # Claiming to be another client does not move its lock either.
    other = Browser(site.plain_port, "127.0.0.6", scheme="http")
    assert other.log_in("cy", PASSWORD, {"X-Forwarded-For": "127.0.0.5"}).status == 302
