"""CSV injection: no CSV the site serves holds a cell a spreadsheet would run as a formula.

Area codes, area names and measure names starting with each formula character (= + - @ tab
carriage return, OWASP's list) are planted in the stored data; every CSV endpoint is then
fetched and read with the csv module: no cell may begin with a formula character unless it is
a plain number (negative changes stay numbers), and the planted names are there, quoted. The
results files of the CLI are the same writer's (tests/exports, tests/cli).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.urls import reverse

from support.planted import Site, client_as, plant
from tryg.areas.models import Area
from tryg.runs.models import ResultRow

FormulaCells = Callable[[bytes], list[str]]


@pytest.fixture
def hostile_site(formula_texts: tuple[str, ...]) -> Site:
    """The planted site with its areas and the unpublished run's measure renamed."""
    cache.clear()
    site = plant()
    texts = list(formula_texts)
    for i, area in enumerate(site.areas):
        old = area.code
        area.code, area.name = f"{texts[i][:12]}{i}", texts[-1 - i]  # codes: 40 chars at most
        area.save()
        ResultRow.objects.filter(area_code=old).update(area_code=area.code,
                                                       area_name=area.name)
    for i, text in enumerate(texts):  # areas with no responses are listed by the quality CSV
        Area.objects.create(code=f"{text[:12]}x{i}", name=text, level="district")
    ResultRow.objects.filter(run=site.unpublished).update(measure=texts[2])
    return site


def _cells(data: bytes) -> set[str]:
    return {c for row in csv.reader(io.StringIO(data.decode("utf-8"), newline="")) for c in row}


def _check(data: bytes, formula_cells: FormulaCells, planted: set[str]) -> None:
    assert formula_cells(data) == []
    cells = _cells(data)
    assert {"'" + t for t in planted} <= cells, "the planted names are not in the file"


@pytest.mark.django_db
def test_public_results_csv(hostile_site: Site, formula_cells: FormulaCells) -> None:
    response = client_as(hostile_site, "anonymous").get("/downloads/results.csv")
    assert response.status_code == 200
    planted = {a.name for a in hostile_site.areas} | {a.code for a in hostile_site.areas}
    _check(response.content, formula_cells, planted)
    again = client_as(hostile_site, "anonymous").get("/downloads/results.csv")
    assert again.content == response.content


@pytest.mark.django_db
def test_run_difference_csv(hostile_site: Site, formula_texts: tuple[str, ...],
                            formula_cells: FormulaCells) -> None:
    client = client_as(hostile_site, "analyst")
    query = {"a": hostile_site.unpublished.pk, "b": hostile_site.published.pk}
    response = client.get(reverse("analyse:compare_csv"), query)
    assert response.status_code == 200
    planted = {a.name for a in hostile_site.areas} | {formula_texts[2]}
    _check(response.content, formula_cells, planted)
    assert client.get(reverse("analyse:compare_csv"), query).content == response.content


@pytest.mark.django_db
def test_quality_csv(hostile_site: Site, formula_texts: tuple[str, ...],
                     formula_cells: FormulaCells) -> None:
    client = client_as(hostile_site, "analyst")
    response = client.get(reverse("analyse:quality"), {"format": "csv"})
    assert response.status_code == 200
    _check(response.content, formula_cells, set(formula_texts))
    assert client.get(reverse("analyse:quality"), {"format": "csv"}).content == \
        response.content


@pytest.mark.django_db
def test_public_excel_csv_and_codebook_csv(hostile_site: Site) -> None:
    """The CSV for Danish Excel (";", decimal comma, BOM) goes through the same writer: no
    formula cell, the planted names quoted; the codebook CSV has no formula cell either."""
    client = client_as(hostile_site, "anonymous")
    response = client.get("/downloads/results-excel.csv")
    assert response.status_code == 200
    data = response.content
    assert data.startswith(b"\xef\xbb\xbf")
    rows = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";")
    cells = {c for row in rows for c in row}
    risky = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")
             and not re.fullmatch(r"[+-]?([0-9]+,?[0-9]*|,[0-9]+)([eE][+-]?[0-9]+)?", c)]
    assert risky == []
    planted = {a.name for a in hostile_site.areas} | {a.code for a in hostile_site.areas}
    assert {"'" + t for t in planted} <= cells
    assert client.get("/downloads/results-excel.csv").content == data
    book = client.get("/downloads/codebook.csv")
    assert book.status_code == 200
    assert not [c for row in csv.reader(io.StringIO(book.content.decode("utf-8"), newline=""))
                for c in row if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
