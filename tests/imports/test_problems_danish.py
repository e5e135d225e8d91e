"""The rarer input problems in the page's language: boundary files, upload limits, the
imports' warnings (on the upload page and the import's own page), 311 report files and the
index's checks. Danish is the product's default; English stays as it was."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from tryg.accounts.models import Role
from tryg.areas.models import Area
from tryg.imports.models import ImportBatch
from tryg.imports.problems import as_data, from_data, localized, located
from tryg.index.hierarchy import build_hierarchy
from tryg.index.inputs import Areas, InputError, Problem
from tryg.messages import Marked
from tryg.readers.reports311 import ReportMapping, read_reports
from zipbombs import workbook, zeros

URL = "/analyse/import/"


def analyst(language: str) -> Client:
    user = get_user_model().objects.create_user(f"analyst-{language}",
                                                password="a long password 1",
                                                role=Role.ANALYST)
    client = Client()
    client.force_login(user)
    client.get(f"/sprog/{language}/", {"next": URL})
    return client


def upload(client: Client, kind: str, name: str, data: bytes) -> str:
    response = client.post(URL, {"kind": kind, "file": SimpleUploadedFile(name, data)})
    assert response.status_code == 200
    return response.content.decode()


def no_shapefile() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("laes-mig.txt", "ingen grænser her")
    return buffer.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "expected"), [
    ("da", "zip-filen indeholder ingen Shapefil (.shp, .shx og .dbf) og ingen GeoPackage"),
    ("en", "the zip file holds no Shapefile (.shp, .shx and .dbf) and no GeoPackage"),
])
def test_a_broken_boundary_file_is_named_in_the_page_language(language: str,
                                                              expected: str) -> None:
    client = analyst(language)
    html = upload(client, "areas", "grænser.zip", no_shapefile())
    assert f"<td>{expected}</td>" in html
    html = upload(client, "areas", "grænser.geojson", b'{"type": "FeatureCollection", ')
    danish = "ikke gyldig JSON: " in html
    assert danish == (language == "da") and ("not valid JSON: " in html) == (language == "en")
    assert not ImportBatch.objects.exists()


def sogne(geometry: object) -> bytes:
    """A GeoJSON layer of one parish with ``geometry``."""
    feature = {"type": "Feature", "properties": {"SOGNEKODE": "7001", "SOGNENAVN": "Budolfi"},
               "geometry": geometry}
    return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()


def topology(ring: list[int]) -> bytes:
    """A TopoJSON topology (one object, ``sogne``) of one parish whose ring is ``ring``."""
    square = [[9.9, 57.0], [10.0, 57.0], [10.0, 57.1], [9.9, 57.1], [9.9, 57.0]]
    member = {"type": "Polygon", "arcs": [ring],
              "properties": {"SOGNEKODE": "7001", "SOGNENAVN": "Budolfi"}}
    return json.dumps({"type": "Topology", "arcs": [square], "objects": {
        "sogne": {"type": "GeometryCollection", "geometries": [member]}}}).encode()


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "geojson", "topojson"), [
    ("da", "objekt 1: koordinaterne er ikke lister i lister",
     "geometri 1 i &#x27;sogne&#x27;: bue 7 findes ikke (1 buer)"),
    ("en", "feature 1: coordinates are not nested lists",
     "geometry 1 of &#x27;sogne&#x27;: arc 7 does not exist (1 arcs)"),
])
def test_a_broken_geometry_is_named_in_the_page_language(language: str, geojson: str,
                                                         topojson: str) -> None:
    """The geometry core's own messages (``tryg.geo.GeometryError``), not only the readers'."""
    client = analyst(language)
    html = upload(client, "areas", "sogne.geojson", sogne({"type": "Polygon",
                                                           "coordinates": [5]}))
    assert f"<td>{geojson}</td>" in html
    html = upload(client, "areas", "sogne.topojson", topology([0, ~7]))
    assert f"<td>{topojson}</td>" in html
    assert not ImportBatch.objects.exists()


@pytest.mark.django_db
def test_a_geometry_problem_inside_a_warning_is_in_the_page_language() -> None:
    """A warning that holds a geometry error as its param (a stored kommune boundary that
    shapely cannot read, met while placing the parish by containment): both are translated,
    on the upload page and from the stored report on the import's own page."""
    Area.objects.create(code="0851", name="Aalborg", level="kommune", geometry="{not json")
    square = [[[9.9, 57.0], [10.0, 57.0], [10.0, 57.1], [9.9, 57.1], [9.9, 57.0]]]
    client = analyst("da")
    html = upload(client, "areas", "sogne.geojson", sogne({"type": "Polygon",
                                                           "coordinates": square}))
    danish = ("<li>overordnede områder blev ikke fundet ud fra grænserne: en gemt grænse på "
              "niveauet &#x27;kommune&#x27; kan ikke bruges: ")
    english = ("<li>parents not found by containment: a stored boundary of level "
               "&#x27;kommune&#x27; is unusable: ")
    assert danish in html and english not in html
    batch = ImportBatch.objects.get()
    [stored] = batch.report["warnings"]
    assert stored.startswith(english.removeprefix("<li>").replace("&#x27;", "'"))
    assert danish in client.get(f"/analyse/import/{batch.pk}/").content.decode()
    client.get("/sprog/en/", {"next": URL})
    assert english in client.get(f"/analyse/import/{batch.pk}/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "expected"), [
    ("da", "XLSX-projektmappen fylder 1.536,0 MB udpakket"),
    ("en", "the XLSX workbook unpacks to 1,536.0 MB"),
])
def test_an_oversized_upload_is_refused_in_the_page_language(tmp_path: Path, language: str,
                                                             expected: str) -> None:
    bomb = workbook(tmp_path / "svar.xlsx", zeros("xl/worksheets/sheet1.xml"))
    html = upload(analyst(language), "survey", "svar.xlsx", bomb.read_bytes())
    assert expected in html and "TRYG_MAX_UNPACKED_MB" in html
    assert not ImportBatch.objects.exists()


@pytest.mark.django_db
def test_an_imports_warnings_are_shown_in_the_page_language() -> None:
    """On the upload page and, from the stored report, on the import's own page."""
    areas = b"code,name,level,parent,valid_from\n0851,Aalborg,kommune,,2007\n"
    client = analyst("da")
    html = upload(client, "areas", "områder.csv", areas)
    danish = ("områder.csv, række 2, kolonne &#x27;valid_from&#x27;: gyldighedsår uden et "
              "overordnet område ignoreres")
    assert f"<li>{danish}</li>" in html
    batch = ImportBatch.objects.get()
    [stored] = batch.report["warnings"]  # the record and the audit keep the English line
    assert stored.endswith(", row 2, column 'valid_from': validity years without a parent are "
                           "ignored")
    page = client.get(f"/analyse/import/{batch.pk}/").content.decode()
    # named by the file's name, not by the temporary path the upload was read from
    assert f"<li>{batch.file_name}, {danish.split(', ', 1)[1]}</li>" in page
    client.get("/sprog/en/", {"next": URL})
    page = client.get(f"/analyse/import/{batch.pk}/").content.decode()
    assert (f"<li>{batch.file_name}, row 2, column &#x27;valid_from&#x27;: validity years "
            "without a parent are ignored</li>") in page
    assert "import-" not in page.split("<main", 1)[-1]


def test_a_bad_311_file_is_named_in_danish(tmp_path: Path) -> None:
    path = tmp_path / "henvendelser.csv"
    path.write_text("id,type,opened,lat,lon\n1,Graffiti,igår,57.05,\n1,,2024-01-02,x,9.9\n",
                    encoding="utf-8")
    mapping = ReportMapping(columns={"external_id": "id", "category": "type",
                                     "opened": "opened", "latitude": "lat",
                                     "longitude": "lon"})
    with pytest.raises(InputError) as caught:
        read_reports(path, mapping)
    problems = caught.value.problems
    with translation.override("da"):
        shown = [(p.row, p.column, localized(p).message) for p in problems]
    assert shown == [
        (2, "opened", "'igår' er ikke en dato og et klokkeslæt som ISO 8601, f.eks. "
                      "2015-01-09T14:56:26"),
        (2, "lon", "tom, selv om den anden koordinat er angivet"),
        (3, "id", "'1' står også i række 2"),
        (3, "type", "cellen er tom"),
        (3, "lat", "'x' er ikke et tal"),
    ]
    with translation.override("en"):
        assert [localized(p).message for p in problems] == [p.message for p in problems]
    assert problems[0].message == ("'igår' is not a date and time as ISO 8601 such as "
                                   "2015-01-09T14:56:26")
    with pytest.raises(InputError) as caught:
        read_reports(path, ReportMapping(columns={"category": "type"}, timezone="Mars/Olympus"))
    with translation.override("da"):
        assert [localized(p).message for p in caught.value.problems] == [
            "kolonneopsætningen angiver ingen kolonne til 'opened'",
            "ukendt tidszone 'Mars/Olympus'"]


def test_an_index_check_is_named_in_danish() -> None:
    areas = pd.DataFrame({"code": ["0851", "0851", "S1"], "name": ["Aalborg", "Aalborg", "B"],
                          "level": ["kommune", "kommune", "sogn"]}, index=[2, 3, 4])
    links = pd.DataFrame({"code": ["S1"], "parent": ["0999"], "valid_from": [float("nan")],
                          "valid_to": [float("nan")]}, index=[4])
    areas.attrs["source"] = links.attrs["source"] = "områder.csv"
    hierarchy, problems = build_hierarchy(Areas(areas, links))
    assert hierarchy is None
    with translation.override("da"):
        assert [located(p) for p in problems] == [
            "områder.csv, række 2, kolonne 'code': område '0851' står der to gange",
            "områder.csv, række 3, kolonne 'code': område '0851' står der to gange",
            "områder.csv, række 4, kolonne 'parent': område '0999' er ikke i områdelisten"]
    with translation.override("en"):
        assert [located(p) for p in problems] == [str(p) for p in problems]
    assert str(problems[2]) == ("områder.csv, row 4, column 'parent': area '0999' is not in "
                                "the area list")


def test_a_problem_stored_as_data_is_read_back_whole() -> None:
    problem = Problem.of("f.csv", 4, "population", "the population %(value)s is negative",
                         value="-3")
    assert from_data(as_data(problem)) == problem
    assert from_data(as_data(problem)).template == problem.template
    assert from_data("an older run's line") == Problem("", None, None, "an older run's line")


def test_a_message_inside_a_problem_is_stored_and_translated_with_it() -> None:
    inner = Marked("unusable geometry: %(error)s", {"error": "Self-intersection"})
    problem = Problem.of("grænser.geojson", None, "SOGNEKODE",
                         "feature %(number)s (%(code)s): %(error)s", number=3, code="7001",
                         error=inner)
    assert problem.message == "feature 3 (7001): unusable geometry: Self-intersection"
    stored = from_data(json.loads(json.dumps(as_data(problem))))
    assert stored.params["error"] == inner and stored.message == problem.message
    with translation.override("da"):
        assert localized(stored).message == ("objekt 3 (7001): geometrien kan ikke bruges: "
                                             "Self-intersection")
