"""The municipal analyst's path through the served demo site, in Danish, without JavaScript
needs: log in → an upload with errors (all listed by row and column) → the fixed upload →
an index run → its results downloaded → published after the confirmation page → the import
withdrawn. The demo's own run is published again at the end (other browser tests see it)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import FilePayload, Page

    from browser.conftest import ServedSite

pytestmark = pytest.mark.browser

HEADER = "respondent_id,wave,area_code,weight,tryg_nabolag\n"
BROKEN = HEADER + ("w-1,2031,9999-01-01,1,2\n"
                   "w-2,2031,9999-01-01,1,9\n"     # row 3: 9 on the 1-7 scale
                   "w-3,2031,9999-77-77,1,3\n"     # row 4: no such area
                   "w-4,2031,9999-01-02,1,12\n")   # row 5: 12 on the 1-7 scale
FIXED = BROKEN.replace(",9\n", ",8\n").replace("9999-77-77", "9999-01-02").replace(
    ",12\n", ",7\n")


def shot(page: Page, site: ServedSite, name: str) -> None:
    page.screenshot(path=str(site.screenshots / f"workflow-{name}.png"), full_page=True)


def _upload(page: Page, text: str) -> None:
    page.select_option("select[name=kind]", "survey")
    upload: FilePayload = {"name": "svar.csv", "mimeType": "text/csv",
                           "buffer": text.encode("cp1252")}
    page.set_input_files("input[name=file]", files=[upload])
    page.locator("form[enctype='multipart/form-data'] button[type=submit]").click()


def test_the_analysts_path(page: Page, served_site: ServedSite) -> None:
    site = served_site
    name, password = site.users["analyst"]
    live_before = _live_run(page, site, name, password)

    # 1. landed on the analysts' pages (checked in _live_run); the upload page one click away
    page.locator("nav a[href='/analyse/import/']").click()
    assert page.url == site("/analyse/import/")

    # 2. an upload with three problems: all of them, by row and column
    _upload(page, BROKEN)
    errors = page.locator("table.errors tbody tr")
    assert errors.count() == 3
    cells = [errors.nth(i).locator("td").all_inner_texts()[:3] for i in range(3)]
    assert sorted(cells) == [["svar.csv", "3", "tryg_nabolag"], ["svar.csv", "4", "area_code"],
                             ["svar.csv", "5", "tryg_nabolag"]]
    shot(page, site, "1-errors")

    # 3. the fixed file is imported
    _upload(page, FIXED)
    assert page.locator("table.errors").count() == 0
    report = page.locator("section.report").inner_text()
    batch = re.search(r"#(\d+)", report)
    assert batch is not None, report
    batch_id = int(batch.group(1))

    # 4. an index run (register measures: the new wave has no population to calibrate to)
    page.locator("nav a[href='/analyse/runs/']").click()
    page.uncheck("#id_survey")
    page.locator("form[action='/analyse/runs/new/'] button[type=submit]").click()
    # the run is a background job (tryg serve's own worker runs it): the job's page reloads
    # itself (HTTP Refresh, no script) until the job is done, then links to the run
    assert re.search(r"/analyse/jobs/\d+/$", page.url), page.url
    assert page.locator("ul.messages li.info").count() == 1
    page.locator("dl.job[data-state='done']").wait_for(timeout=180_000)
    page.locator("dl.job ~ p a[href^='/analyse/runs/']").click()
    match = re.search(r"/analyse/runs/(\d+)/$", page.url)
    assert match is not None, page.url
    run_id = int(match.group(1))
    shot(page, site, "2-run")

    # 5. the results downloaded
    with page.expect_download() as info:
        page.locator(f"a[href='/analyse/runs/{run_id}/results.csv']").click()
    content = Path(info.value.path()).read_text(encoding="utf-8")
    assert content.startswith("area_code,") and content.count("\n") > 10

    # 6. publishing: the confirmation page first, naming the run it replaces
    page.locator(f"a[href='/analyse/runs/{run_id}/publish/']").click()
    heading = page.locator("h1").inner_text()
    assert f"#{run_id}" in heading
    assert f"#{live_before}" in page.locator("main").inner_text()
    shot(page, site, "3-confirm")
    page.locator(f"form[action='/analyse/runs/{run_id}/publish/'] button").click()
    assert page.url == site(f"/analyse/runs/{run_id}/")
    assert page.locator(".live").count() == 1

    # 7. the import withdrawn, after its confirmation page
    page.goto(site(f"/analyse/import/{batch_id}/"))
    page.locator(f"a[href='/analyse/import/{batch_id}/withdraw/']").click()
    page.locator(f"form[action='/analyse/import/{batch_id}/withdraw/'] button").click()
    assert page.url == site(f"/analyse/import/{batch_id}/")
    assert page.locator("ul.messages li.success").count() == 1
    assert page.locator(f"a[href='/analyse/import/{batch_id}/withdraw/']").count() == 0
    shot(page, site, "4-withdrawn")

    # the demo's own publication back, for the other browser tests
    page.goto(site(f"/analyse/runs/{run_id}/"))
    page.locator(f"form[action='/analyse/runs/{run_id}/unpublish/'] button").click()
    assert _live_run(page, site) == live_before


def _live_run(page: Page, site: ServedSite, name: str = "", password: str = "") -> int:
    """Log in (when given a name), then the number of the run the runs list marks live."""
    if name:
        page.goto(site("/login/"))
        page.fill("input[name=username]", name)
        page.fill("input[name=password]", password)
        page.locator("main form button[type=submit]").click()
        assert page.url == site("/analyse/")
    page.goto(site("/analyse/runs/"))
    row = page.locator("tr").filter(has=page.locator(".live"))
    assert row.count() == 1
    number = int(row.locator("th a").inner_text())
    if name:
        page.goto(site("/analyse/"))
    return number
