"""The nginx configuration tryg ships (src/tryg/site/deploy/nginx.conf), run by Debian's nginx in
front of `tryg serve`: anonymous answers come from its microcache, a session's or a pending
message's never do, and what the app marks private or answers with a cookie is never kept.

The shipped file is used as it is, with this test's addresses and folders and plain http (no
certificates), and one change: answers are kept an hour instead of a second, so whether the
second request is a cache hit does not depend on how fast this machine is (what is cached
and what is not is the same). Missing nginx skips these tests locally and fails them under
``CI=true`` (tests/conftest.py).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_proxy import (
    PASSWORD,
    TRYG,
    Browser,
    _environment,
    _free_port,
    _stop,
    _wait_for_port,
)

from support.commands import start_serving

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "tryg" / "site" / "deploy" / "nginx.conf"


def nginx_conf(work: Path, port: int, upstream: int) -> str:
    """A whole nginx.conf around the shipped sample, on this test's ports and folders."""
    sample = SAMPLE.read_text(encoding="utf-8")
    for needed in ("proxy_cache_valid 200 1s;", "listen 443 ssl;", "server 127.0.0.1:8000;",
                   "/dev/shm/nginx-tryg", "listen 80;"):
        assert needed in sample, needed
    site = (sample.replace("proxy_cache_valid 200 1s;", "proxy_cache_valid 200 1h;")
            .replace("listen 443 ssl;", f"listen 127.0.0.1:{port};")
            .replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};")
            .replace("/dev/shm/nginx-tryg", str(work / "cache"))
            .replace("listen 80;", f"listen 127.0.0.1:{_free_port()};"))
    site = "\n".join(line for line in site.splitlines() if "ssl_certificate" not in line)
    temp = "\n".join(f"{kind}_temp_path {work / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"daemon off;\nmaster_process off;\npid {work}/nginx.pid;\n"
            f"error_log {work}/nginx-error.log warn;\nevents {{ worker_connections 64; }}\n"
            f"http {{\naccess_log off;\n{temp}\n{site}\n}}\n")


@dataclass(frozen=True)
class Cached:
    proxy_port: int


@pytest.fixture(scope="module")
def cached(tmp_path_factory: pytest.TempPathFactory, nginx: Path) -> Iterator[Cached]:
    work = tmp_path_factory.mktemp("microcache")
    data_dir = work / "site"
    made = subprocess.run([str(TRYG), "user", "add", "ana", "--role", "analyst",
                           "--data-dir", str(data_dir)],
                          input=f"{PASSWORD}\n{PASSWORD}\n", capture_output=True, text=True,
                          env=_environment(data_dir), timeout=300, check=False)
    assert made.returncode == 0, made.stdout + made.stderr
    processes: list[subprocess.Popen[Any]] = []
    try:
        port = _free_port()
        processes.append(start_serving(
            [TRYG, "serve", "--data-dir", data_dir, "--port", str(port)],
            env=_environment(data_dir, TRYG_TRUSTED_PROXIES="127.0.0.1"),
            log=work / "serve.log"))
        proxy_port = _free_port()
        conf = work / "nginx.conf"
        conf.write_text(nginx_conf(work, proxy_port, port), encoding="utf-8")
        checked = subprocess.run([str(nginx), "-t", "-p", str(work), "-c", str(conf), "-e",
                                  str(work / "nginx-error.log")],
                                 capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stderr
        log = work / "nginx-error.log"
        with (work / "nginx.out").open("wb") as out:
            processes.append(subprocess.Popen(
                [str(nginx), "-p", str(work), "-c", str(conf), "-e", str(log)],
                stdout=out, stderr=subprocess.STDOUT))
        _wait_for_port(proxy_port, processes[-1], log)
        yield Cached(proxy_port)
    finally:
        for process in reversed(processes):
            _stop(process)


def test_anonymous_pages_come_from_the_microcache_per_language(cached: Cached) -> None:
    anonymous = Browser(cached.proxy_port, "127.0.0.2", scheme="http")
    danish = {"Accept-Language": "da", "Accept-Encoding": "gzip"}
    first = anonymous.request("GET", "/methods/", headers=danish)
    again = Browser(cached.proxy_port, "127.0.0.3", scheme="http").request(
        "GET", "/methods/", headers=danish)
    assert first.status == again.status == 200
    assert first.headers["X-Cache-Status"] == "MISS"
    assert again.headers["X-Cache-Status"] == "HIT" and again.body == first.body
    # the app's own headers come along from the cache
    for name in ("Content-Security-Policy", "X-Frame-Options", "Vary", "Content-Language"):
        assert again.headers[name] == first.headers[name], name
    english = anonymous.request("GET", "/methods/", headers={"Accept-Language": "en"})
    assert english.headers["X-Cache-Status"] == "MISS"
    assert english.headers["Content-Language"] == "en" != first.headers["Content-Language"]


def test_sessions_messages_cookies_and_private_pages_never_come_from_the_cache(
        cached: Cached) -> None:
    ana = Browser(cached.proxy_port, "127.0.0.4", scheme="http")
    for _ in range(2):  # the log-in page sets the CSRF cookie: never kept
        login = ana.request("GET", "/login/")
        assert login.status == 200 and login.headers["X-Cache-Status"] == "MISS"
    assert ana.log_in("ana", PASSWORD).status == 302
    anonymous = Browser(cached.proxy_port, "127.0.0.5", scheme="http")
    anonymous.request("GET", "/")
    assert anonymous.request("GET", "/").headers["X-Cache-Status"] == "HIT"
    for _ in range(2):
        mine = ana.request("GET", "/")
        assert mine.headers["X-Cache-Status"] == "BYPASS"
        assert "(ana)" in mine.body
        assert "no-store" in mine.headers["Cache-Control"]
    after = anonymous.request("GET", "/")
    assert after.headers["X-Cache-Status"] == "HIT" and "(ana)" not in after.body
    with_message = Browser(cached.proxy_port, "127.0.0.6", scheme="http",
                           cookies={"messages": "x"})
    assert with_message.request("GET", "/").headers["X-Cache-Status"] == "BYPASS"
