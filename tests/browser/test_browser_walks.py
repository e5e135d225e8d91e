"""The safety-walk loop in headless Chromium, on the served demo site.

Plan a walk (route drawn on the area's map), add participants and invite them, record three
findings through a participant's personal link on a phone-sized viewport, give them an owner,
change their states as that partner, hold the closing meeting, schedule the re-walk and send the
participants' summary, read back from the site's outbox (Django's file e-mail backend,
``TRYG_EMAIL_FILE_PATH``).

The phone reaches the site through a TCP relay (tests/support/relay.py) that the test cuts: the
second and third findings are recorded while the server's port refuses connections, not under
Chromium's offline emulation alone (which does not reach the service worker's own requests,
Playwright issue 2311). The page is reloaded twice with the server gone; each reload must be
answered from the service worker's cache (no connection reaches the relay) with the queued
findings (a photo among them) and the half-typed draft intact; a third time with the relay
answering 502 as a proxy in front of a dead site does. When the relay listens again the
answer to the first send is lost on the way, so the page sends again: the server has each
finding once, and the page lists each once.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import socket
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from PIL import Image

from support.relay import Relay

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


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None, url
    return port


def _refused(port: int) -> None:
    """The port refuses connections: nothing answers there."""
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass


def _stored(site: ServedSite, text: str) -> tuple[int, int]:
    """(findings, photos) on the server whose text contains ``text``."""
    with sqlite3.connect(f"file:{site.data_dir / 'tryg.sqlite3'}?mode=ro", uri=True) as db:
        found = db.execute("SELECT COUNT(*) FROM walks_finding WHERE text LIKE ?",
                           (f"%{text}%",)).fetchone()
        photos = db.execute(
            "SELECT COUNT(*) FROM walks_photo p JOIN walks_finding f ON p.finding_id = f.id"
            " WHERE f.text LIKE ?", (f"%{text}%",)).fetchone()
    return int(found[0]), int(photos[0])


def _queued_keys(phone: Page) -> list[str]:
    """The idempotency keys of the observations waiting in the page's IndexedDB queue."""
    keys: list[str] = phone.evaluate(
        "() => new Promise((resolve, reject) => { const r = indexedDB.open('tryg-walks');"
        " r.onerror = () => reject(r.error); r.onsuccess = () => {"
        " const q = r.result.transaction('queue').objectStore('queue').getAllKeys();"
        " q.onerror = () => reject(q.error);"
        " q.onsuccess = () => { r.result.close(); resolve(q.result); }; }; })")
    return keys


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
    # a walk a few days ahead: the phone records its findings before the walk's day, so it
    # stays planned (invitations and reminders go out) whatever day the test runs on
    page.fill("#id_date", (dt.date.today() + dt.timedelta(days=3)).isoformat())
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

    # 2. record on a phone through the personal link (no account), through a relay the test
    #    can cut: the second and third findings are recorded with the server gone
    personal_path = personal.get_attribute("href") or ""
    relay = Relay(target_port=_port(site.url)).start()
    phone_context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                        has_touch=True, locale="da-DK")
    phone_context.set_default_timeout(30_000)
    phone_context.on("console", watch)
    try:
        _offline_recording(phone_context, relay, site, page, walk_url, personal_path, axe)
    finally:
        phone_context.close()
        relay.close()

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

    # 5. the closing meeting, grouped by owner; the printable list. A phone has a finding
    #    queued offline when the meeting is held: sent afterwards, the server refuses it (409)
    #    and the phone drops it from its queue with the reason instead of trying for ever.
    late_context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                       locale="da-DK")
    late_context.set_default_timeout(30_000)
    try:
        late = late_context.new_page()
        late.goto(site(personal_path))
        expect(late.locator("#walk-map svg")).to_be_visible()
        late_context.set_offline(True)
        _record(late, "lighting", "Sendt efter mødet (browsertest sent)")
        expect(late.locator("#record")).to_have_attribute("data-queued", "1")
        page.goto(walk_url + "afslutning/")
        group = page.locator("section.owner-group", has_text=HOUSING)
        expect(group.locator("tbody tr")).to_have_count(3)
        page.locator("#hold-meeting").click()
        expect(page.locator("#meeting-held")).to_be_visible()
        late_context.set_offline(False)
        expect(late.locator("#record")).to_have_attribute("data-queued", "0")
        expect(late.locator("#queue-status")).to_contain_text(
            "Serveren afviste et fund: Tryghedsvandringen er lukket for nye fund")
        assert _queued_keys(late) == []
        assert _stored(site, "browsertest sent") == (0, 0)
        late.reload()
        expect(late.locator("#walk-closed")).to_contain_text("lukket for nye fund")
        expect(late.locator("#finding-form")).to_be_hidden()
    finally:
        late_context.close()
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


def _offline_recording(phone_context: BrowserContext, relay: Relay, site: ServedSite,
                       desk: Page, walk_url: str, personal_path: str, axe: Axe) -> None:
    """Three findings on a phone: the first sent at once; the second recorded after the server
    is gone (the relay refuses connections, the phone still believes it is online); the page
    reloaded from the service worker's cache with that finding queued and a draft half typed;
    the draft completed as the third finding; both sent once the server is back, although the
    answer to the first send is lost on the way."""
    from playwright.sync_api import expect

    phone = phone_context.new_page()
    record = phone.locator("#record")
    phone.goto(f"http://127.0.0.1:{relay.port}{personal_path}")
    expect(record).to_have_attribute("data-offline-ready", "1")
    assert not _serious(axe, phone), _serious(axe, phone)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _record(phone, "lighting", "Mørk sti ved skolen (browsertest 1)")
    expect(phone.locator("#recorded")).to_contain_text("browsertest 1")
    expect(record).to_have_attribute("data-sending", "0")  # and the page kept as it is now
    expect(record).to_have_attribute("data-queued", "0")

    # The server is gone: its port refuses connections. The phone does not know yet.
    relay.cut()
    _refused(relay.port)
    _record(phone, "vegetation", "Høj hæk ved tunnelen (browsertest 2)", photo=True)
    expect(record).to_have_attribute("data-queued", "1")
    expect(record).to_have_attribute("data-sending", "0")
    phone_context.set_offline(True)  # now it does (navigator.onLine, the page's message)
    expect(phone.locator("#queue-status")).to_contain_text("Venter på at blive sendt: 1")
    phone.fill("#id_text", "Halvskrevet kladde")
    phone.dispatch_event("#id_text", "input")
    cached = phone.evaluate(
        "async () => { const c = await caches.open('tryg-walks-v1');"
        " const keys = await c.keys(); return keys.map(k => new URL(k.url).pathname); }")
    assert any(p.endswith("/kort.json") for p in cached), cached
    assert any(p.endswith("/walks/record.js") for p in cached), cached
    assert personal_path in cached, cached

    # Reloaded without a server: the service worker answers from its cache, nothing is lost.
    accepted = relay.accepted
    response = phone.reload()
    assert response is not None and response.ok and response.from_service_worker
    _refused(relay.port)
    assert relay.accepted == accepted, "the reload reached the server"
    expect(record).to_have_attribute("data-queued", "1")
    expect(phone.locator("#id_text")).to_have_value("Halvskrevet kladde")
    expect(phone.locator("#recorded")).to_contain_text("browsertest 1")
    expect(phone.locator("#walk-map svg")).to_be_visible()
    assert phone.input_value("#id_idempotency_key") not in _queued_keys(phone)

    # The draft completed and saved, still without a server: queued beside the other one.
    _record(phone, "graffiti", "Halvskrevet kladde: grafitti i kælderen (browsertest 3)")
    expect(record).to_have_attribute("data-queued", "2")
    expect(phone.locator("#queue-status")).to_contain_text("Venter på at blive sendt: 2")
    response = phone.reload()
    assert response is not None and response.ok and response.from_service_worker
    expect(record).to_have_attribute("data-queued", "2")
    # The cached page holds the key its form had when it was kept, the one the third finding
    # was queued with: the next finding must not take it (and replace the queued one).
    assert phone.input_value("#id_idempotency_key") not in _queued_keys(phone)
    assert relay.accepted == accepted, "a reload reached the server"
    # The site down behind its proxy: the page's own address answers 502, the service worker
    # answers the reload from its cache.
    relay.restore()
    relay.bad_gateway(True)
    response = phone.reload()
    assert response is not None and response.ok and response.from_service_worker
    assert relay.accepted > accepted, "the service worker did not try the network"
    expect(record).to_have_attribute("data-queued", "2")
    expect(phone.locator("#walk-map svg")).to_be_visible()
    relay.cut()
    relay.bad_gateway(False)
    desk.goto(walk_url)  # the desk reaches the server directly: nothing arrived
    expect(desk.locator("main")).not_to_contain_text("browsertest 2")
    expect(desk.locator("main")).not_to_contain_text("browsertest 3")
    assert _stored(site, "browsertest 2") == (0, 0)

    # The server is back on the same port; the answer to the first send is lost on the way.
    relay.lose_next_answer()
    relay.restore()
    phone_context.set_offline(False)
    assert relay.answer_lost.wait(timeout=60), "the queued findings were not sent"
    assert _stored(site, "browsertest 2") == (1, 1)  # the server has it; the phone has not heard
    expect(record).to_have_attribute("data-sending", "0")
    # The phone's signal comes and goes once more: the queue is sent again, each finding once.
    phone_context.set_offline(True)
    phone_context.set_offline(False)
    expect(record).to_have_attribute("data-queued", "0")
    expect(record).to_have_attribute("data-sending", "0")
    for text in ("browsertest 2", "browsertest 3"):
        expect(phone.locator("#recorded li", has_text=text)).to_have_count(1)
    assert relay.lost == 1
    assert _stored(site, "browsertest 1") == (1, 0)
    assert _stored(site, "browsertest 2") == (1, 1)
    assert _stored(site, "browsertest 3") == (1, 0)
