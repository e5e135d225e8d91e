"""Browser tests: the demo site served by ``tryg serve``, driven by headless Chromium.

The site is a real one, not Django's test client: ``tryg demo --no-serve`` builds the demo
(published run included) into a temporary folder and ``tryg serve`` serves it on a free port of
the loopback, as a user would run it. These tests use no test database of their own (they are
not ``django_db`` tests) and run in the normal ``pytest`` run.

Debian's Chromium (``/usr/bin/chromium``) is driven by Playwright for Python; Playwright's own
browser download is not used. Missing Chromium or Playwright skips these tests locally and fails
them under ``CI=true``, like the other outside resources (see tests/conftest.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from support.commands import free_port, start_serving, stop

if TYPE_CHECKING:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
BIN = Path(sys.executable).parent
#: Screenshots of every step, for a person to look at (not committed, see .gitignore).
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
#: Seconds the demo build may take.
BUILD_TIMEOUT = 600


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives the served demo site in headless Chromium (Playwright)")


def _missing(reason: str) -> NoReturn:
    """Skip the test locally; fail it under CI, where everything must be present."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


def _site_environment(data_dir: Path) -> dict[str, str]:
    """The environment of a user's shell: none of the test settings' TRYG_* or database."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TRYG_", "DJANGO_", "DATABASE_URL"))}
    env["TRYG_DATA_DIR"] = str(data_dir)
    return env


@dataclass(frozen=True)
class ServedSite:
    url: str  # no trailing slash
    data_dir: Path
    screenshots: Path
    #: role → (user name, password) of the demo's users, as `tryg demo` printed them (the
    #: first of each role).
    users: dict[str, tuple[str, str]]
    #: user name → (role, password) of every demo user printed (e.g. a second partner).
    logins: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: The served site's e-mail (TRYG_EMAIL_FILE_PATH: Django's file backend), for tests
    #: that check what it sent (tests/browser/test_browser_walks.py).
    outbox: Path | None = None

    def __call__(self, path: str) -> str:
        return self.url + path


@pytest.fixture(scope="session")
def served_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedSite]:
    """The demo site, built once per session and served on a free port of 127.0.0.1."""
    tryg = BIN / "tryg"
    if not tryg.exists():
        pytest.fail(f"{tryg} not found: install the project (pip install -e '.[dev]')")
    work = tmp_path_factory.mktemp("browser-site")
    data_dir = work / "demo"
    env = _site_environment(data_dir)
    build = subprocess.run([str(tryg), "demo", "--no-serve", "--data-dir", str(data_dir)],
                           cwd=work, env=env, capture_output=True, text=True,
                           timeout=BUILD_TIMEOUT, check=False)
    if build.returncode != 0:
        pytest.fail(f"tryg demo failed ({build.returncode}):\n{build.stdout[-2000:]}\n"
                    f"{build.stderr[-3000:]}", pytrace=False)
    port = free_port()
    outbox = work / "outbox"
    env = {**env, "TRYG_EMAIL_FILE_PATH": str(outbox)}
    server = start_serving([tryg, "serve", "--data-dir", data_dir, "--port", str(port)],
                           cwd=work, env=env, log=work / "serve.log")
    try:
        url = f"http://127.0.0.1:{port}"
        SCREENSHOTS.mkdir(exist_ok=True)
        print(f"\nbrowser tests: {url} serves {data_dir}; screenshots in {SCREENSHOTS}")
        printed = list(re.finditer(
            r"^\s+(administrator|analyst|coordinator|partner|walker)\s+(\S+)\s+(\S+)",
            build.stdout, re.M))
        users: dict[str, tuple[str, str]] = {}
        for m in printed:
            users.setdefault(m.group(1), (m.group(2), m.group(3)))
        logins = {m.group(2): (m.group(1), m.group(3)) for m in printed}
        yield ServedSite(url=url, data_dir=data_dir, screenshots=SCREENSHOTS, users=users,
                         logins=logins, outbox=outbox)
    finally:
        stop(server)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium under Playwright."""
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, served_site: ServedSite) -> Iterator[Page]:
    """A fresh browser context (no cookies: Danish, the default) and page for each test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK")
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="session")
def axe() -> Axe:
    """axe-core, as shipped inside the PyPI package axe-playwright-python (no CDN)."""
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        _missing("axe-playwright-python is not installed (pip install axe-playwright-python)")
    return Axe()
