"""The public dashboard on the demo municipality: pages, numbers, links, suppression, files.

The demo data is built once for the module, through the real import services and the real
index run (as `tryg demo` does), inside a transaction that is rolled back at the end; each
test runs in a savepoint inside it.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.core.cache import cache
from django.test import Client

from support.demo_import import published_demo_run
from support.frames import tuples
from tryg.exports import read_results
from tryg.runs.models import IndexRun, ResultRow
from tryg.runs.services import public_results, publish, unpublish

PAGES = ("/", "/map/", "/methods/", "/downloads/")


@pytest.fixture(scope="module")
def demo_run(django_db_setup: Any, django_db_blocker: Any,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexRun]:
    yield from published_demo_run(django_db_blocker, tmp_path_factory, "public")


@pytest.fixture(autouse=True)
def _fresh(settings: Any) -> None:
    cache.clear()


class Page(HTMLParser):
    """The parts of a page the checks need: headings, tables, labels, links, data values."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.headings: list[int] = []
        self.tables = 0
        self.captions = 0
        self.th: list[dict[str, str | None]] = []
        self.labels: set[str] = set()
        self.controls: list[str] = []
        self.links: list[str] = []
        self.data: list[str] = []
        self.landmarks: set[str] = set()
        self.svgs = 0
        #: tables with no chart of their own (the drivers of insecurity and the area's problems)
        self.chartless_tables = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        elif tag == "table":
            self.tables += 1
            if set(str(a.get("class") or "").split()) & {"drivers", "problems"}:
                self.chartless_tables += 1
        elif tag == "caption":
            self.captions += 1
        elif tag == "th":
            self.th.append(a)
        elif tag == "label" and a.get("for"):
            self.labels.add(str(a["for"]))
        elif tag in ("select", "input") and a.get("type") != "hidden":
            if tag == "select" or a.get("type") not in ("submit", "button"):
                self.controls.append(str(a.get("id")))
        elif tag == "a" and a.get("href"):
            self.links.append(str(a["href"]))
        elif tag == "data":
            self.data.append(str(a.get("value")))
        elif tag == "svg":
            self.svgs += 1
        if tag in ("header", "nav", "main", "footer"):
            self.landmarks.add(tag)


def get(url: str, language: str = "en") -> Any:
    response = Client().get(url, HTTP_ACCEPT_LANGUAGE=language)
    return response


def _home_code(run: IndexRun) -> str:
    table = public_results(run)
    return str(table[table["level"] == "kommune"]["area_code"].iloc[0])


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["da", "en"])
def test_every_public_page_answers_in_both_languages_and_is_accessible(
        demo_run: IndexRun, language: str) -> None:
    urls = [*PAGES, f"/areas/{_home_code(demo_run)}/", "/areas/9999-01/",
            "/map/?measure=tryghedsindeks&wave=2021"]
    for url in urls:
        response = get(url, language)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert f'<html lang="{language}">' in html, url
        page = Page(html)
        assert {"header", "nav", "main", "footer"} <= page.landmarks, url
        assert page.headings and page.headings[0] == 1 and page.headings.count(1) == 1, url
        assert all(b - a <= 1 for a, b in zip(page.headings, page.headings[1:], strict=False)), (
            url, page.headings)
        assert page.tables == page.captions, url
        assert all(th.get("scope") in ("col", "row") for th in page.th), url
        assert set(page.controls) <= page.labels, (url, page.controls)
    danish = get("/", "da").content.decode()
    assert "Andel trygge i nabolaget" in danish
    assert "Share who feel safe in their neighbourhood" in get("/", "en").content.decode()


@pytest.mark.django_db
def test_charts_come_with_their_numbers(demo_run: IndexRun) -> None:
    for code, similar in ((_home_code(demo_run), 0), ("9999-01", 1)):
        page = Page(get(f"/areas/{code}/").content.decode())
        table = public_results(demo_run)
        measures = set(table[table["area_code"] == code]["measure"])
        assert page.svgs == len(measures) + 1  # every measure's trend, and the index's parts
        # each chart beside its table; similar areas; the drivers' tables have no chart
        assert page.tables == page.svgs + similar + page.chartless_tables


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["da", "en"])
def test_front_page_numbers_are_the_public_results(demo_run: IndexRun, language: str) -> None:
    table = public_results(demo_run)
    code = _home_code(demo_run)
    rows = table[(table["area_code"] == code) & (table["measure"] == "tryghed_trygge")]
    latest, previous = rows.iloc[-1], rows.iloc[-2]
    html = get("/", language).content.decode()
    headline = html[html.index('class="headline"'):html.index('id="figures-h"')]

    def pct(x: float) -> str:
        text = f"{100 * x:.1f}"
        return f"{text.replace('.', ',')} %" if language == "da" else f"{text}%"

    big = re.search(r'<p class="big"><data value="([^"]+)">([^<]+)</data>', headline)
    assert big is not None
    assert float(big.group(1)) == latest["estimate"]
    assert big.group(2) == pct(latest["estimate"])
    assert f"{pct(latest['ci_low'])} – {pct(latest['ci_high'])}" in headline
    assert f"<dd>{latest['n_display']}</dd>" in headline
    change = 100 * latest["change_prev"]
    sign = "+" if change > 0 else "−"
    magnitude = f"{abs(change):.1f}".replace(".", "," if language == "da" else ".")
    assert f"{sign}{magnitude}" in headline
    assert str(previous["wave"]) in headline
    word = ("significant" if latest["sig_prev"] else "not significant") if language == "en" \
        else None
    if word:
        assert f"({word})" in headline
    # every key figure's value is the public estimate of the latest wave
    figures = Page(html[html.index('id="figures-h"'):]).data
    wave = table["wave"].max()
    public = table[(table["area_code"] == code) & (table["wave"] == wave)]
    for value in figures:
        assert float(value) in set(public["estimate"].dropna())


@pytest.mark.django_db
def test_every_map_link_leads_to_its_area_page(demo_run: IndexRun) -> None:
    html = get("/map/").content.decode()
    page = Page(html)
    assert page.svgs >= 1
    svg = html[html.index("<svg"):html.index("</svg>")]
    area_links = sorted({u for u in page.links if u.startswith("/areas/")})
    table = public_results(demo_run)
    nabolag = table[table["level"] == "nabolag"]
    assert len(area_links) == nabolag["area_code"].nunique()
    names = dict(zip(table["area_code"], table["area_name"], strict=False))
    for url in area_links:
        assert url in svg  # the map's areas are links as well as the table's
        response = get(url)
        assert response.status_code == 200, url
        code = url.split("/")[2]
        assert f"<h1>{names[code]}</h1>" in response.content.decode()
    assert get("/areas/no-such-area/").status_code == 404


@pytest.mark.django_db
def test_suppressed_results_show_no_values(demo_run: IndexRun) -> None:
    table = public_results(demo_run)
    hidden = table[table["suppressed"]]
    assert len(hidden) > 0
    for code, part in list(hidden.groupby("area_code"))[:3]:
        html = get(f"/areas/{code}/").content.decode()
        for row in tuples(part):
            stored = ResultRow.objects.get(run=demo_run, area_code=code, wave=row.wave,
                                           measure=row.measure)
            assert stored.estimate is not None  # the internal value exists ...
            if len(repr(stored.estimate)) > 6:  # (recognisable)
                assert repr(stored.estimate) not in html  # ... and is not on the page
            anchor = "gap" if row.measure == "gap" else f"m-{row.measure}"  # its own section
            if f'id="{anchor}"' not in html:
                continue  # a measure the page does not show (e.g. the smoothed rates)
            section = html[html.index(f'id="{anchor}"'):]
            section = section[:section.index("</table>")]
            # the row's own cells say "not shown" and why (the parent's column may have its
            # value): a hidden figure it would give away, too few offences, too few answers
            why = ("it would give a hidden figure away"
                   if "secondary" in str(row.flags or "").split(";")
                   else "too few reported offences" if row.measure.startswith("anmeldelser_")
                   else "too few answers")
            assert (f'<th scope="row">{row.wave}</th><td colspan="4">Not shown: {why}</td>'
                    ) in section


def _blank(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].where(out[column] != "", None)
    return out


@pytest.mark.django_db
def test_downloads_are_the_public_view(demo_run: IndexRun, tmp_path: Path) -> None:
    public = public_results(demo_run)
    for fmt in ("csv", "xlsx", "json"):
        response = get(f"/downloads/results.{fmt}")
        assert response.status_code == 200
        path = tmp_path / f"results.{fmt}"
        path.write_bytes(response.content)
        got = read_results(path)
        assert list(got.columns) == list(public.columns)
        # CSV and XLSX cannot tell an empty text from a missing one: compare them as missing
        pd.testing.assert_frame_equal(_blank(got), _blank(public), check_dtype=False,
                                      rtol=1e-12)
    response = get("/downloads/results.geojson")
    collection = json.loads(response.content)
    wave = int(public["wave"].max())
    latest = public[public["wave"] == wave]
    assert len(collection["features"]) == latest["area_code"].nunique()
    with_shape = 0
    for feature in collection["features"]:
        props = feature["properties"]
        assert props["wave"] == wave
        with_shape += feature["geometry"] is not None
        for row in tuples(latest[latest["area_code"] == props["code"]]):
            value = props[row.measure]
            assert (value is None) == pd.isna(row.estimate)
            if value is not None:
                assert value == row.estimate
            assert props[f"{row.measure}_n"] == row.n_display
            assert props[f"{row.measure}_suppressed"] == row.suppressed
    assert with_shape == 40  # the demo's map squares
    older = json.loads(get(f"/downloads/results.geojson?wave={wave - 1}").content)
    assert {f["properties"]["wave"] for f in older["features"]} == {wave - 1}
    assert get("/downloads/results.geojson?wave=1900").status_code == 404
    assert get("/downloads/results.parquet").status_code == 404
    workbook = io.BytesIO(get("/downloads/results.xlsx").content)
    assert workbook.read(2) == b"PK"


@pytest.mark.django_db
def test_an_unpublished_site_shows_a_friendly_page(demo_run: IndexRun) -> None:
    assert "Share who feel safe" in get("/").content.decode()  # now cached
    unpublish(demo_run)
    for url in PAGES:
        response = get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "No results have been published yet" in html, url
        assert "Share who feel safe" not in html
    assert get("/downloads/results.csv").status_code == 404
    assert get(f"/areas/{_home_code(demo_run)}/").status_code == 200
    publish(demo_run)
    assert "Share who feel safe" in get("/").content.decode()
