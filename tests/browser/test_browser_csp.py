"""The Content-Security-Policy in Chromium: no page of the site breaks it.

Every page is opened with a listener for ``securitypolicyviolation`` events (installed before
the page's own scripts run) and for Chromium's console reports ("Refused to …"); any violation
fails the test. The pages are also used a little (the table sorting script, Swagger UI on
/api/docs), and a control shows the policy is really enforced: an inline script added to the
page does not run and is reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

    from browser.conftest import ServedSite

pytestmark = pytest.mark.browser

AREA = "/areas/9999-01-01/"
PUBLIC_PAGES = ("/", AREA, "/map/", "/methods/", "/downloads/", "/downloads/codebook/",
                "/login/")
ANALYST_PAGES = ("/analyse/", "/analyse/runs/", "/analyse/runs/1/", "/analyse/runs/compare/",
                 "/analyse/quality/", "/analyse/import/", "/analyse/waves/", "/analyse/imports/")
ADMIN_PAGES = ("/admin/", "/admin/accounts/user/", "/admin/accounts/user/1/change/")
LISTENER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
    window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


class Watched:
    """A page whose CSP violations are collected."""

    def __init__(self, page: Page, site: ServedSite) -> None:
        self.page, self.site = page, site
        self.console: list[str] = []
        page.add_init_script(LISTENER)
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.console.append(message.text)

    def visit(self, path: str) -> None:
        answer = self.page.goto(self.site(path))
        assert answer is not None and answer.status == 200, (path, answer and answer.status)
        assert "default-src 'self'" in answer.headers["content-security-policy"], path
        self.page.wait_for_load_state("load")

    def violations(self) -> list[str]:
        seen: list[str] = self.page.evaluate("() => window.__csp")
        return seen + self.console

    def check(self, path: str) -> None:
        self.visit(path)
        assert self.violations() == [], path


@pytest.fixture
def watched(browser: Browser, served_site: ServedSite) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK")
    context.set_default_timeout(30_000)
    try:
        yield Watched(context.new_page(), served_site)
    finally:
        context.close()


def _log_in(watched: Watched, who: str) -> None:
    name, password = watched.site.users[who]
    watched.check("/login/")
    page = watched.page
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.locator("main button[type=submit], main input[type=submit]").first.click()
    assert watched.violations() == []


def test_public_pages_break_no_policy(watched: Watched) -> None:
    for path in PUBLIC_PAGES:
        watched.check(path)
    watched.visit("/map/")
    header = watched.page.locator("table th button").first  # sort.js made the headers buttons
    header.click()
    assert watched.violations() == []


def test_the_policy_is_enforced(watched: Watched) -> None:
    watched.visit("/")
    ran = watched.page.evaluate("""() => {
        const s = document.createElement("script");
        s.textContent = "window.__ran = true";
        document.body.appendChild(s);
        return window.__ran === true;
    }""")
    assert ran is False
    watched.page.wait_for_function("() => window.__csp.length > 0")
    assert any(v.startswith("script-src") for v in watched.violations())


def test_api_docs_work_under_the_policy(watched: Watched) -> None:
    watched.check("/api/docs")
    watched.page.locator(".swagger-ui .info .title").wait_for()
    assert "tryg" in watched.page.locator(".swagger-ui .info .title").inner_text()
    watched.page.locator(".opblock").first.wait_for()  # the operations, from openapi.json
    assert watched.violations() == []


def test_analysts_and_admin_pages_break_no_policy(watched: Watched) -> None:
    _log_in(watched, "administrator")
    for path in ANALYST_PAGES + ADMIN_PAGES:
        watched.check(path)
