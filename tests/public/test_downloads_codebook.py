"""Downloads for a Danish analyst or journalist: the CSV for Danish Excel, the XLSX with its
number formats, the About and Codebook sheets, the codebook page and file, and the licence
and source of the published figures, in Danish and English.

The demo municipality is imported and its run published once for the module (as in
test_public_pages), inside a transaction rolled back at the end.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import translation
from openpyxl import load_workbook

from support.demo_import import published_demo_run
from tryg.exports import EXCEL_ROWS
from tryg.index.results import PUBLIC_COLUMNS
from tryg.public import codebook, pages
from tryg.public.data import published
from tryg.public.downloads import offers_xlsx
from tryg.public.measures import catalogue
from tryg.runs.models import IndexRun
from tryg.runs.services import public_results, run_spec
from tryg.site.config import load

BOM = b"\xef\xbb\xbf"


@pytest.fixture(scope="module")
def demo_run(django_db_setup: Any, django_db_blocker: Any,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexRun]:
    yield from published_demo_run(django_db_blocker, tmp_path_factory, "downloads")


@pytest.fixture(autouse=True)
def _fresh(settings: Any) -> None:
    cache.clear()


def get(url: str, language: str = "en") -> Any:
    response = Client().get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, url
    return response


def _flag_words(table: pd.DataFrame) -> set[str]:
    return {w for text in table["flags"].fillna("") for w in str(text).split(";") if w}


def _read(data: bytes, **options: Any) -> pd.DataFrame:
    table: pd.DataFrame = pd.read_csv(io.BytesIO(data), dtype={"area_code": str,
                                                              "n_display": str}, **options)
    return table


@pytest.mark.django_db
def test_the_excel_csv_holds_the_plain_csvs_numbers_with_shares_in_per_cent(
        demo_run: IndexRun) -> None:
    plain_bytes = get("/downloads/results.csv").content
    response = get("/downloads/results-excel.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"{demo_run.spec.spec_id}-run{demo_run.pk}.excel.csv" in \
        response["Content-Disposition"]
    assert response["Link"] == ('</downloads/codebook/>; rel="describedby", '
                                '<https://creativecommons.org/licenses/by/4.0/>; rel="license"')
    assert 'rel="license"' in get("/downloads/results.json")["Link"]
    excel_bytes = response.content
    assert excel_bytes.startswith(BOM) and not plain_bytes.startswith(BOM)
    assert get("/downloads/results-excel.csv").content == excel_bytes  # deterministic
    plain = _read(plain_bytes)
    excel = _read(excel_bytes, sep=";", decimal=",", encoding="utf-8-sig")
    columns = list(PUBLIC_COLUMNS)
    columns.insert(columns.index("measure") + 1, "unit")
    assert list(excel.columns) == columns
    assert list(plain.columns) == list(PUBLIC_COLUMNS)
    assert len(excel) == len(plain)
    # æøå intact
    names = set(plain["area_name"])
    assert any(ch in name for name in names for ch in "æøåÆØÅ")
    assert excel["area_name"].tolist() == plain["area_name"].tolist()
    spec = run_spec(demo_run)
    kinds = {m: info.kind for m, info in catalogue(spec).items()}
    percent = plain["measure"].map(lambda m: kinds.get(m) in ("share", "gap")).to_numpy()
    assert percent.any() and (~percent).any()
    expected_units = plain["measure"].map(lambda m: codebook.units(spec)[m][0])
    assert excel["unit"].tolist() == expected_units.tolist()
    assert set(excel.loc[percent, "unit"]) <= {"pct", "pp"}
    for column in PUBLIC_COLUMNS:
        if column in codebook.PERCENT_COLUMNS:
            want = plain[column].astype("float64").to_numpy(copy=True)
            want[percent] = 100.0 * want[percent]
            got = excel[column].astype("float64").to_numpy()
            assert ((got == want) | (pd.isna(got) & pd.isna(want))).all(), column
        else:
            pd.testing.assert_series_equal(excel[column], plain[column], check_names=True)
    share = plain[percent & plain["estimate"].notna().to_numpy()].iloc[0]
    assert 0 <= share["estimate"] <= 1  # the plain CSV keeps the machine value


@pytest.mark.django_db
def test_the_xlsx_shows_percentages_and_has_about_and_codebook(demo_run: IndexRun) -> None:
    book = load_workbook(io.BytesIO(get("/downloads/results.xlsx").content))
    assert book.sheetnames == ["results", "Om data (About)", "Kodebog (Codebook)"]
    assert book.active is not None and book.active.title == "Om data (About)"
    sheet = book["results"]
    header = [c.value for c in sheet[1]]
    assert header == list(PUBLIC_COLUMNS)
    spec = run_spec(demo_run)
    kinds = {m: info.kind for m, info in catalogue(spec).items()}
    col = {name: i for i, name in enumerate(header)}
    seen = set()
    for row in sheet.iter_rows(min_row=2):
        estimate = row[col["estimate"]]
        if estimate.value is None:
            continue
        kind = kinds[row[col["measure"]].value]
        if kind == "share":
            assert estimate.number_format == "0.0%"
            assert 0 <= estimate.value <= 1  # the cell keeps the proportion
            assert row[col["ci_low"]].number_format == "0.0%"
        elif kind in ("score", "composite", "rate"):
            assert estimate.number_format == "0.0"
        seen.add(kind)
    assert {"share", "score"} <= seen
    about = "\n".join(str(c.value) for r in book["Om data (About)"].iter_rows() for c in r
                      if c.value is not None)
    for text in ("Licens", "Licence", "CC BY 4.0", f"#{demo_run.pk}", spec.hash, spec.id,
                 demo_run.fingerprint, demo_run.inputs["survey"]["sha256"],
                 "syntetiske", "synthetic"):
        assert text in about, text
    assert demo_run.published_at is not None
    assert demo_run.published_at.date().isoformat() in about
    names = {r[1] for r in book["Kodebog (Codebook)"].iter_rows(min_row=2, values_only=True)}
    assert set(PUBLIC_COLUMNS) | set(codebook.FLAGS) | set(catalogue(spec)) <= names


def test_every_public_column_has_one_codebook_entry() -> None:
    assert set(codebook.COLUMNS) == {*PUBLIC_COLUMNS, codebook.UNIT_COLUMN}
    for name, texts in codebook.COLUMNS.items():
        assert all(texts[i] for i in (0, 1, 4, 5)), name  # labels and meanings, da and en


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["da", "en"])
def test_the_codebook_page_lists_every_column_flag_and_measure(
        demo_run: IndexRun, language: str) -> None:
    table = public_results(demo_run)
    assert _flag_words(table) <= set(codebook.FLAGS)  # every word that appears is explained
    html = get("/downloads/codebook/", language).content.decode()
    spec = run_spec(demo_run)
    for name in (*PUBLIC_COLUMNS, codebook.UNIT_COLUMN, *codebook.FLAGS, *catalogue(spec),
                 *set(table["measure"]), "pct"):
        assert f"<code>{name}</code>" in html, name
    for info in catalogue(spec).values():
        assert info.label(language).replace('"', "&quot;") in html
    if language == "da":
        for text in ("Kodebog", "Områdekode", "Markeringer", "procent", "Licens", "syntetiske"):
            assert text in html, text
    else:
        for text in ("Codebook", "Area code", "Flags", "per cent", "Licence", "synthetic"):
            assert text in html, text
    assert 'href="https://creativecommons.org/licenses/by/4.0/" rel="license">CC BY 4.0' in html
    assert spec.hash in html and f"#{demo_run.pk}" in html


@pytest.mark.django_db
def test_the_codebook_csv_is_bilingual_and_complete(demo_run: IndexRun) -> None:
    frame = pd.read_csv(io.BytesIO(get("/downloads/codebook.csv").content),
                        keep_default_na=False)
    assert list(frame.columns) == ["section", "name", "label_da", "label_en", "unit_da",
                                   "unit_en", "description_da", "description_en"]
    spec = run_spec(demo_run)
    by_section = frame.groupby("section")["name"].apply(set).to_dict()
    assert by_section["column"] == {*PUBLIC_COLUMNS, codebook.UNIT_COLUMN}
    assert by_section["flag"] == set(codebook.FLAGS)
    assert by_section["measure"] == set(catalogue(spec))
    flags = frame[frame["section"] == "flag"]
    assert (flags["description_da"] != "").all() and (flags["description_en"] != "").all()
    assert (flags["description_da"] != flags["description_en"]).all()


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "excel", "licence"),
                         [("da", "CSV til Excel (dansk)", "Licens"),
                          ("en", "CSV for Excel (Danish)", "Licence")])
def test_the_downloads_page_offers_the_excel_csv_codebook_and_licence(
        demo_run: IndexRun, language: str, excel: str, licence: str) -> None:
    html = get("/downloads/", language).content.decode()
    assert 'href="/downloads/results-excel.csv"' in html and excel in html
    assert 'href="/downloads/codebook/"' in html and 'href="/downloads/codebook.csv"' in html
    assert licence in html and "CC BY 4.0" in html
    assert run_spec(demo_run).hash in html
    assert demo_run.inputs["areas"]["sha256"] in html


@pytest.mark.django_db
def test_the_licence_is_a_setting(demo_run: IndexRun, settings: Any) -> None:
    assert load({}).data_licence == "CC BY 4.0"
    assert load({"TRYG_DATA_LICENCE": " CC0 1.0 "}).data_licence == "CC0 1.0"
    assert "CC BY 4.0" in get("/downloads/", "da").content.decode()  # now cached
    settings.TRYG_DATA_LICENCE = "Kommunens egne vilkår"
    assert "Kommunens egne vilkår" in get("/downloads/", "da").content.decode()
    assert "Kommunens egne vilkår" in get("/downloads/codebook/", "en").content.decode()
    book = load_workbook(io.BytesIO(get("/downloads/results.xlsx").content))
    about = [c.value for r in book["Om data (About)"].iter_rows() for c in r]
    assert "Kommunens egne vilkår" in about


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "said"), [
    ("da", "Tabellen har flere rækker, end ét Excel-ark kan rumme (1.048.575)"),
    ("en", "The table has more rows than one Excel sheet holds (1,048,575)")])
def test_a_table_larger_than_an_excel_sheet_is_not_offered_as_xlsx(
        demo_run: IndexRun, language: str, said: str) -> None:
    """The demo's table is offered as XLSX; a publication of more rows than one Excel sheet
    holds (a national run at finer levels) is not, and the page says why."""
    data = published(demo_run)
    assert offers_xlsx(data)
    with translation.override(language):
        assert 'results.xlsx"' in pages.downloads(data, language).body
    tall = replace(data, table=data.table.iloc[np.zeros(EXCEL_ROWS, dtype=np.int64)])
    assert not offers_xlsx(tall)
    with translation.override(language):
        body = pages.downloads(tall, language).body
    assert 'results.xlsx"' not in body and said in body
    assert 'results.csv"' in body and 'results-excel.csv"' in body
