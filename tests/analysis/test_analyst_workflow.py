"""The analyst's workflow without dead ends (issue 12): landing on the analysts' pages, an
upload that finds everything the run would find, files from Excel in Windows-1252,
withdrawing an import, downloading a run's results, and publishing after confirmation."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.test import Client
from django.urls import reverse

from support.stored_demo import store_demo
from tryg import index
from tryg.accounts.models import AuditEvent, Organisation, Role, User
from tryg.analysis.figures import figure
from tryg.areas.models import Area, Population
from tryg.cli.main import tryg
from tryg.demo import DemoData, generate
from tryg.imports.models import ImportBatch
from tryg.index.inputs import PopulationInput
from tryg.index.population import check_population
from tryg.runs.models import IndexRun
from tryg.runs.services import publish, results_frame, run_index
from tryg.surveys.models import Response, Wave

pytestmark = pytest.mark.django_db

UPLOAD = "/analyse/import/"
PASSWORD = "a long password 1"
AREAS = "code,name,level,parent\n0851,Aalborg,kommune,\nS1,Nørresundby,sogn,0851\n" \
        "S2,Ærø Sogn,sogn,0851\nS3,Åby,sogn,0851\n"
SURVEY_HEADER = "respondent_id,wave,area_code,weight,sex,tryg_nabolag,problem_trusler\n"


def _user(role: str, name: str | None = None) -> User:
    organisation = None
    if role == Role.PARTNER:
        organisation = Organisation.objects.create(name="Bolig", kind=Organisation.Kind.HOUSING)
    user: User = User.objects.create_user(name or role, role=role, organisation=organisation)
    return user


def _client(role: str) -> Client:
    client = Client()
    client.force_login(_user(role))
    return client


def _upload(client: Client, kind: str, name: str, data: bytes, **fields: str) -> str:
    response = client.post(UPLOAD, {"kind": kind, "file": SimpleUploadedFile(name, data),
                                    **fields})
    assert response.status_code == 200
    return response.content.decode()


# --- 1. landing and menu -------------------------------------------------------------------

@pytest.mark.parametrize(("role", "lands"), [
    (Role.ANALYST, "/analyse/"), (Role.COORDINATOR, "/analyse/"),
    (Role.ADMINISTRATOR, "/analyse/"), (Role.PARTNER, "/")])
def test_staff_land_on_the_analysts_pages(role: str, lands: str) -> None:
    user = _user(role)
    user.set_password(PASSWORD)
    user.save()
    response = Client().post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == lands


def test_the_analysts_menu_links_import_runs_and_quality() -> None:
    html = _client(Role.ANALYST).get("/analyse/").content.decode()
    nav = html.split("<nav", 1)[1].split("</nav>", 1)[0]
    for url in ("/analyse/", UPLOAD, "/analyse/runs/", "/analyse/quality/"):
        assert f'href="{url}"' in nav
    # the upload page has the same menu
    upload_nav = _client(Role.ADMINISTRATOR).get(UPLOAD).content.decode().split("</nav>")[0]
    assert 'href="/analyse/runs/"' in upload_nav
    # a coordinator may not import: no link
    coordinator = _client(Role.COORDINATOR).get("/analyse/").content.decode()
    assert f'href="{UPLOAD}"' not in coordinator.split("</nav>")[0]


# --- 2. an upload checks what the run checks -----------------------------------------------

def test_a_survey_upload_lists_every_problem_the_run_would_find() -> None:
    analyst = _client(Role.ANALYST)
    _upload(analyst, "areas", "areas.csv", AREAS.encode())
    survey = SURVEY_HEADER + "\n".join([
        "r1,2022,S1,1,k,2,1",
        "r2,2022,S1,1,m,9,1",      # 9 on a 1-7 scale (8 is "don't know")
        "r3,2022,S2,1,k,8,7",      # 7 on a 1-5 scale
        "r4,2022,S3,1,m,3.5,2",    # not an answer code
        "r6,2022,S9,1,m,1,1",      # unknown area
    ]) + "\n"
    html = _upload(analyst, "survey", "svar.csv", survey.encode())
    assert not Response.objects.exists() and not Wave.objects.exists()
    rows = html.split('<table class="errors">', 1)[1].split("</table>", 1)[0]
    for row, column in ((3, "tryg_nabolag"), (4, "problem_trusler"), (5, "tryg_nabolag"),
                        (6, "area_code")):
        assert f'<td>svar.csv</td><td class="num">{row}</td><td>{column}</td>' in rows, row
    assert "outside the scale 1-7" in rows and "outside the scale 1-5" in rows
    assert rows.count("<tr>") == 1 + 4  # the header, and each problem once (not per spec)
    # a respondent twice: found by the reader, before the answers are checked
    html = _upload(analyst, "survey", "svar.csv",
                   (survey + "r1,2022,S2,1,k,1,1\n").encode())
    assert '<td class="num">7</td><td>respondent_id</td>' in html or "appears twice" in html


def test_the_population_plausibility_rule() -> None:
    table = pd.DataFrame({
        "area_code": ["A", "A", "A", "B", "B", "C", "D"],
        "year": [2022, 2022, 2022, 2022, 2023, 2022, 2022],
        "sex": [None, "k", "m", None, None, None, None],
        "age_group": [None, None, None, None, None, None, None],
        "population": [100.0, 40.0, 70.0, 1000.0, 1600.0, -1.5, 10.5]},
        index=pd.Index([2, 3, 4, 5, 6, 7, 8]))
    table.attrs["source"] = "pop.csv"
    stored = pd.DataFrame({"area_code": ["A"], "year": [2021], "population": [30.0]})
    problems = check_population(PopulationInput(table), stored)
    messages = " ".join(p.message for p in problems)
    assert "smaller than the sum" in messages and "+60%" in messages and "+233%" in messages
    assert "negative" in messages and "not a whole number" in messages
    assert sorted(p.row or 0 for p in problems) == [2, 2, 6, 7, 8]
    # FOLK1A's averages of quarters may hold fractions
    assert len(check_population(PopulationInput(table), stored, whole=False)) == 4


def test_a_population_upload_refuses_implausible_figures() -> None:
    analyst = _client(Role.ANALYST)
    _upload(analyst, "areas", "areas.csv", AREAS.encode())
    _upload(analyst, "population", "pop2022.csv",
            b"area_code,year,population\nS1,2022,1000\nS2,2022,500\n")
    html = _upload(analyst, "population", "pop2023.csv",
                   b"area_code,year,population\nS1,2023,1700\nS2,2023,200\nS3,2023,10.5\n")
    assert Population.objects.count() == 2
    rows = html.split('<table class="errors">', 1)[1].split("</table>", 1)[0]
    for row in (2, 3, 4):
        assert f'<td class="num">{row}</td><td>population</td>' in rows
    assert "+70%" in rows and "-60%" in rows and "whole number" in rows


# --- 3. encodings ----------------------------------------------------------------------------

def test_a_windows_1252_file_imports_with_its_letters() -> None:
    analyst = _client(Role.ANALYST)
    html = _upload(analyst, "areas", "omraader.csv", AREAS.encode("cp1252"))
    assert "<td>areas</td>" in html
    assert set(Area.objects.values_list("name", flat=True)) == {
        "Aalborg", "Nørresundby", "Ærø Sogn", "Åby"}
    survey = (SURVEY_HEADER.replace("sex", "stratum")
              + "r1,2022,S1,1,Nørre,2,1\nr2,2022,S2,1,Ærø,3,1\n").encode("cp1252")
    # told it is UTF-8, the file is refused; told Windows-1252, it is read as such
    html = _upload(analyst, "survey", "svar.csv", survey, encoding="utf-8")
    assert "not valid UTF-8" in html and not Response.objects.exists()
    _upload(analyst, "survey", "svar.csv", survey, encoding="cp1252")
    assert set(Response.objects.values_list("stratum", flat=True)) == {"Nørre", "Ærø"}


def test_the_cli_reads_windows_1252_with_or_without_encoding(tmp_path: Path) -> None:
    (tmp_path / "areas.csv").write_bytes(AREAS.encode("cp1252"))
    result = CliRunner().invoke(tryg, ["import", "areas", str(tmp_path / "areas.csv")])
    assert result.exit_code == 0, result.output
    assert Area.objects.filter(name="Ærø Sogn").exists()
    (tmp_path / "pop.csv").write_bytes(b"area_code,year,population\nS3,2022,7\n")
    result = CliRunner().invoke(tryg, ["import", "population", "--encoding", "cp1252",
                                       str(tmp_path / "pop.csv")])
    assert result.exit_code == 0, result.output


# --- 4. withdrawing an import ---------------------------------------------------------------

def test_an_import_is_withdrawn_all_or_nothing() -> None:
    analyst = _client(Role.ANALYST)
    _upload(analyst, "areas", "areas.csv", AREAS.encode())
    _upload(analyst, "survey", "svar.csv",
            (SURVEY_HEADER + "r1,2022,S1,1,k,2,1\nr2,2022,S2,1,m,3,1\n").encode())
    areas = ImportBatch.objects.get(kind="areas")
    survey = ImportBatch.objects.get(kind="survey")

    # the areas are still used by answers: refused, nothing deleted
    page = analyst.get(reverse("imports:withdraw", args=[areas.pk])).content.decode()
    assert "survey answers" in page and "<button" not in page.split("<main", 1)[1]
    analyst.post(reverse("imports:withdraw", args=[areas.pk]))
    assert Area.objects.count() == 4
    areas.refresh_from_db()
    assert areas.withdrawn_at is None

    # a survey import: the confirmation page, then the POST
    detail = analyst.get(reverse("imports:batch", args=[survey.pk])).content.decode()
    assert reverse("imports:withdraw", args=[survey.pk]) in detail
    confirm = analyst.get(reverse("imports:withdraw", args=[survey.pk])).content.decode()
    assert 'method="post"' in confirm and "csrfmiddlewaretoken" in confirm
    response = analyst.post(reverse("imports:withdraw", args=[survey.pk]))
    assert response.status_code == 302
    assert not Response.objects.exists() and not Wave.objects.exists()
    survey.refresh_from_db()
    assert survey.withdrawn_at is not None
    event = AuditEvent.objects.get(action=AuditEvent.Action.IMPORT_WITHDRAWN)
    assert event.details["batch"] == survey.pk and event.details["deleted"]["responses"] == 2
    # withdrawn twice: refused; the same file may be imported again
    assert analyst.post(reverse("imports:withdraw", args=[survey.pk])).status_code == 302
    assert AuditEvent.objects.filter(action=AuditEvent.Action.IMPORT_WITHDRAWN).count() == 1
    _upload(analyst, "survey", "svar.csv",
            (SURVEY_HEADER + "r1,2022,S1,1,k,2,1\nr2,2022,S2,1,m,3,1\n").encode())
    assert Response.objects.count() == 2


def test_withdraw_on_the_command_line() -> None:
    analyst = _client(Role.ANALYST)
    _upload(analyst, "areas", "areas.csv", AREAS.encode())
    _upload(analyst, "population", "pop.csv", b"area_code,year,population\nS1,2022,10\n")
    batch = ImportBatch.objects.get(kind="population")
    result = CliRunner().invoke(tryg, ["import", "withdraw", str(batch.pk)])
    assert result.exit_code == 0, result.output
    assert "1 population figures" in result.output and not Population.objects.exists()
    result = CliRunner().invoke(tryg, ["import", "withdraw", str(batch.pk)])
    assert result.exit_code != 0 and "already withdrawn" in result.output
    areas = ImportBatch.objects.get(kind="areas")
    assert CliRunner().invoke(tryg, ["import", "withdraw", str(areas.pk)]).exit_code == 0
    assert not Area.objects.exists()


def test_others_cannot_withdraw() -> None:
    analyst = _client(Role.ANALYST)
    _upload(analyst, "areas", "areas.csv", AREAS.encode())
    batch = ImportBatch.objects.get()
    url = reverse("imports:withdraw", args=[batch.pk])
    assert _client(Role.COORDINATOR).post(url).status_code == 403
    assert _client(Role.PARTNER).get(url).status_code == 403
    assert Client().post(url).status_code == 302  # to the log-in page
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(User.objects.get(username=Role.ANALYST))
    assert csrf.post(url).status_code == 403
    assert Area.objects.count() == 4


# --- 5. and 6. runs: download, rounding, publishing ------------------------------------------

@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate(1, "small")


def test_results_download_and_rounded_figures(demo: DemoData) -> None:
    store_demo(demo)
    run = run_index(index.load_spec("dk-tryghedsindeks"))
    assert run.status == IndexRun.Status.DONE, run.log
    analyst = _client(Role.ANALYST)
    table = results_frame(run)
    csv = analyst.get(reverse("analyse:download", args=[run.pk, "csv"]))
    assert csv.status_code == 200 and "no-store" in csv["Cache-Control"]
    assert csv["Content-Disposition"] == f'attachment; filename="tryg-run-{run.pk}.csv"'
    assert len(pd.read_csv(io.BytesIO(csv.content))) == len(table)
    xlsx = analyst.get(reverse("analyse:download", args=[run.pk, "xlsx"]))
    assert xlsx.status_code == 200
    assert "xl/workbook.xml" in zipfile.ZipFile(io.BytesIO(xlsx.content)).namelist()
    assert analyst.get(f"/analyse/runs/{run.pk}/results.exe").status_code == 404
    assert _client(Role.PARTNER).get(reverse("analyse:download",
                                             args=[run.pk, "csv"])).status_code == 403
    assert Client().get(reverse("analyse:download", args=[run.pk, "csv"])).status_code == 302

    page = analyst.get(reverse("analyse:run", args=[run.pk]) + "?measure=tryghed_trygge")
    html = page.content.decode()
    assert reverse("analyse:download", args=[run.pk, "csv"]) in html
    shown = table[(table["measure"] == "tryghed_trygge") & table["estimate"].notna()]
    first = shown.sort_values(["measure", "wave", "level", "area_code"]).iloc[0]
    assert figure(first["estimate"], share=True) in html
    assert repr(float(first["estimate"])) not in html


def test_publishing_asks_first_and_says_what_changes(demo: DemoData) -> None:
    store_demo(demo)
    spec = index.load_spec("dk-tryghedsindeks")
    live = run_index(spec)
    publish(live)
    Response.objects.filter(pk__in=list(Response.objects.values_list("pk", flat=True)[::3])
                            ).update(weight=F("weight") * 4)
    new = run_index(spec)
    assert new.status == IndexRun.Status.DONE, new.log
    analyst = _client(Role.ANALYST)
    url = reverse("analyse:publish", args=[new.pk])
    run_page = analyst.get(reverse("analyse:run", args=[new.pk])).content.decode()
    assert f'href="{url}"' in run_page  # a link to the confirmation, not a bare POST
    confirm = analyst.get(url)
    html = confirm.content.decode()
    assert confirm.status_code == 200
    assert f"#{new.pk}" in html and f"#{live.pk}" in html
    assert f"?a={live.pk}&amp;b={new.pk}" in html and "tryghed_trygge" in html
    new.refresh_from_db()
    assert not new.is_published  # looking is not publishing
    assert _client(Role.COORDINATOR).get(url).status_code == 403
    response = analyst.post(url)
    assert response.status_code == 302
    new.refresh_from_db()
    assert new.is_published
    runs = analyst.get(reverse("analyse:runs")).content.decode()
    marked = [row for row in runs.split("<tr>") if 'class="live"' in row]
    assert len(marked) == 1 and f'href="/analyse/runs/{new.pk}/"' in marked[0]


def test_figures_are_rounded_not_cut() -> None:
    from django.utils import translation

    with translation.override("en"):
        assert figure(0.8870712, share=True) == "88.7 %"
        assert figure(7765.4375, share=True) == "776543.8 %"  # rounded, not cut off
        assert figure(3.14159, share=False) == "3.14"
        assert figure(None, share=True) == figure(float("nan"), share=False) == "–"
    with translation.override("da"):
        assert figure(0.8870712, share=True) == "88,7 %"
