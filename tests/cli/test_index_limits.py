"""``tryg index run`` reads its files under the same limits as an import, from the
environment (TRYG_MAX_ROWS, TRYG_MAX_UNPACKED_MB): a bomb or too long a file is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tryg.cli.main import tryg
from zipbombs import workbook, zeros


def run(tmp_path: Path, survey: Path, env: dict[str, str]) -> tuple[int, str]:
    population = tmp_path / "population.csv"
    population.write_text("area_code,year,population\n0851,2022,100\n0851,2023,101\n")
    areas = tmp_path / "areas.csv"
    areas.write_text("code,name,level\n0851,Aalborg,kommune\n")
    result = CliRunner().invoke(tryg, [
        "index", "run", "--spec", "dk-tryghedsindeks", "--survey", str(survey),
        "--population", str(population), "--areas", str(areas), "--quiet",
        "--out", str(tmp_path / "results.csv")], env=env)
    return result.exit_code, result.stderr


def test_a_survey_bomb_is_refused(tmp_path: Path) -> None:
    bomb = workbook(tmp_path / "svar.xlsx", zeros("xl/worksheets/sheet1.xml"))
    code, err = run(tmp_path, bomb, {})
    assert code == 2 and "unpacks to 1,536.0 MB" in err and "TRYG_MAX_UNPACKED_MB" in err
    assert not (tmp_path / "results.csv").exists()


def test_the_row_limit_comes_from_the_environment(tmp_path: Path) -> None:
    survey = tmp_path / "survey.csv"
    survey.write_text("respondent_id,wave,area_code,weight,q1\n" +
                      "".join(f"r{i},2023,0851,1,3\n" for i in range(3)))
    code, err = run(tmp_path, survey, {"TRYG_MAX_ROWS": "2"})
    assert code == 2 and "more than the limit of 2 (TRYG_MAX_ROWS)" in err
    assert str(survey) in err
    code, err = run(tmp_path, survey, {"TRYG_MAX_ROWS": "many"})
    assert code == 2 and "TRYG_MAX_ROWS must be a whole number" in err


@pytest.mark.parametrize("value", ["0", "-5"])
def test_a_limit_must_be_positive(tmp_path: Path, value: str) -> None:
    survey = tmp_path / "survey.csv"
    survey.write_text("respondent_id,wave,area_code,weight,q1\nr1,2023,0851,1,3\n")
    code, err = run(tmp_path, survey, {"TRYG_MAX_UNPACKED_MB": value})
    assert code == 2 and "TRYG_MAX_UNPACKED_MB must be at least 1" in err
