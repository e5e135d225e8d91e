"""``tryg import``: report lines on success, every error and exit code 2 on failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tryg.accounts.models import AuditEvent
from tryg.areas.models import Area, AreaLink, Population
from tryg.cli.main import tryg
from tryg.imports.models import ImportBatch
from tryg.police_register.models import RegisterCount
from tryg.runs.inputs import load_register
from tryg.surveys.models import Response, Wave

pytestmark = pytest.mark.django_db

SURVEY = ("id;aar;omr;vaegt;q1\nr1;2022;0851;1,5;2\nr2;2022;0851;0,5;4\n"
          "r3;2022;0999;1;1\nr4;2022;0998;1;x\n")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(tryg, ["import", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_areas_then_parishes_then_population(shared_data: Path) -> None:
    code, out, _ = run("areas", str(shared_data / "dk_kommuner_dagi2014.geojson"))
    assert code == 0
    assert out.startswith("dk_kommuner_dagi2014.geojson: imported as #")
    assert "99 areas" in out and "(311 rows read)" in out
    code, out, _ = run("areas", str(shared_data / "dk_sogne_dagi2014.topojson"),
                       "--parent-level", "kommune")
    assert code == 0 and "2,148 parent links" in out
    assert AreaLink.objects.filter(parent__code="0851", area__level="sogn").count() == 57
    code, out, _ = run("population", str(shared_data /
                                         "dk_folk1a_population_by_kommune_2008-2023.csv"))
    assert code == 0 and "1,584 population figures" in out
    assert Population.objects.count() == 1584
    code, out, _ = run("areas", str(shared_data / "dk_kommuner_dagi2014.geojson"))
    assert code == 0 and "already imported" in out and "nothing written" in out


def test_a_failed_survey_lists_every_error_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "areas.csv").write_text("code,name,level\n0851,Aalborg,kommune\n",
                                        encoding="utf-8")
    assert run("areas", str(tmp_path / "areas.csv"))[0] == 0
    path = tmp_path / "svar.csv"
    path.write_text(SURVEY, encoding="utf-8")
    mapping = ["--column", "id=respondent_id", "--column", "aar=wave", "--column",
               "omr=area_code", "--column", "vaegt=weight"]
    code, _, err = run("survey", str(path), *mapping)
    assert code == 2
    assert "1 error(s); nothing written" in err  # the reader stops at the bad answer first
    assert "row 5, column 'q1'" in err
    path.write_text(SURVEY.replace(";x\n", ";3\n"), encoding="utf-8")
    code, _, err = run("survey", str(path), *mapping)
    assert code == 2 and "2 error(s)" in err
    assert "row 4, column 'area_code'" in err and "'0999'" in err
    assert "row 5, column 'area_code'" in err and "'0998'" in err
    assert not Wave.objects.exists()

    fixed = SURVEY.replace(";x\n", ";3\n").replace("0999", "0851").replace("0998", "0851")
    path.write_text(fixed, encoding="utf-8")
    code, out, _ = run("survey", str(path), *mapping, "--producer", "Epinion",
                       "--fieldwork-start", "2022-03-01", "--progress")
    assert code == 0 and "1 waves, 4 responses" in out
    assert Wave.objects.get().producer == "Epinion"
    assert Response.objects.count() == 4
    code, _, err = run("survey", str(path), "--column", "nonsense")
    assert code == 2 and "is not FILE_NAME=NAME" in err


def test_the_installed_command_on_a_fresh_data_folder(tmp_path: Path) -> None:
    """End to end in a subprocess: a new SQLite site, an import, a failure, exit codes."""
    areas = tmp_path / "areas.csv"
    areas.write_text("code,name,level,parent\n0851,Aalborg,kommune,\nS1,Budolfi,sogn,0851\n",
                     encoding="utf-8")
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="tryg.site.settings", DATABASE_URL="")
    command = [sys.executable, "-m", "tryg.cli.main", "import", "areas", "--data-dir",
               str(tmp_path / "site"), str(areas)]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300,
                           check=False)
    assert first.returncode == 0, first.stderr
    assert "imported as #1: 2 areas, 1 parent links" in first.stdout
    assert (tmp_path / "site" / "tryg.sqlite3").is_file()
    areas.write_text("code,name,level,parent\nS2,Vor Frue,sogn,0852\n", encoding="utf-8")
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300,
                            check=False)
    assert second.returncode == 2
    assert "row 2, column 'parent'" in second.stderr
    assert not Area.objects.exists()  # the subprocess wrote to its own site, not here


REGISTER_AREAS = ("code,name,level,parent\n0851,Aalborg,kommune,\nS1,Budolfi,sogn,0851\n"
                  "S2,Vor Frue,sogn,0851\n")


def register_counts(path: Path, scale: int) -> Path:
    lines = ["area_code,quarter,offence,count"]
    lines += [f"{area},2015Q{q},vold,{scale * (q + n)}"
              for n, area in enumerate(("S1", "S2")) for q in range(1, 5)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def kommune_rate(population: float) -> float:
    """Reported offences in 2015 per 1,000 residents of 0851, from the counts the index
    reads (:func:`tryg.runs.inputs.load_register`)."""
    loaded = load_register()
    assert loaded is not None
    frame = loaded[0].counts
    total = int(frame.loc[frame["area_code"].isin(["S1", "S2"]), "count"].sum())
    return 1000 * total / population


def test_register_counts_for_stored_periods_need_replace(tmp_path: Path) -> None:
    """A corrected counts file over the old one: refused (nothing written) without
    --replace; with it the kommune's rate is the new file's, not the sum of both."""
    (tmp_path / "areas.csv").write_text(REGISTER_AREAS, encoding="utf-8")
    assert run("areas", str(tmp_path / "areas.csv"))[0] == 0
    code, out, _ = run("register", str(register_counts(tmp_path / "counts.csv", 10)))
    assert code == 0 and "8 counts" in out
    first = ImportBatch.objects.get(kind="register")
    assert kommune_rate(1000) == 10 * (10 + 14)  # S1: 1+2+3+4, S2: 2+3+4+5

    corrected = register_counts(tmp_path / "counts-corrected.csv", 7)
    before = list(RegisterCount.objects.order_by("pk").values_list())
    code, _, err = run("register", str(corrected))
    assert code == 2 and "8 error(s); nothing written" in err
    assert (f"{corrected}, row 2, column 'count': area 'S1', 2015Q1, offence 'vold' is "
            f"already stored (import #{first.pk}, counts.csv); import with replace") in err
    assert list(RegisterCount.objects.order_by("pk").values_list()) == before
    assert ImportBatch.objects.filter(kind="register").count() == 1

    code, out, _ = run("register", str(corrected), "--replace")
    assert code == 0, out
    assert f"replaced 8 row(s) of import #{first.pk}" in out
    assert kommune_rate(1000) == 7 * (10 + 14)  # replaced, not added
    first.refresh_from_db()
    assert first.replaced_at is not None  # all its counts were replaced
    new = ImportBatch.objects.get(kind="register", replaced_at__isnull=True)
    event = AuditEvent.objects.get(action="import", details__batch=new.pk)
    assert event.details["replaced"] == {str(first.pk): 8}
    assert RegisterCount.objects.count() == 8
