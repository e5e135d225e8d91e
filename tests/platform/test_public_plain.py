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
from demo_import import imported_demo_run
from django.core.cache import cache
from django.db import transaction
from django.test import Client

from tryg.imports.models import ImportBatch
from tryg.public.data import data_notice
from tryg.runs.models import IndexRun
from tryg.runs.services import publish


@pytest.fixture(scope="module")
def demo_run(django_db_setup: Any, django_db_blocker: Any,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexRun]:
    files = tmp_path_factory.mktemp("plain-demo")
    with django_db_blocker.unblock(), transaction.atomic():
        run, analyst = imported_demo_run(files, "plain-analyst")
        publish(run, analyst)
        yield run
        transaction.set_rollback(True)


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
