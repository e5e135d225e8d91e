"""Walking every public URL of the demo: no suppressed value, no small count, no answer.

The demo municipality is imported and its index run stored as `tryg demo` does; then, before
publication, every value the publication rules hide is overwritten in the stored results with
a recognisable marker (integer part 7000–8999, fraction .4375; a suppressed row's n becomes
8191). The test then asks for every public page in both languages — the front page, the map for
every measure × wave (and every level), every area page, methods, downloads and every
downloadable file, and every public API endpoint — as an anonymous visitor (in English: every
page, and a few area pages, since only the form of the numbers changes), and looks for the
markers in every form a page or file could print them: with point or comma, with or without a
thousands separator, as a share in per cent (× 100). Record-level data is looked for as the
survey's respondent ids. A test that finds nothing must be able to find something: the same
search run on the internal results file finds the markers.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client

from support.demo_import import imported_demo_run
from tryg.index import load_spec
from tryg.runs.models import IndexRun, ResultRow
from tryg.runs.services import public_results, publish, results_frame
from tryg.surveys.models import Response

HIDDEN_N = 8191
#: A marker printed as a number: 7000–8999 with decimals, or its × 100 (700000–899999.x).
MARKER = re.compile(
    r"(?<![\d.,])(?:[78][.,]?\d{3}|[78]\d{2}[.,]?\d{3})[.,]\d"
    r"|(?<![\d.,])8[.,]?191(?![\d])")
#: Drawing attributes of the SVG charts (coordinates such as "M7,124.3" are not figures).
GEOMETRY = re.compile(
    r'\s(?:d|transform|points|x|y|x1|x2|y1|y2|dx|dy|cx|cy|r|width|height|viewBox'
    r'|stroke-width|font-size|stroke-dasharray)="[^"]*"')
RESPONDENT = re.compile(r"\b20\d\d-\d{6}\b")
VALUE_COLUMNS = ("estimate", "se", "ci_low", "ci_high", "change_prev", "p_prev",
                 "change_pooled", "diff_parent_rest", "n_eff")


@pytest.fixture(scope="module")
def marked_run(django_db_setup: Any, django_db_blocker: Any,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexRun]:
    files = tmp_path_factory.mktemp("walk-demo")
    with django_db_blocker.unblock(), transaction.atomic():
        run, analyst = imported_demo_run(files, "walk-analyst")
        _mark_hidden_values(run)
        publish(run, analyst)
        yield run
        transaction.set_rollback(True)


def _mark_hidden_values(run: IndexRun) -> None:
    """Overwrite what the publication rules hide with markers (suppressed rows: every value
    and n; small register counts: the rate, its interval and change)."""
    spec = load_spec("dk-tryghedsindeks")
    small = spec.publication.small_count
    register_ids = {r.id for r in spec.register} | {f"{r.id}_eb" for r in spec.register}
    rows = list(ResultRow.objects.filter(run=run))
    suppressed = [r for r in rows if r.suppressed]
    counts = [r for r in rows if not r.suppressed and r.measure in register_ids
              and r.n is not None and r.n <= small]
    assert suppressed and counts, (len(suppressed), len(counts))  # the walk has work to do
    for i, row in enumerate(suppressed + counts):
        for j, column in enumerate(VALUE_COLUMNS):
            if column == "n_eff" and not row.suppressed:
                continue
            setattr(row, column, 7000 + (i * 11 + j) % 2000 + 0.4375)
        if row.suppressed:
            row.n = HIDDEN_N
    ResultRow.objects.bulk_update(suppressed + counts, [*VALUE_COLUMNS, "n"])


def _text(response: Any) -> str:
    """The response as text to search. Files and API answers write numbers with a decimal
    point and separate them with commas: those commas become spaces, so a value that follows
    another is still seen as a number of its own."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    kind = response.get("Content-Type", "")
    if kind.startswith("application/vnd.openxmlformats-officedocument.spreadsheetml"):
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
        return "\n".join(" ".join("" if v is None else str(v) for v in row)
                         for sheet in book.worksheets for row in sheet.iter_rows(values_only=True))
    if content.startswith(b"\xef\xbb\xbf"):  # the CSV for Danish Excel: ";" and decimal comma
        return content.decode("utf-8-sig").replace(";", " ")
    text = str(content.decode("utf-8"))
    if kind.startswith("text/html"):  # charts: their words stay, their geometry goes
        return GEOMETRY.sub("", text)
    return text.replace(",", " ")


def _public_urls(client: Client, run: IndexRun) -> list[str]:
    table = public_results(run)
    measures = sorted(table["measure"].unique())
    waves = sorted(int(w) for w in table["wave"].dropna().unique())
    levels = sorted(table["level"].unique())
    urls = ["/", "/map/", "/methods/", "/downloads/"]
    urls += [f"/map/?measure={m}&wave={w}" for m in measures for w in waves]
    urls += [f"/map/?measure={measures[0]}&level={lv}" for lv in levels]
    urls += [f"/areas/{code}/" for code in sorted(table["area_code"].unique())]
    urls += [f"/downloads/results.{fmt}" for fmt in ("csv", "xlsx", "json")]
    urls += ["/downloads/results-excel.csv", "/downloads/codebook/", "/downloads/codebook.csv"]
    urls += [f"/downloads/results.geojson?wave={w}" for w in waves]
    urls += ["/api/areas", "/api/areas?geometry=1", "/api/waves", "/api/measures", "/api/runs",
             "/api/openapi.json", "/api/docs"]
    count = json.loads(client.get("/api/results?limit=1").content)["count"]
    urls += [f"/api/results?limit=1000&offset={o}" for o in range(0, count, 1000)]
    urls += [f"/api/results?run={run.pk}&measure={m}" for m in measures]
    return urls


def _findings(text: str, respondents: set[str]) -> list[str]:
    found = [m.group(0) for m in MARKER.finditer(text)]
    found += [m.group(0) for m in RESPONDENT.finditer(text) if m.group(0) in respondents]
    return found


@pytest.mark.django_db
def test_no_public_url_shows_a_hidden_value_or_a_respondent(marked_run: IndexRun) -> None:
    cache.clear()
    respondents = set(Response.objects.values_list("respondent", flat=True))
    assert respondents and all(RESPONDENT.fullmatch(r) for r in list(respondents)[:50])
    # The search finds the markers where they are allowed: the internal results.
    internal = results_frame(marked_run).to_csv(index=False).replace(",", " ")
    assert len(_findings(internal, respondents)) > 100
    failures: list[str] = []
    visited = 0
    for language in ("da", "en"):
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        urls = _public_urls(client, marked_run)
        if language == "en":  # the numbers do not depend on the language, only their form:
            # every page once, and three area pages (each area page draws 16 charts)
            areas = [u for u in urls if u.startswith("/areas/")]
            urls = [u for u in urls if not u.startswith(("/map/?", "/api/", "/downloads/r",
                                                          "/areas/"))] + areas[::len(areas) // 3]
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (language, url, response.status_code)
            visited += 1
            found = _findings(_text(response), respondents)
            if found:
                failures.append(f"{language} {url}: {sorted(set(found))[:5]}")
    assert visited > 150
    assert not failures, "\n".join(failures[:20])


def test_the_marker_pattern_finds_every_printed_form() -> None:
    value = 7012.4375
    forms = [repr(value), f"{value:.1f}", f"{value:.2f}", f"{value:,.1f}",
             f"{value:,.1f}".replace(",", "X").replace(".", ",").replace("X", "."),
             f"{value * 100:.1f}", f"{value * 100:,.1f}", f"{value:.3f}".replace(".", ","),
             "8191", "8.191", "8,191"]
    forms += [repr(value * 100).replace(".", ",")]  # the CSV for Danish Excel
    for form in forms:
        assert MARKER.search(f"<td>{form}</td>"), form
    for innocent in ("62,4", "0.7012", "57.0478515625", "2019", "45.4 %", "6.08191"):
        assert not MARKER.search(f"<td>{innocent}</td>"), innocent

