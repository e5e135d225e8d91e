"""A strategy followed up in the served demo, in Danish, without JavaScript needs: a coordinator
makes an initiative with an indicator and a target; a partner of the owning organisation
enters an unpublished and a published measurement; the status, the strategy overview, the
public initiative page and the area page follow; a partner of another organisation is refused
(403); the anonymous public never sees the unpublished measurement."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

    from browser.conftest import ServedSite

pytestmark = pytest.mark.browser

AREA = "9999-02"
OWNER = "Demo Boligforening (fiktiv)"
NAME = "Bedre lys i Testparken"
INDICATOR = "Beboere, der føler sig trygge i parken"
UNPUBLISHED = "77,7"
PUBLISHED = "95,5"


def shot(page: Page, site: ServedSite, name: str) -> None:
    page.screenshot(path=str(site.screenshots / f"strategy-{name}.png"), full_page=True)


def _login(page: Page, site: ServedSite, name: str, password: str) -> None:
    page.goto(site("/login/"))
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def _save(page: Page) -> None:
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def _status(page: Page | Locator, where: str) -> str:
    classes = page.locator(where).first.get_attribute("class") or ""
    found = re.search(r"status-(\w+)", classes)
    return found.group(1) if found else ""


def test_a_strategy_followed_up_by_coordinator_partners_and_public(
        browser: Browser, page: Page, served_site: ServedSite) -> None:
    site = served_site
    # 1. the coordinator: a new initiative under the first focus area, an indicator, a target
    _login(page, site, *site.users["coordinator"])
    page.goto(site("/strategies/"))
    page.locator("ul.strategies a").first.click()
    overview_url = page.url
    page.locator("p.actions a[href$='/initiatives/new/']").first.click()
    page.fill("input[name=name]", NAME)
    page.fill("textarea[name=public_summary]", "Flere lamper langs stierne.")
    page.get_by_label(OWNER).check()
    page.fill("textarea[name=area_codes]", AREA)
    page.check("input[name=published]")
    _save(page)
    match = re.search(r"/initiatives/(\d+)/$", page.url)
    assert match is not None, page.url
    initiative_url = page.url
    initiative_id = int(match.group(1))
    page.locator(f"a[href='/initiatives/{initiative_id}/indicators/new/']").click()
    page.fill("input[name=name]", INDICATOR)
    page.fill("input[name=unit]", "%")
    page.select_option("select[name=source]", "manual")
    _save(page)
    indicator = re.search(r"/indicators/(\d+)/edit/$", page.url)
    assert indicator is not None, page.url
    indicator_id = int(indicator.group(1))
    page.locator(f"a[href='/indicators/{indicator_id}/targets/new/']").click()
    page.fill("input[name=when]", "2030-12-31")
    page.fill("input[name=value]", "80")
    _save(page)
    page.goto(initiative_url)
    assert _status(page, f"#indicator-{indicator_id} .status") == "not_assessable"
    shot(page, site, "1-coordinator")

    # 2. the partner of the owning organisation: an unpublished, then a published measurement
    partner = browser.new_context(locale="da-DK")
    p = partner.new_page()
    _login(p, site, *site.users["partner"])
    p.goto(initiative_url)
    p.locator(f"a[href='/indicators/{indicator_id}/measurements/new/']").click()
    p.fill("input[name=value]", "77.7")
    p.fill("input[name=se]", "2")
    p.fill("input[name=n]", "300")
    _save(p)
    assert p.url.startswith(initiative_url)
    p.locator(f"a[href='/indicators/{indicator_id}/measurements/new/']").click()
    p.fill("input[name=value]", "95.5")
    p.fill("input[name=se]", "1")
    p.check("input[name=published]")
    _save(p)
    assert _status(p, f"#indicator-{indicator_id} .status") == "on_track"
    assert UNPUBLISHED in p.locator(f"#indicator-{indicator_id}").inner_text()
    shot(p, site, "2-partner")
    partner.close()

    # 3. a partner of another organisation is refused
    other_name = next(n for n, (role, _pw) in site.logins.items()
                      if role == "partner" and n != site.users["partner"][0])
    other = browser.new_context(locale="da-DK")
    o = other.new_page()
    _login(o, site, other_name, site.logins[other_name][1])
    for url in (f"/indicators/{indicator_id}/measurements/new/",
                f"/initiatives/{initiative_id}/edit/"):
        answer = o.goto(site(url))
        assert answer is not None and answer.status == 403, url
    assert o.locator(f"a[href='/indicators/{indicator_id}/measurements/new/']").count() == 0
    other.close()

    # 4. the public: initiative page, overview and area page, never the unpublished figure
    public = browser.new_context(locale="da-DK")
    a = public.new_page()
    a.goto(initiative_url)
    text = a.locator("main").inner_text()
    assert NAME in text and PUBLISHED in text and UNPUBLISHED not in text
    assert _status(a, f"#indicator-{indicator_id} .status") == "on_track"
    a.goto(overview_url)
    row = a.locator("tr", has=a.locator(f"a[href='/initiatives/{initiative_id}/#indicator-"
                                        f"{indicator_id}']"))
    assert _status(row, ".status") == "on_track"
    a.goto(site(f"/areas/{AREA}/"))
    item = a.locator("#initiatives li", has_text=NAME)
    assert item.count() == 1
    assert _status(item, ".status") == "on_track"
    assert UNPUBLISHED not in a.locator("#initiatives").inner_text()
    item.locator("a").first.click()
    assert a.url == initiative_url
    a.goto(site("/"))
    assert a.locator("a[href='/strategies/']").count() >= 1
    shot(a, site, "3-public")
    public.close()
