"""The safety-walk loop in headless Chromium, on the served demo site.

Plan a walk (route drawn on the area's map), add participants and invite them, record three
findings through a participant's personal link on a phone-sized viewport — the third while the
browser is offline, kept in the page's queue, kept across a reload while offline, and sent when
the browser is back online — give them an owner, change their states as that partner, hold the
closing meeting, schedule the re-walk and send the participants' summary, read back from the
site's outbox (Django's file e-mail backend, ``TRYG_EMAIL_FILE_PATH``).

Chromium's offline emulation does not reach a service worker's own requests (Playwright issue
2311), so the reload while offline may be answered through the worker from the network; what
the test holds the page to is that nothing queued or typed is lost, and that the worker's cache
holds the page, its scripts and the map for use without a connection.
"""

from __future__ import annotations

import email
import email.policy
import io
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image

if TYPE_CHECKING:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize

    from browser.conftest import ServedSite

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE: ViewportSize = {"width": 390, "height": 844}
HOUSING = "Demo Boligforening (fiktiv)"


def _log_in(context: BrowserContext, site: ServedSite, role: str) -> Page:
    name, password = site.users[role]
    page = context.new_page()
    page.goto(site("/login/"))
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    return page


def _demo_area(site: ServedSite) -> str:
    with sqlite3.connect(f"file:{site.data_dir / 'tryg.sqlite3'}?mode=ro", uri=True) as db:
        row = db.execute("SELECT area_code FROM walks_walk ORDER BY id LIMIT 1").fetchone()
    assert row, "the demo made no safety walks"
    return str(row[0])


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


def _mails(outbox: Path) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted(outbox.glob("*.log")):
        for chunk in path.read_bytes().split(b"-" * 79):
            if chunk.strip():
                found.append(email.message_from_bytes(chunk.strip() + b"\n",
                                                      policy=email.policy.default))
    return found


def _body(message: email.message.EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _record(phone: Page, category: str, text: str, photo: bool = False) -> None:
    phone.select_option("#id_category", category)
    phone.fill("#id_text", text)
    phone.locator("#walk-map svg").click(position={"x": 120, "y": 60})
    if photo:
        phone.set_input_files("#id_photos", {"name": "foto.jpg", "mimeType": "image/jpeg",
                                             "buffer": _jpeg()})
    phone.locator("#finding-form button[type=submit]").click()


def _serious(axe: Axe, page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page."""
    violations: list[dict[str, Any]] = axe.run(page).response["violations"]
    return [f"{v['id']}: {v['help']}" for v in violations
            if v["impact"] in ("serious", "critical")]


def test_the_safety_walk_loop(browser: Browser, served_site: ServedSite, axe: Axe) -> None:
    site = served_site
    assert site.outbox is not None
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK")
    desk.set_default_timeout(30_000)
    csp: list[str] = []
    try:
        _loop(browser, site, desk, site.outbox, axe, csp)
    finally:
        desk.close()
    assert not csp, csp


def _loop(browser: Browser, site: ServedSite, desk: BrowserContext, outbox: Path, axe: Axe,
          csp: list[str]) -> None:
    from playwright.sync_api import ConsoleMessage, expect

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            csp.append(message.text)

    desk.on("console", watch)

    # 1. plan: the route drawn on the area's map
    page = _log_in(desk, site, "coordinator")
    page.goto(site("/tryghedsvandringer/ny/"))
    page.fill("#id_title", "Browsertest-vandring")
    page.fill("#id_area_code", _demo_area(site))
    page.dispatch_event("#id_area_code", "change")
    page.fill("#id_date", "2026-12-10")
    page.fill("#id_start_time", "19:00")
    page.select_option("#id_time_of_day", "night")
    page.fill("#id_meeting_point", "Ved skolen")
    page.select_option("#id_organiser", label="Demo Kommune (fiktiv)")
    svg = page.locator("#route-map svg")
    expect(svg).to_be_visible()
    for x, y in ((100, 80), (250, 150), (400, 120)):
        svg.click(position={"x": x, "y": y})
    assert page.input_value("#id_route_drawn").startswith('{"type":"LineString"')
    page.locator("#walk-form button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("Browsertest-vandring")
    walk_url = page.url
    assert not _serious(axe, page), _serious(axe, page)
    assert "/tryghedsvandringer/" in walk_url

    for name, mail, role in (("Beboer Browser", "beboer@example.org", "resident"),
                             ("Vicevært Browser", "vicevaert@example.org", "housing")):
        page.fill("#id_p-name", name)
        page.fill("#id_p-email", mail)
        page.select_option("#id_p-role", role)
        page.locator("#participant-form button[type=submit]").click()
        expect(page.locator("main table").first).to_contain_text(name)
    page.locator("#send-invitations").click()
    invitations = [m for m in _mails(outbox) if "beboer@example.org" in str(m["To"])]
    assert invitations and any(
        part.get_content_type() == "text/calendar" for part in invitations[-1].iter_attachments())
    personal = page.locator("tr", has_text="Beboer Browser").locator("a.personal-link")
    personal_url = site(personal.get_attribute("href") or "")

    # 2. record on a phone through the personal link (no account), the third one offline
    phone_context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                        has_touch=True, locale="da-DK")
    phone_context.set_default_timeout(30_000)
    phone_context.on("console", watch)
    try:
        phone = phone_context.new_page()
        phone.goto(personal_url)
        expect(phone.locator("#record")).to_have_attribute("data-offline-ready", "1")
        assert not _serious(axe, phone), _serious(axe, phone)
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        _record(phone, "lighting", "Mørk sti ved skolen (browsertest 1)")
        expect(phone.locator("#recorded")).to_contain_text("browsertest 1")
        _record(phone, "vegetation", "Høj hæk ved tunnelen (browsertest 2)", photo=True)
        expect(phone.locator("#recorded")).to_contain_text("browsertest 2")
        expect(phone.locator("#record")).to_have_attribute("data-queued", "0")

        phone_context.set_offline(True)
        _record(phone, "graffiti", "Grafitti i kælderen (browsertest 3, offline)")
        expect(phone.locator("#record")).to_have_attribute("data-queued", "1")
        expect(phone.locator("#queue-status")).to_contain_text("Venter på at blive sendt: 1")
        phone.fill("#id_text", "Halvskrevet kladde")
        phone.dispatch_event("#id_text", "input")
        cached = phone.evaluate(
            "async () => { const c = await caches.open('tryg-walks-v1');"
            " const keys = await c.keys(); return keys.map(k => new URL(k.url).pathname); }")
        assert any(p.endswith("/kort.json") for p in cached), cached
        assert any(p.endswith("/walks/record.js") for p in cached), cached
        assert any(p.startswith("/tryghedsvandringer/p/") and p.endswith("/")
                   for p in cached), cached
        phone.reload()
        expect(phone.locator("#record")).to_have_attribute("data-queued", "1")
        expect(phone.locator("#id_text")).to_have_value("Halvskrevet kladde")
        # not on the server yet
        page.goto(walk_url)
        expect(page.locator("main")).not_to_contain_text("browsertest 3")

        phone_context.set_offline(False)
        expect(phone.locator("#record")).to_have_attribute("data-queued", "0")
        expect(phone.locator("#recorded")).to_contain_text("browsertest 3")
    finally:
        phone_context.close()

    # 3. each finding gets an owner and a deadline
    page.goto(walk_url)
    links = page.locator("table.actions tbody a")
    expect(links).to_have_count(3)
    action_urls = [site(links.nth(i).get_attribute("href") or "") for i in range(3)]
    for url in action_urls:
        page.goto(url)
        page.select_option("#assign-form select[name=organisation]", label=HOUSING)
        page.fill("#assign-form input[name=deadline]", "2027-01-31")
        page.fill("#assign-form textarea[name=promise]", "Vi ordner det")
        page.locator("#assign-form button[type=submit]").click()
        expect(page.locator("#action-owner")).to_have_text(HOUSING)

    # 4. the partner moves its actions on
    partner_context = browser.new_context(viewport={"width": 1280, "height": 900},
                                          locale="da-DK")
    partner_context.set_default_timeout(30_000)
    try:
        partner = _log_in(partner_context, site, "partner")
        partner.goto(site("/tryghedsvandringer/handlinger/"))
        expect(partner.locator("main")).to_contain_text("browsertest 1")
        for url, steps in zip(action_urls, (("in_progress", "fixed"), ("planned",), ()),
                              strict=True):
            for state in steps:
                partner.goto(url)
                partner.select_option("#id_m-state", state)
                partner.fill("#id_m-comment", f"sat til {state}")
                partner.locator("#move-form button[type=submit]").click()
                expect(partner.locator("#history")).to_contain_text(f"sat til {state}")
        partner.goto(url_of_walk := walk_url)
        assert partner.locator("h1").inner_text() != "Browsertest-vandring", url_of_walk
    finally:
        partner_context.close()

    # 5. the closing meeting, grouped by owner; the printable list
    page.goto(walk_url + "afslutning/")
    group = page.locator("section.owner-group", has_text=HOUSING)
    expect(group.locator("tbody tr")).to_have_count(3)
    page.locator("#hold-meeting").click()
    expect(page.locator("#meeting-held")).to_be_visible()
    page.goto(walk_url + "udskriv/")
    page.emulate_media(media="print")
    expect(page.locator("header")).to_be_hidden()
    expect(page.locator("article.printable")).to_contain_text("Løst")
    page.emulate_media(media="screen")

    # 6. the re-walk revisits the open and fixed findings
    page.goto(walk_url)
    page.fill("#rewalk-form input[name=date]", "2027-05-04")
    page.fill("#rewalk-form input[name=start_time]", "20:00")
    page.locator("#rewalk-form button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("Genvandring")
    expect(page.locator("form[action*='/genbesoeg/']")).to_have_count(3)

    # 7. the participants' summary
    page.goto(walk_url)
    page.locator("#send-summary").click()
    summaries = [m for m in _mails(outbox)
                 if "beboer@example.org" in str(m["To"]) and "Hvad der er sket" in str(
                     m["Subject"])]
    assert summaries, [str(m["Subject"]) for m in _mails(outbox)]
    body = _body(summaries[-1])
    for text in ("browsertest 1", "browsertest 2", "browsertest 3", "Løst", "Planlagt", HOUSING):
        assert text in body, body
