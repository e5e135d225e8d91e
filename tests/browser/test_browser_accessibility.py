"""Automated accessibility check of the public pages: axe-core in headless Chromium.

axe-core (shipped inside the PyPI package axe-playwright-python, no CDN) runs on the rendered
page; any violation of impact "serious" or "critical" fails the test, with axe's report of the
offending elements. Lesser findings are printed, not failed. Each public page is checked in
Danish (the default) and in English; the analysts' pages in Danish, logged in as the demo's
analyst through the log-in form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import Page

    from browser.conftest import ServedSite

pytestmark = pytest.mark.browser

FAILING_IMPACTS = {"serious", "critical"}
#: A neighbourhood of the fictional demo municipality.
AREA = "/areas/9999-01-01/"


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} — {v['helpUrl']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:200]}")
            lines.append(f"        {node.get('failureSummary', '').replace(chr(10), ' ')}")
        if len(v["nodes"]) > 5:
            lines.append(f"    … and {len(v['nodes']) - 5} more elements")
    return "\n".join(lines)


@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("path", ["/", AREA, "/map/", "/methods/", "/downloads/",
                                  "/map/?level=bydel", "/search/?q=a", "/areas/9999/",
                                  "/downloads/codebook/", "/strategies/", "/strategies/1/",
                                  "/initiatives/7/"])
def test_no_serious_accessibility_violations(axe: Axe, page: Page, served_site: ServedSite,
                                              path: str, language: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": language,
                               "url": served_site("/")}])
    answer = page.goto(served_site(path))
    assert answer is not None and answer.status == 200
    assert page.locator("html").get_attribute("lang") == language
    results = axe.run(page)
    violations: list[dict[str, Any]] = results.response["violations"]
    minor = [v for v in violations if v["impact"] not in FAILING_IMPACTS]
    if minor:
        print(f"axe, {path} ({language}), minor findings:\n{describe(minor)}")
    serious = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    assert not serious, f"axe on {path} ({language}):\n{describe(serious)}"
    # axe must have looked at something: a page it could not read has no "passes".
    assert results.response["passes"], "axe checked nothing"


ANALYST_PAGES = ("/analyse/", "/analyse/runs/", "/analyse/runs/1/", "/analyse/runs/compare/",
                 "/analyse/quality/", "/analyse/import/", "/analyse/waves/")


def _check(axe: Axe, page: Page, label: str) -> None:
    results = axe.run(page)
    violations: list[dict[str, Any]] = results.response["violations"]
    serious = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    assert not serious, f"axe on {label}:\n{describe(serious)}"
    assert results.response["passes"], "axe checked nothing"


def test_the_analysts_pages_have_no_serious_violations(axe: Axe, page: Page,
                                                       served_site: ServedSite) -> None:
    name, password = served_site.users["analyst"]
    page.goto(served_site("/login/"))
    _check(axe, page, "/login/")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.locator("main button[type=submit], main input[type=submit]").first.click()
    for path in ANALYST_PAGES:
        answer = page.goto(served_site(path))
        assert answer is not None and answer.status == 200, path
        assert page.locator("header").inner_text().count(name) == 1, path  # logged in
        _check(axe, page, path)


COORDINATOR_PAGES = ("/strategies/1/", "/strategies/new/", "/strategies/1/history/",
                     "/initiatives/1/", "/initiatives/1/edit/", "/indicators/3/edit/",
                     "/indicators/3/measurements/new/", "/indicators/3/notes/new/")


def test_the_coordinators_pages_have_no_serious_violations(axe: Axe, page: Page,
                                                           served_site: ServedSite) -> None:
    name, password = served_site.users["coordinator"]
    page.goto(served_site("/login/"))
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.locator("main button[type=submit], main input[type=submit]").first.click()
    for path in COORDINATOR_PAGES:
        answer = page.goto(served_site(path))
        assert answer is not None and answer.status == 200, path
        _check(axe, page, path)
