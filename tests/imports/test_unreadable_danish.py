"""A bad upload on a Danish page is one Danish sentence, not a library's English: each common
case (tryg.readers.unreadable) uploaded through the analysts' import page and the measurement
import page, the page's language Danish. Nothing is stored. (An empty file is refused by the
upload form before any reader sees it.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from django.utils.html import escape

from support import badfiles
from tryg.accounts.models import Role
from tryg.imports.models import ImportBatch
from tryg.strategy.models import Measurement

URL = "/analyse/import/"
MEASUREMENTS = "/measurements/import/"

#: What the libraries say (and our English): none of it may be on a Danish page.
ENGLISH = ("zip file", "BadZipFile", "ReadstatError", "Unable to read", "unsupported features",
           "expected number of rows", "Expecting", "recognized", "field larger", "KeyError",
           "ParseError", "Content_Types", "unclosed token", "the file is", "workbook",
           "not valid JSON", "technical detail")

XLSX_NOT = "filen er ikke en Excel-projektmappe (.xlsx) — er den gemt i et andet format?"
TEXT_NOT_XLSX = ("filen er tekst og ikke en Excel-projektmappe (.xlsx): hvis det er en CSV-fil, "
                 "så giv den endelsen .csv")
OLD_EXCEL = ("filen er en gammel Excel-projektmappe (.xls, Excel 97-2003): åbn den i Excel, og "
             "gem den som Excel-projektmappe (.xlsx)")
ENCRYPTED = ("projektmappen er beskyttet med en adgangskode og kan derfor ikke læses: gem en "
             "kopi uden adgangskode, og upload den")
ODS = ("filen er et OpenDocument-regneark (.ods) og ikke en Excel-projektmappe (.xlsx): gem "
       "det som Excel-projektmappe (.xlsx) eller som CSV")
DAMAGED = ("filen er beskadiget eller ufuldstændig: blev den afbrudt, da den blev gemt, hentet "
           "eller uploadet? Gem den igen, og upload den nye kopi")
WORKBOOK_NOT_CSV = ("filen er en Excel-projektmappe (.xlsx) og ikke en CSV-tekstfil: giv den "
                    "endelsen .xlsx")
LONG_CELL = ('en celle er længere end 131.072 tegn: står et anførselstegn (") åbent i denne '
             "række, så cellen fortsætter til slutningen af filen?")

Make = Callable[[Path], bytes]

#: upload kind, file name, its bytes, the row shown, the Danish sentence
CASES: list[tuple[str, str, Make, int | None, str]] = [
    ("survey", "svar.xlsx", lambda _: badfiles.SURVEY_CSV, None, TEXT_NOT_XLSX),
    ("survey", "svar.xlsx", lambda _: badfiles.xls(), None, OLD_EXCEL),
    ("survey", "svar.xlsx", lambda _: badfiles.encrypted_xlsx(), None, ENCRYPTED),
    ("survey", "svar.xlsx", lambda _: badfiles.ods(), None, ODS),
    ("survey", "svar.xlsx", lambda _: badfiles.xlsx()[:2000], None, DAMAGED),
    ("survey", "svar.xlsx",
     lambda _: badfiles.with_part(badfiles.xlsx(), "sheet1.xml", b"<row"), None, DAMAGED),
    ("survey", "svar.xlsx", lambda _: badfiles.stata(), None, XLSX_NOT),
    ("survey", "svar.csv", lambda _: badfiles.xlsx(), None, WORKBOOK_NOT_CSV),
    ("survey", "svar.csv", lambda p: badfiles.sav(str(p / "ok.sav")), None,
     "filen er en SPSS-datafil (.sav) og ikke en CSV-tekstfil: giv den endelsen .sav"),
    ("survey", "svar.csv", lambda _: badfiles.long_cell_csv(), 4, LONG_CELL),
    ("survey", "svar.sav", lambda _: badfiles.SURVEY_CSV, None,
     "filen er tekst og ikke en SPSS-datafil (.sav): hvis det er en CSV-fil, så giv den "
     "endelsen .csv"),
    ("survey", "svar.sav", lambda _: badfiles.stata(), None,
     "filen er ikke en SPSS-datafil (.sav) — er den gemt i et andet format?"),
    ("survey", "svar.sav", lambda _: badfiles.xlsx(), None,
     "filen er en Excel-projektmappe (.xlsx) og ikke en SPSS-datafil (.sav): giv den "
     "endelsen .xlsx"),
    ("survey", "svar.sav", lambda p: badfiles.sav(str(p / "ok.sav"))[:-300], None,
     "SPSS-filen er ufuldstændig: den indeholder færre cases, end dens filhoved angiver; blev "
     "den afbrudt, da den blev gemt, hentet eller uploadet?"),
    ("survey", "svar.sav", lambda p: badfiles.sav(str(p / "ok.sav"))[:100], None, DAMAGED),
    ("areas", "sogne.geojson", lambda _: badfiles.cut_geojson(), 19,
     "ikke gyldig JSON: fejlen er i linje 19, kolonne 8 (er filen afkortet, eller mangler "
     "der et komma, en parentes eller et anførselstegn?)"),
    ("areas", "sogne.gpkg", lambda _: badfiles.SURVEY_CSV, None,
     "filen er ikke en GeoPackage eller Shapefil — er den gemt i et andet format?"),
    ("areas", "sogne.zip", lambda _: badfiles.SURVEY_CSV, None,
     "filen er ikke en zippet Shapefil (.zip) — er den gemt i et andet format?"),
]


@pytest.fixture(autouse=True)
def language_kept() -> Iterator[None]:
    """A request in the test process leaves its language active in the thread: put back
    the one before, for the tests that run after these."""
    before = translation.get_language()
    yield
    translation.activate(before)


def danish(client: Client, url: str) -> Client:
    response = client.get("/sprog/da/", {"next": url})
    assert response.status_code in (200, 302)
    return client


def analyst() -> Client:
    user = get_user_model().objects.create_user("analyst-da", password="a long password 1",
                                                role=Role.ANALYST)
    client = Client()
    client.force_login(user)
    return danish(client, URL)


def shown(html: str, name: str, row: int | None, sentence: str) -> bool:
    """The problem's row in the page's table: the file, the row, no column, the sentence."""
    return (f"<td>{name}</td><td class=\"num\">{'' if row is None else row}</td><td></td>"
            f"<td>{escape(sentence)}</td>") in html


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "name", "make", "row", "sentence"), CASES,
                         ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_a_bad_upload_is_one_danish_sentence_on_the_import_page(
        tmp_path: Path, kind: str, name: str, make: Make, row: int | None,
        sentence: str) -> None:
    response = analyst().post(URL, {"kind": kind,
                                    "file": SimpleUploadedFile(name, make(tmp_path))})
    assert response.status_code == 200
    html = response.content.decode()
    assert shown(html, name, row, sentence), html
    problems = html[html.index('<table class="errors">'):html.index("</table>")]
    assert not [e for e in ENGLISH if e in problems]
    assert str(tmp_path) not in html and "/tmp" not in problems
    assert not ImportBatch.objects.exists()


@pytest.mark.django_db
def test_a_library_failure_not_recognised_is_a_danish_sentence_with_the_technical_detail(
        tmp_path: Path) -> None:
    """The neutral sentence: the library's words kept, inside Danish, as a technical detail."""
    broken = badfiles.with_part(badfiles.xlsx([["code"], [1]]), "sheet1.xml", (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c></row>'
        b'<row r="2"><c r="A2" t="n"><v>x</v></c></row></sheetData></worksheet>'))
    html = analyst().post(URL, {"kind": "survey",
                                "file": SimpleUploadedFile("svar.xlsx", broken)}
                          ).content.decode()
    assert ("<td>filen kunne ikke læses som en Excel-projektmappe (.xlsx) (teknisk detalje: "
            "ValueError: ") in html
    assert not ImportBatch.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "data", "sentence"), [
    ("maalinger.xlsx", badfiles.xls(), OLD_EXCEL),
    ("maalinger.xlsx", badfiles.encrypted_xlsx(), ENCRYPTED),
    ("maalinger.xlsx", b"indicator,value,wave\n1,2,2022\n", TEXT_NOT_XLSX),
    ("maalinger.xlsx", badfiles.ods(), ODS),
    ("maalinger.csv", badfiles.xlsx([["indicator", "value", "wave"], [1, 2, 2022]]),
     WORKBOOK_NOT_CSV),
])
def test_a_bad_upload_is_one_danish_sentence_on_the_measurement_page(
        name: str, data: bytes, sentence: str) -> None:
    coordinator = get_user_model().objects.create_user(
        "koordinator", password="a long password 1", role=Role.COORDINATOR)
    client = Client()
    client.force_login(coordinator)
    response = danish(client, MEASUREMENTS).post(
        MEASUREMENTS, {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 400
    html = response.content.decode()
    assert shown(html, name, None, sentence), html
    problems = html[html.index("<table>"):html.index("</table>")]
    assert not [e for e in ENGLISH if e in problems]
    assert not Measurement.objects.exists()


@pytest.mark.django_db
def test_an_english_page_shows_the_same_case_in_english() -> None:
    user = get_user_model().objects.create_user("analyst-en", password="a long password 1",
                                                role=Role.ANALYST)
    client = Client()
    client.force_login(user)
    client.get("/sprog/en/", {"next": URL})
    html = client.post(URL, {"kind": "survey",
                             "file": SimpleUploadedFile("svar.xlsx", badfiles.xls())}
                       ).content.decode()
    assert shown(html, "svar.xlsx", None, "the file is an old Excel workbook (.xls, Excel "
                 "97-2003): open it in Excel and save it as an Excel workbook (.xlsx)")
    assert "zip file" not in html
