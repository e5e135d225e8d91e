"""The public pages as a visitor uses them: mouse, keyboard, language switch, downloads.

Each test starts from a fresh browser (no cookies) on the demo site served by ``tryg serve``
(see conftest.py) and leaves a screenshot of what it saw in tests/browser/screenshots/.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # playwright is imported by the fixtures (missing: skipped or failed there)
    from playwright.sync_api import Locator, Page

    from browser.conftest import ServedSite

pytestmark = pytest.mark.browser

MEASURE = "select[name=measure]"
WAVE = "select[name=wave]"
#: Area links in an SVG: Vega writes ``xlink:href``, hence any namespace (``*|href``).
AREA_LINK = "a[*|href*='/areas/']"
MAP_LINKS = f"svg {AREA_LINK}"
KEYS = ("area_code", "wave", "measure")


def api(site: ServedSite, path: str) -> Any:
    with urllib.request.urlopen(site(path), timeout=60) as answer:
        return json.load(answer)


def shot(page: Page, site: ServedSite, name: str) -> None:
    page.screenshot(path=str(site.screenshots / f"{name}.png"), full_page=True)


def other_option(select: Locator) -> str:
    """The value of an option of ``select`` that is not the selected one."""
    current = select.input_value()
    values = [v for v in select.locator("option").evaluate_all("os => os.map(o => o.value)")
              if v and v != current]
    assert values, f"{select} offers nothing to switch to (only {current!r})"
    return str(values[0])


def map_form(page: Page) -> Locator:
    """The GET form that chooses the map's measure and wave."""
    form = page.locator("form").filter(has=page.locator(MEASURE)).filter(
        has=page.locator(WAVE))
    assert form.count() == 1, "expected one form with a measure and a wave select"
    assert (form.get_attribute("method") or "get").lower() == "get"
    return form


def map_svg(page: Page) -> Locator:
    svg = page.locator("svg").filter(has=page.locator(AREA_LINK))
    assert svg.count() == 1, "expected one map (an SVG with area links)"
    return svg


def query(page: Page) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlparse

    return dict(parse_qsl(urlparse(page.url).query))


def test_front_page_shows_the_headline_with_chart_and_table(page: Page,
                                                            served_site: ServedSite) -> None:
    answer = page.goto(served_site("/"))
    assert answer is not None and answer.status == 200
    assert page.locator("html").get_attribute("lang") == "da"
    headline = page.locator("main section.headline")
    assert re.search(r"\d\s?%", headline.inner_text()), "no percentage in the headline"
    chart = headline.locator("svg[role=img]")
    assert chart.count() == 1, "the headline has no chart"
    assert chart.get_attribute("aria-label")
    assert headline.locator("table tbody tr").count() >= 2, "no table of the numbers"
    shot(page, served_site, "front-page")


def test_map_shows_areas_as_links(page: Page, served_site: ServedSite) -> None:
    page.goto(served_site("/"))
    with page.expect_navigation():
        page.locator("main a[href='/map/']").click()
    svg = map_svg(page)
    assert svg.get_attribute("role") == "img"
    assert svg.get_attribute("aria-label")
    codes = {a["code"] for a in api(served_site, "/api/areas")}
    hrefs = svg.locator("a").evaluate_all(
        "as => as.map(a => a.getAttribute('href') || a.getAttribute('xlink:href'))")
    linked = {m.group(1) for h in hrefs if (m := re.search(r"/areas/([^/]+)/", h or ""))}
    assert len(linked) >= 10 and linked <= codes, linked - codes
    shot(page, served_site, "map")


def test_map_measure_and_wave_switch_with_the_form(page: Page, served_site: ServedSite) -> None:
    page.goto(served_site("/map/"))
    form = map_form(page)
    before = map_svg(page).evaluate("e => e.outerHTML")
    measure = other_option(form.locator(MEASURE))
    wave = other_option(form.locator(WAVE))
    form.locator(MEASURE).select_option(measure)
    form.locator(WAVE).select_option(wave)
    with page.expect_navigation():
        form.locator("button[type=submit], input[type=submit], button:not([type])").click()
    assert query(page).get("measure") == measure
    assert query(page).get("wave") == wave
    form = map_form(page)
    assert form.locator(MEASURE).input_value() == measure
    assert form.locator(WAVE).input_value() == wave
    assert map_svg(page).evaluate("e => e.outerHTML") != before
    shot(page, served_site, "map-switched-by-form")


def test_map_measure_switches_by_keyboard(page: Page, served_site: ServedSite) -> None:
    page.goto(served_site("/map/"))
    start = map_form(page).locator(MEASURE).input_value()
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "measure":
            break
    else:
        pytest.fail("Tab never reached the measure selector")
    page.keyboard.press("ArrowDown")
    chosen = map_form(page).locator(MEASURE).input_value()
    if chosen == start:  # the last option was selected: go the other way
        page.keyboard.press("ArrowUp")
        chosen = map_form(page).locator(MEASURE).input_value()
    assert chosen != start
    for _ in range(10):
        page.keyboard.press("Tab")
        tag = page.evaluate("[document.activeElement.tagName, document.activeElement.type]")
        if tag in (["BUTTON", "submit"], ["INPUT", "submit"]):
            break
    else:
        pytest.fail("Tab never reached the form's submit button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert query(page).get("measure") == chosen
    assert map_form(page).locator(MEASURE).input_value() == chosen
    shot(page, served_site, "map-switched-by-keyboard")


def _table_values(page: Page) -> list[float | None]:
    """The map table's estimates top to bottom (None: a row without a value)."""
    values: list[float | None] = page.locator("main table tbody tr").evaluate_all(
        "rs => rs.map(r => { const d = r.querySelector('data');"
        " return d ? parseFloat(d.value) : null; })")
    return values


def _in_order(values: list[float | None], descending: bool) -> bool:
    known = [v for v in values if v is not None]
    tail = values[len(known):]
    return (known == sorted(known, reverse=descending)
            and all(v is None for v in tail))


def test_map_table_sorts_by_estimate_with_mouse_and_keyboard(page: Page,
                                                             served_site: ServedSite) -> None:
    """An enhancement (sort.js): the map table's header buttons sort its rows, say so in
    aria-sort, and keep rows without a value at the end."""
    page.goto(served_site("/map/"))
    header = page.locator("main table thead th[data-sort=number]")
    button = header.locator("button.sort")
    before = _table_values(page)
    assert len(before) >= 10 and not _in_order(before, descending=False)
    button.click()
    assert header.get_attribute("aria-sort") == "ascending"
    ascending = _table_values(page)
    assert _in_order(ascending, descending=False) and sorted(map(str, ascending)) == sorted(
        map(str, before))
    button.focus()
    page.keyboard.press("Enter")
    assert header.get_attribute("aria-sort") == "descending"
    assert _in_order(_table_values(page), descending=True)
    names = page.locator("main table thead th[data-sort=text] button.sort").first  # "Area"
    names.click()
    assert header.get_attribute("aria-sort") is None
    shown = page.locator("main table tbody th[scope=row]").all_inner_texts()
    assert shown == sorted(shown, key=lambda t: t.casefold()) or len(set(shown)) < 2
    shot(page, served_site, "map-table-sorted")


def test_map_table_without_javascript_is_plain(browser: Any, served_site: ServedSite) -> None:
    """Without JavaScript the table is the same table, in the server's order, with no
    buttons: nothing depends on the script."""
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(served_site("/map/"))
        assert page.locator("main table thead button").count() == 0
        assert page.locator("main table tbody tr").count() >= 10
    finally:
        context.close()


def test_an_area_link_in_the_map_opens_its_page(page: Page, served_site: ServedSite) -> None:
    page.goto(served_site("/map/"))
    links = page.locator(MAP_LINKS)
    assert links.count() >= 2, "the map has no area links"
    link = links.nth(links.count() // 2)
    href = link.get_attribute("href") or link.get_attribute("xlink:href") or ""
    code = re.search(r"/areas/([^/]+)/", href)
    assert code, href
    names = {a["code"]: a["name"] for a in api(served_site, "/api/areas")}
    with page.expect_navigation():
        link.click()
    assert page.url.endswith(f"/areas/{code.group(1)}/")
    assert names[code.group(1)] in page.locator("h1").inner_text()
    charts = page.locator("svg[role=img]")
    assert charts.count() >= 1, "the area page has no chart"
    shot(page, served_site, "area-page")


def test_an_area_in_the_map_opens_by_keyboard(page: Page, served_site: ServedSite) -> None:
    """The map's areas are links that Tab reaches and Enter follows."""
    page.goto(served_site("/map/"))
    script = ("() => { const a = document.activeElement; return a && a.closest('svg') ? "
              "(a.getAttribute('href') || a.getAttribute('xlink:href')) : null; }")
    for _ in range(80):
        page.keyboard.press("Tab")
        href = page.evaluate(script)
        if href and "/areas/" in href:
            break
    else:
        pytest.fail("Tab never reached an area of the map")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == served_site(href)
    shot(page, served_site, "area-page-by-keyboard")


def test_language_link_switches_to_english_and_back(page: Page,
                                                      served_site: ServedSite) -> None:
    """Danish by default; the header's language link switches the page (and the next ones)
    to English: the site's own strings and the specification's measure labels. The pages
    come from the whole-page cache, so this also checks that the cache keeps the languages
    apart."""
    headline = [m for m in api(served_site, "/api/measures")["measures"] if m["headline"]]
    assert headline, "the published specification has no headline measure"
    page.goto(served_site("/"))
    assert page.locator("html").get_attribute("lang") == "da"
    assert page.locator("header a[href='/login/']").inner_text() == "Log ind"
    assert headline[0]["label_da"] in page.locator("main").inner_text()
    with page.expect_navigation():
        page.locator("header a[hreflang=en]").click()
    assert page.url.rstrip("/") == served_site("")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("header a[href='/login/']").inner_text() == "Log in"
    assert headline[0]["label_en"] in page.locator("main").inner_text()
    shot(page, served_site, "front-page-english")
    page.goto(served_site("/methods/"))  # the choice is kept across pages
    assert page.locator("html").get_attribute("lang") == "en"
    with page.expect_navigation():
        page.locator("header a[hreflang=da]").click()
    assert page.url == served_site("/methods/")
    assert page.locator("html").get_attribute("lang") == "da"


def _number(text: str) -> float | None:
    text = text.strip()
    if text == "":
        return None
    return float(text)


def test_csv_download_holds_the_published_results(page: Page, served_site: ServedSite) -> None:
    """The CSV from the downloads page has exactly the rows and values of /api/results."""
    page.goto(served_site("/downloads/"))
    shot(page, served_site, "downloads")
    with page.expect_download() as info:
        page.locator("a[href$='results.csv']").click()
    path = info.value.path()
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    first = api(served_site, "/api/results?limit=1")
    expected: list[dict[str, Any]] = []
    while len(expected) < first["count"]:
        part = api(served_site, f"/api/results?limit=10000&offset={len(expected)}")
        assert part["run"] == first["run"]
        expected += part["results"]
    assert len(rows) == first["count"]
    assert rows, "the CSV is empty"
    columns = set(rows[0])
    assert {*KEYS, "estimate", "ci_low", "ci_high"} <= columns, columns

    def key(r: dict[str, Any]) -> tuple[str, str, str]:
        return (str(r["area_code"]), str(r["wave"]), str(r["measure"]))

    by_key = {key(r): r for r in expected}
    assert len(by_key) == len(expected)
    assert {key(r) for r in rows} == set(by_key)
    numeric = [c for c in ("estimate", "se", "ci_low", "ci_high", "n_eff", "change_prev",
                           "p_prev", "change_pooled", "diff_parent_rest") if c in columns]
    for row in rows:
        want = by_key[key(row)]
        for column in numeric:
            got, exp = _number(row[column]), want[column]
            assert (got is None) == (exp is None), (key(row), column, row[column], exp)
            if got is not None:
                assert math.isclose(got, exp, rel_tol=1e-9, abs_tol=1e-12), (key(row), column)
        for column in ("n_display", "method", "band"):
            if column in columns:
                assert row[column] == (want[column] or ""), (key(row), column)
    suppressed = [r for r in expected if r["suppressed"]]
    assert suppressed, "the demo's published run suppresses nothing: the check proves little"
    in_csv = {key(r): r for r in rows}
    for r in suppressed:
        assert _number(in_csv[key(r)]["estimate"]) is None, key(r)


def test_healthz_answers_ok(page: Page, served_site: ServedSite) -> None:
    answer = page.request.get(served_site("/healthz"))
    assert answer.status == 200
    assert answer.text() == "ok"


#: Every <text> of every chart on the page that reaches outside its SVG, or ends in "…"
#: (Vega's cut of a too-long label).
_CUT_TEXTS = """() => {
  const out = [];
  for (const svg of document.querySelectorAll("main svg")) {
    const box = svg.getBoundingClientRect();
    for (const t of svg.querySelectorAll("text")) {
      const r = t.getBoundingClientRect();
      if (!t.textContent.trim()) continue;
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1
          || r.bottom > box.bottom + 1 || t.textContent.trim().endsWith("…"))
        out.push(t.textContent);
    }
  }
  return out;
}"""


@pytest.mark.parametrize("language", ["da", "en"])
def test_no_chart_text_is_cut_off(page: Page, served_site: ServedSite, language: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": language,
                               "url": served_site("/")}])
    page.set_viewport_size({"width": 1280, "height": 900})
    paths = ["/", "/areas/9999/", "/areas/9999-01-01/"]
    paths += [f"/map/?measure={m}" for m in ("tryghedsindeks", "tryghed_trygge",
                                              "anmeldelser_straffelov_eb", "gap")]
    for path in paths:
        answer = page.goto(served_site(path))
        assert answer is not None and answer.status == 200, path
        assert page.locator("main svg").count() >= 1, path
        cut = page.evaluate(_CUT_TEXTS)
        assert not cut, (path, cut)


def test_map_areas_name_themselves_on_hover(page: Page, served_site: ServedSite) -> None:
    page.goto(served_site("/map/"))
    pairs = map_svg(page).locator("a").evaluate_all(
        "as => as.map(a => [a.querySelector(':scope > title')?.textContent,"
        " a.querySelector('path')?.getAttribute('aria-label')])")
    assert len(pairs) >= 10
    for title, label in pairs:  # the browser's hover name is what a screen reader reads
        assert title and title == label, (title, label)
