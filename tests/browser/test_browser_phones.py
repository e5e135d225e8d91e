"""Every public page on a phone: Chromium at 390 × 844 CSS px (an iPhone 12–15's viewport).

No page may be wider than the viewport (``document.documentElement.scrollWidth <= 390``: the
page itself never scrolls sideways; a wide data table scrolls inside its own
``.table-scroll`` box), every chart (``svg.tryg-chart`` and the map) fits the viewport, and the
text of the charts stays readable after the chart has been scaled down to the screen.

Readability criterion: the rendered font size of every chart ``<text>`` — its computed
font size times the scale the SVG is drawn at (``getScreenCTM().a``) — is at least
:data:`MIN_CHART_FONT_PX` CSS px. That is the size of the text's em box on the screen,
independent of which letters the label has (a bounding-box height of "ooo" is smaller than
that of "Ålborg"), and 9 CSS px is the smallest text the WCAG-minded chart guides accept for
axis labels (body text is 16 px).

Every page is visited in Danish (the default, no cookie) and then, after the header's
``/sprog/en/`` switch, in English. The pages: the front page, the map with each level and each
``show`` choice, every area of the demo (all levels), methods, downloads and the codebook, a
search, the log-in page and a page that does not exist.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from browser.conftest import ServedSite

pytestmark = pytest.mark.browser

WIDTH = 390
HEIGHT = 844
#: The smallest rendered font size (CSS px) of chart text on a 390 px wide screen.
MIN_CHART_FONT_PX = 9.0

#: Everything wider than the viewport, and the text of the charts that is too small.
_MEASURE = """([width, minFont]) => {
  const out = {scrollWidth: document.documentElement.scrollWidth, wide: [], charts: 0,
               small: [], outside: []};
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.right > width + 0.5 && !el.closest(".table-scroll")) {
      out.wide.push(`${el.tagName.toLowerCase()}.${el.className.baseVal ?? el.className}`
                    + ` right=${Math.round(r.right)}`);
    }
  }
  for (const svg of document.querySelectorAll("main svg.tryg-chart, main svg[role=img]")) {
    out.charts += 1;
    const box = svg.getBoundingClientRect();
    if (box.right > width + 0.5 || box.left < -0.5) out.outside.push(Math.round(box.right));
    for (const t of svg.querySelectorAll("text")) {
      if (!t.textContent.trim()) continue;
      const ctm = t.getScreenCTM();
      const scale = ctm ? Math.hypot(ctm.a, ctm.b) : 1;
      const px = parseFloat(getComputedStyle(t).fontSize) * scale;
      if (px < minFont) out.small.push(`${t.textContent.trim().slice(0, 30)}: `
                                       + `${px.toFixed(1)} px`);
    }
  }
  return out;
}"""


def _api(site: ServedSite, path: str) -> Any:
    with urllib.request.urlopen(site(path), timeout=60) as answer:
        return json.load(answer)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A phone: 390 × 844 CSS px, three device pixels per CSS pixel, touch, Danish."""
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT},
                                  device_scale_factor=3, is_mobile=True, has_touch=True,
                                  locale="da-DK")
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _public_paths(phone: Page, site: ServedSite) -> list[str]:
    """Every public page of the demo: the map's levels × show choices from its own form,
    the areas from the API."""
    phone.goto(site("/map/"))
    levels = phone.locator("select[name=level] option").evaluate_all(
        "os => os.map(o => o.value)")
    shows = phone.locator("select[name=show] option").evaluate_all(
        "os => os.map(o => o.value)")
    assert shows, "the map offers no show choice"
    areas = sorted(a["code"] for a in _api(site, "/api/areas"))
    assert areas, "the demo has no areas"
    paths = ["/", "/map/", "/methods/", "/downloads/", "/downloads/codebook/", "/search/?q=a",
             "/search/?q=9999", "/login/", "/areas/no-such-area/"]
    paths += [f"/map/?level={lv}&show={s}" for lv in levels or [""] for s in shows]
    paths += [f"/areas/{code}/" for code in areas]
    # the strategy's public pages and the citizens' report form, found by their links
    phone.goto(site("/strategies/"))
    strategies = phone.locator("main a[href^='/strategies/']").evaluate_all(
        "as => as.map(a => a.getAttribute('href'))")
    assert strategies, "the demo has no public strategy"
    phone.goto(site(strategies[0]))
    initiatives = phone.locator("main a[href^='/initiatives/']").evaluate_all(
        "as => as.map(a => a.getAttribute('href'))")
    assert initiatives, "the demo strategy shows no initiative"
    pages = [h.split("#")[0] for h in (*strategies, *initiatives)]  # without the anchors
    paths += ["/strategies/", *dict.fromkeys(pages), "/meld-utrygt-sted/"]
    return paths


def _problems(phone: Page, site: ServedSite, path: str, *, fonts: bool = False) -> list[str]:
    answer = phone.goto(site(path))
    assert answer is not None
    expected = 404 if "no-such-area" in path else 200
    assert answer.status == expected, (path, answer.status)
    m: dict[str, Any] = phone.evaluate(_MEASURE, [WIDTH, MIN_CHART_FONT_PX])
    found = []
    if m["scrollWidth"] > WIDTH:
        found.append(f"{path}: scrollWidth {m['scrollWidth']} > {WIDTH}: {m['wide'][:5]}")
    if m["outside"]:
        found.append(f"{path}: a chart reaches outside the screen (right {m['outside']})")
    if fonts and m["small"]:
        found.append(f"{path}: {len(m['small'])} chart texts below {MIN_CHART_FONT_PX} px, "
                     f"e.g. {m['small'][:3]}")
    return found


def test_every_public_page_fits_a_phone_in_both_languages(phone: Page,
                                                          served_site: ServedSite) -> None:
    paths = _public_paths(phone, served_site)
    problems: list[str] = []
    for path in paths:
        problems += _problems(phone, served_site, path)
    phone.goto(served_site("/"))
    assert phone.locator("html").get_attribute("lang") == "da"
    with phone.expect_navigation():
        phone.locator("header a[hreflang=en]").click()  # /sprog/en/?next=/
    assert phone.locator("html").get_attribute("lang") == "en"
    for path in paths:
        problems += [f"(en) {p}" for p in _problems(phone, served_site, path)]
    assert phone.locator("html").get_attribute("lang") == "en"
    assert not problems, f"{len(problems)} problems on {2 * len(paths)} pages:\n" + "\n".join(
        problems)


#: A page of each kind that has charts: the front page, an area of each level, the map.
CHART_PAGES = ("/", "/areas/9999/", "/areas/9999-01/", "/areas/9999-01-01/", "/map/",
               "/map/?show=values")


@pytest.mark.parametrize("language", ["da", "en"])
def test_chart_text_is_readable_on_a_phone(phone: Page, served_site: ServedSite,
                                           language: str) -> None:
    phone.context.add_cookies([{"name": "django_language", "value": language,
                                "url": served_site("/")}])
    problems: list[str] = []
    for path in CHART_PAGES:
        problems += _problems(phone, served_site, path, fonts=True)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", ["/", "/areas/9999/", "/areas/9999-01-01/", "/map/"])
def test_phone_screenshots(phone: Page, served_site: ServedSite, path: str) -> None:
    """Screenshots at 390 px of the front page, an area and the map, for a person to look at
    (tests/browser/screenshots/phone-*.png); the page fits."""
    answer = phone.goto(served_site(path))
    assert answer is not None and answer.status == 200
    name = "phone-" + (path.strip("/").replace("/", "-") or "front")
    phone.screenshot(path=str(served_site.screenshots / f"{name}.png"), full_page=True)
    charts = phone.locator("main svg[role=img]")
    if charts.count():  # the first chart as a phone shows it (device pixels)
        charts.first.screenshot(path=str(served_site.screenshots / f"{name}-chart.png"))
    assert phone.evaluate("document.documentElement.scrollWidth") <= WIDTH



def _post_without_token(page: Page, site: ServedSite, fields: int = 2) -> None:
    """Send a form to the log-in page without its CSRF token, as a stale or copied form would
    (with ``fields`` fields: more than Django's limit gives a 400 before the token is checked)."""
    page.goto(site("/login/"))
    with page.expect_navigation():
        page.evaluate("""(fields) => {
          const form = document.createElement("form");
          form.method = "post";
          form.action = "/login/";
          for (let i = 0; i < fields; i++) {
            const field = document.createElement("input");
            field.name = `f${i}`; field.value = "1"; form.append(field);
          }
          document.body.append(form);
          form.submit();
        }""", fields)


#: Error pages a visitor can meet: the path (or the number of fields of a log-in form sent
#: without its token), the status, a word of the page's Danish and of its English text, and
#: whether the page has the site's header (the 400 page is rendered without a request).
ERROR_PAGES: tuple[tuple[str | int, int, str, str, bool], ...] = (
    ("/logout/", 405, "muligt", "possible", True),  # logging out is a POST
    ("/areas/no-such-area/", 404, "findes", "no page", True),
    (2, 403, "formularen", "form", True),
    (1100, 400, "forespørgslen", "bad request", False),
)


@pytest.mark.parametrize("language", ["da", "en"])
def test_error_pages_fit_a_phone_in_the_pages_language(phone: Page, served_site: ServedSite,
                                                       language: str) -> None:
    """The site's own 400, 403 (a form without its CSRF token), 404 and 405 pages on a phone:
    the right status, in the visitor's language, in the site's frame, as wide as the screen."""
    phone.context.add_cookies([{"name": "django_language", "value": language,
                                "url": served_site("/")}])
    problems: list[str] = []
    for what, status, da, en, header in ERROR_PAGES:
        if isinstance(what, int):
            with phone.expect_response(lambda r: r.request.method == "POST") as posted:
                _post_without_token(phone, served_site, what)
            answer = posted.value
            where = f"a log-in form of {what} fields without its token"
        else:
            answer = phone.goto(served_site(what))  # type: ignore[assignment]
            where = what
        assert answer is not None
        if answer.status != status:
            problems.append(f"{where}: status {answer.status}, not {status}")
        text = phone.locator("main").inner_text().lower()
        word = da if language == "da" else en
        if word not in text:
            problems.append(f"{where}: {word!r} not in the page: {text[:200]!r}")
        if phone.locator("html").get_attribute("lang") != language:
            problems.append(f"{where}: html lang is not {language}")
        if header and not phone.locator("header").count():
            problems.append(f"{where}: no site header")
        width = phone.evaluate("document.documentElement.scrollWidth")
        if width > WIDTH:
            problems.append(f"{where}: scrollWidth {width} > {WIDTH}")
    assert not problems, "\n".join(problems)


def _log_in(phone: Page, site: ServedSite, role: str) -> None:
    name, password = site.users[role]
    phone.goto(site("/login/"))
    phone.fill("input[name=username]", name)
    phone.fill("input[name=password]", password)
    with phone.expect_navigation():
        phone.locator("main form button[type=submit]").click()


def _links(phone: Page, site: ServedSite, path: str, prefix: str) -> list[str]:
    phone.goto(site(path))
    found = phone.locator(f"main a[href^='{prefix}']").evaluate_all(
        "as => as.map(a => a.getAttribute('href'))")
    return list(dict.fromkeys(h.split("#")[0] for h in found))


def _numbered(paths: list[str]) -> list[str]:
    """The pages of one object: paths ending in its number (``/…/handlinger/3/``)."""
    return [p for p in paths if p.rstrip("/").rsplit("/", 1)[-1].isdigit()]


@pytest.mark.parametrize("role", ["coordinator", "partner"])
def test_the_safety_walk_staff_pages_fit_a_phone(phone: Page, served_site: ServedSite,
                                                 role: str) -> None:
    """The probe found the walk list, a walk, its closing meeting, the moderation queue, the
    actions and an action's forms (a partner reports a fix from the street) up to 598 px wide
    at 390 px: their tables did not scroll in a box and a fieldset grew with its textarea."""
    _log_in(phone, served_site, role)
    actions = _numbered(_links(phone, served_site, "/tryghedsvandringer/handlinger/",
                               "/tryghedsvandringer/handlinger/"))
    assert actions, "the demo shows this role no action"
    paths = ["/tryghedsvandringer/handlinger/", actions[-1], "/tryghedsvandringer/tal/"]
    if role == "coordinator":
        walks = _numbered(_links(phone, served_site, "/tryghedsvandringer/",
                                 "/tryghedsvandringer/"))
        assert walks, "the demo made no safety walks"
        paths += ["/tryghedsvandringer/", *walks, f"{walks[-1]}afslutning/",
                  "/tryghedsvandringer/moderation/"]
    problems: list[str] = []
    for language in ("da", "en"):
        phone.goto(served_site(f"/sprog/{language}/?next=/"))
        for path in paths:
            problems += [f"({language}) {p}" for p in _problems(phone, served_site, path)]
    assert not problems, "\n".join(problems)
