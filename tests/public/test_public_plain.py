"""The public pages as a newcomer meets them (issue 12): the notice on made-up data, one wave
per table, the map's levels, names and search, and plain words.

The demo municipality is imported and published once for the module, as in
test_public_pages.py (inside a transaction rolled back at the end).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from support.demo_import import published_demo_run
from tryg.imports.models import ImportBatch
from tryg.public.data import data_notice
from tryg.runs.models import IndexRun


@pytest.fixture(scope="module")
def demo_run(django_db_setup: Any, django_db_blocker: Any,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexRun]:
    yield from published_demo_run(django_db_blocker, tmp_path_factory, "plain")


@pytest.fixture(autouse=True)
def _fresh(settings: Any) -> None:
    cache.clear()


def get(url: str, language: str = "da", **params: str) -> str:
    response = Client().get(url, params, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, url
    return str(response.content.decode())


def text(html: str) -> str:
    """The page's text, tags removed and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


PAGES = ("/", "/map/", "/methods/", "/downloads/", "/areas/9999/", "/areas/9999-01/")


# -- 2. synthetic and fictional data say so ---------------------------------------------------


@pytest.mark.django_db
def test_the_demo_files_are_marked_fictional_at_import(demo_run: IndexRun) -> None:
    batches = ImportBatch.objects.filter(imported_by__username="plain-analyst")
    assert batches.count() == 5
    assert all("not real persons" in b.options["fictional"] for b in batches)
    notice = data_notice(demo_run)
    assert notice.fictional == ("areas", "population", "register", "survey")
    assert notice.synthetic_waves == (2019, 2020, 2021, 2022, 2023)


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "words"), [
    ("da", ("Ikke rigtige data", "Fiktive data: områderne, befolkningstallene, de anmeldte "
            "forbrydelser og spørgeskemasvarene på dette websted er opfundet",
            "Spørgeskemasvarene på dette websted er syntetiske", "målinger 2019–2023")),
    ("en", ("Not real data", "Fictional data: the areas, the population figures, the reported "
            "crime and the survey answers on this site are made up",
            "The survey answers on this site are synthetic", "waves 2019–2023")),
])
def test_every_public_page_says_its_data_are_made_up(demo_run: IndexRun, language: str,
                                                      words: tuple[str, ...]) -> None:
    for url in PAGES:
        html = get(url, language)
        notice = html[html.index('class="data-notice"'):]
        assert html.index('class="data-notice"') < html.index("<h1"), url  # before the page
        for word in words:
            assert word in text(notice[:notice.index("</div>")]), (url, word)


@pytest.mark.django_db
def test_a_file_changed_after_generation_is_not_marked(tmp_path: Path) -> None:
    from tryg.demo.files import write_demo_data
    from tryg.imports.base import checksum, demo_statement

    write_demo_data(tmp_path, seed=3, size="small")
    survey = tmp_path / "survey.csv"
    assert demo_statement(survey, checksum(survey)) is not None
    survey.write_text(survey.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert demo_statement(survey, checksum(survey)) is None
    (tmp_path / "manifest.json").unlink()
    assert demo_statement(tmp_path / "areas.csv", checksum(tmp_path / "areas.csv")) is None


# -- 3. one wave per table --------------------------------------------------------------------


def _without(run: IndexRun, measure: str, wave: int) -> Any:
    """The run's real public data with one measure's rows of one wave taken out, as a run
    whose register data stop a wave early would have them."""
    from dataclasses import replace

    from tryg.public.data import published

    data = published(run)
    t = data.table
    return replace(data, table=t[~((t["measure"] == measure) & (t["wave"] == wave))]
                   .reset_index(drop=True))


@pytest.mark.django_db
def test_key_figures_are_one_wave_and_each_row_names_it(demo_run: IndexRun) -> None:
    html = get("/", "en")
    figures = html[html.index('id="figures-h"'):]
    figures = figures[:figures.index("</table>")]
    assert "<caption>Key figures, latest wave (2023)</caption>" in figures
    assert '<th scope="col">Wave</th>' in figures
    rows = re.findall(r'<tr><th scope="row">[^<]+</th><td>(\d{4})', figures)
    assert len(rows) >= 4 and set(rows) == {"2023"}


@pytest.mark.django_db
def test_a_measure_without_the_wave_says_so_on_the_front_page_and_the_map(
        demo_run: IndexRun) -> None:
    from django.utils import translation

    from tryg.public import pages

    data = _without(demo_run, "anmeldelser_straffelov", 2023)
    with translation.override("en"):
        home = pages.home(data, "en").body
        figures = text(home[home.index('id="figures-h"'):])
        assert "Key figures: wave 2023, or the latest wave with a figure" in figures
        assert ("2022 (No figure for 2023: the police register has no counts for this period "
                "yet.)") in figures
        data = _without(demo_run, "tryghedsindeks", 2023)
        page = pages.area_map(data, "en", measure="tryghedsindeks", wave="2023", level="")
    assert "<svg" not in page.body  # no empty map ...
    assert ("has no figures for 2023: the index is made only when all its parts have figures "
            "for the wave") in text(page.body)  # ... but why
    assert "Waves with figures: 2019, 2020, 2021, 2022." in text(page.body)


# -- 4. the map -------------------------------------------------------------------------------


def _options(html: str, name: str) -> dict[str, str]:
    select = html[html.index(f'name="{name}"'):]
    select = select[:select.index("</select>")]
    return dict(re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', select))


@pytest.mark.django_db
def test_the_map_starts_at_the_finest_level_and_offers_every_level(demo_run: IndexRun) -> None:
    html = get("/map/", "en")
    levels = _options(html, "level")
    assert set(levels) == {"kommune", "bydel", "nabolag", "boligomraade"}
    assert re.search(r'<option value="nabolag" selected>', html)  # 40 drawn neighbourhoods
    svg = html[html.index("<svg"):html.index("</svg>")]
    names = re.findall(r'<a xlink:href="/areas/([^/]+)/"><title>([^<]+)</title><path', svg)
    assert len(names) == 40  # every area is a link with its name on hover
    assert all(title.startswith(tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZÆØÅ")) for _c, title in names)
    district = get("/map/", "en", level="bydel")
    assert "No boundaries are stored for these areas" in district and "<svg" not in district
    assert 'href="/areas/9999-01/"' in district  # the table still has the numbers


@pytest.mark.django_db
def test_area_pages_list_and_link_their_child_areas(demo_run: IndexRun) -> None:
    html = get("/areas/9999/", "en")
    children = html[html.index('id="children"'):]
    children = children[:children.index("</section>")]
    links = re.findall(r'<a href="/areas/([^/]+)/">', children)
    districts = {c for c in links if re.fullmatch(r"9999-\d\d", c)}
    assert districts == {f"9999-{i:02d}" for i in range(1, 9)}
    assert {"9999-U01", "9999-U02", "9999-U03"} <= set(links)  # housing areas, another level
    for code in links[:3]:
        assert Client().get(f"/areas/{code}/").status_code == 200


@pytest.mark.django_db
def test_search_finds_areas_by_name_and_code_without_javascript(demo_run: IndexRun) -> None:
    for page in ("/", "/map/"):
        form = get(page, "en")
        form = form[form.rindex("<form", 0, form.index('role="search"')):]
        form = form[:form.index("</form>")]
        assert 'method="get" action="/search/"' in form and 'name="q"' in form
    from tryg.areas.models import Area

    area = Area.objects.get(code="9999-01-01")
    found = get("/search/", "en", q=area.name.upper())  # any case
    assert f'<a href="/areas/9999-01-01/">{area.name}</a>' in found
    assert '<a href="/areas/9999-01-01/">' in get("/search/", "en", q="9999-01-01")
    assert "No area has that name or postal code." in get("/search/", "en", q="Atlantis")
    danish = get("/search/", "da", q=area.name)
    assert "Find et område efter navn eller postnummer" in danish


# -- 5. plain words ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_danish_pages_write_procentpoint_and_one_name_for_the_interval(
        demo_run: IndexRun) -> None:
    for url in ("/", "/areas/9999/", "/map/"):
        html = get(url, "da")
        assert not re.search(r"\d pp\b", html), url
        assert "Usikkerhedsinterval" not in html and ">Interval<" not in html, url
        assert "95 %-konfidensinterval" in html, url
    assert re.search(r"[+−±]\d+,\d procentpoint", get("/", "da"))
    area = get("/areas/9999/", "da")
    assert "95 %-konfidensinterval" in area[area.index("<svg"):area.index("</svg>")]  # charts
    english = get("/areas/9999/", "en")
    assert "95% confidence interval" in english and "percentage points" in english


@pytest.mark.django_db
def test_methods_page_opens_in_plain_words_and_quotes_what_the_pages_show(
        demo_run: IndexRun) -> None:
    from tryg.runs.services import run_spec

    html = get("/methods/", "da")
    short, rules, details = (html.index(f'id="{h}-h"') for h in ("short", "rules", "details"))
    assert short < rules < details
    summary = text(html[short:rules])
    assert "95 %-konfidensinterval" in summary and "signifikant" in summary
    spec = run_spec(demo_run)
    assert f"færre end {spec.publication.min_n} svar vises ikke" in summary
    assert "„Ikke vist: for få svar“" in summary
    area = get("/areas/9999-01/", "da")  # what a hidden figure says on an area page
    hidden = set(re.findall(r'<td colspan="4">(Ikke vist: [^<]+)</td>', area))
    for words in hidden | {"Ikke vist: for få svar"}:
        assert f"„{words}“" in text(html[rules:details]), words
