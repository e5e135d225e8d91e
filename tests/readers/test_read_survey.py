"""Survey files (CSV, XLSX, SPSS) into SurveyInput, and every way they can be wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tryg.index.inputs import InputError, Problem
from tryg.readers import read_survey

GOOD = (
    "respondent_id,wave,area_code,weight,sex,q_tryg,q_politi\n"
    "r1,2015,0851,1.5,m,2,1\n"
    "r2,2015,0851,0.5,f,,7\n"
    "r1,2016,0851,2,f,8,3\n"
)


def write(tmp_path: Path, text: str, name: str = "survey.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def only_problem(exc: pytest.ExceptionInfo[InputError]) -> Problem:
    assert len(exc.value.problems) == 1, exc.value.problems
    return exc.value.problems[0]


def test_reads_csv_with_line_numbers_and_text_codes(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    survey, report = read_survey(path)
    frame = survey.responses
    assert list(frame.index) == [2, 3, 4]
    assert frame.attrs["source"] == str(path)
    assert list(frame["area_code"]) == ["0851"] * 3  # leading zero kept
    assert list(frame["wave"]) == [2015, 2015, 2016]
    assert frame["weight"].tolist() == [1.5, 0.5, 2.0]
    assert np.isnan(frame["q_tryg"].loc[3]) and frame["q_tryg"].loc[4] == 8.0
    assert list(frame.columns) == ["respondent_id", "wave", "area_code", "weight", "sex",
                                   "q_tryg", "q_politi"]
    assert (report.rows_read, report.rows_used, report.warnings) == (3, 3, [])
    assert report.encoding == "utf-8"


def test_semicolons_decimal_commas_bom_and_column_mapping(tmp_path: Path) -> None:
    text = "\ufeffID;År;Område;Vægt;q1\n17;2021;0101;1,25;3\n18;2021;0101;0,75;4\n"
    path = write(tmp_path, text)
    survey, _ = read_survey(path, columns={"ID": "respondent_id", "År": "wave",
                                           "Område": "area_code", "Vægt": "weight"})
    frame = survey.responses
    assert frame["weight"].tolist() == [1.25, 0.75]
    assert list(frame["respondent_id"]) == ["17", "18"]
    assert list(frame["area_code"]) == ["0101", "0101"]


def test_dot_thousands_in_a_semicolon_file_is_ambiguous(tmp_path: Path) -> None:
    text = "respondent_id;wave;area_code;weight\n1;2015;0851;1.500\n2;2015;0851;0.750\n"
    with pytest.raises(InputError) as exc:
        read_survey(write(tmp_path, text))
    problem = only_problem(exc)
    assert (problem.row, problem.column) == (2, "weight") and "ambiguous" in problem.message


def test_items_limits_the_answer_columns(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("q_politi", "comment"))
    survey, _ = read_survey(path, items=["q_tryg"])
    assert "comment" not in survey.responses.columns


def test_wrong_encoding_names_file_row_column_and_byte(tmp_path: Path) -> None:
    # 0x81 is neither UTF-8 here nor a Windows-1252 character: the UTF-8 error stands.
    path = tmp_path / "survey.csv"
    path.write_bytes(GOOD.replace("m,2,1", "X,2,1").encode("utf-8").replace(b"X", b"\x81"))
    with pytest.raises(InputError) as exc:
        read_survey(path)
    problem = only_problem(exc)
    assert (problem.source, problem.row, problem.column) == (str(path), 2, "sex")
    message = str(exc.value)
    assert "not valid UTF-8" in message and "81" in message and "latin-1" in message
    survey, report = read_survey(path, encoding="latin-1")
    assert survey.responses.loc[2, "sex"] == "\x81"
    assert report.encoding == "iso8859-1"


def test_windows_1252_is_detected_when_not_utf8(tmp_path: Path) -> None:
    """Excel's CSV in Denmark: æøå in Windows-1252 read as such without being told."""
    path = write(tmp_path, GOOD.replace("m,2,1", "Ø,2,1"), encoding="cp1252")
    survey, report = read_survey(path)
    assert survey.responses.loc[2, "sex"] == "Ø"
    assert report.encoding == "cp1252"
    with pytest.raises(InputError):
        read_survey(path, encoding="utf-8")  # an explicit choice is obeyed


def test_missing_column_names_header_row(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("weight", "wt"))
    with pytest.raises(InputError) as exc:
        read_survey(path)
    problem = only_problem(exc)
    assert (problem.source, problem.row, problem.column) == (str(path), 1, "weight")
    assert str(path) in str(exc.value) and "row 1" in str(exc.value)


def test_duplicated_respondent_names_both_rows(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "r2,2015,0851,1,m,3,3\n")
    with pytest.raises(InputError) as exc:
        read_survey(path)
    problem = only_problem(exc)
    assert (problem.source, problem.row, problem.column) == (str(path), 5, "respondent_id")
    assert "rows 3 and 5" in problem.message and "wave 2015" in problem.message


def test_non_numeric_answer_names_row_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("r2,2015,0851,0.5,f,,7", "r2,2015,0851,0.5,f,,seven"))
    with pytest.raises(InputError) as exc:
        read_survey(path)
    problem = only_problem(exc)
    assert (problem.source, problem.row, problem.column) == (str(path), 3, "q_politi")
    assert "'seven' is not a number" in problem.message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        "respondent_id,wave,area_code,weight,q1\n"
        "a,2015,0851,0,1\n"          # weight 0
        "b,twenty,0851,1,1\n"        # wave not a number
        "c,2015,,1,1\n"              # empty area
        "d,2015.5,0851,-1,nan\n"     # fractional wave, negative weight, 'nan' answer
    )
    with pytest.raises(InputError) as exc:
        read_survey(write(tmp_path, text))
    found = {(p.row, p.column) for p in exc.value.problems}
    assert found == {(2, "weight"), (3, "wave"), (4, "area_code"), (5, "wave"), (5, "weight"),
                     (5, "q1")}


def test_mapping_to_a_missing_column_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"'ID' .* is not in the file"):
        read_survey(write(tmp_path, GOOD), columns={"ID": "respondent_id"})


def test_ragged_rows_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        read_survey(write(tmp_path, GOOD + "r9,2015\n"))
    assert only_problem(exc).row == 5
    with pytest.raises(InputError, match="empty"):
        read_survey(write(tmp_path, "\n\n"))
    with pytest.raises(InputError, match="no answers"):
        read_survey(write(tmp_path, GOOD.splitlines()[0] + "\n"))
    with pytest.raises(InputError, match="cannot read the file"):
        read_survey(tmp_path / "absent.csv")


def test_xlsx_rows_are_sheet_rows(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Svar"
    sheet.append(["respondent_id", "wave", "area_code", "weight", "q1"])
    sheet.append(["r1", 2015, "0851", 1.5, 3])
    sheet.append([None, None, None, None, None])  # a blank row: row numbers must not shift
    sheet.append(["r2", 2015, "0851", 1, "x"])
    path = tmp_path / "survey.xlsx"
    book.save(path)
    with pytest.raises(InputError) as exc:
        read_survey(path, sheet="Svar")
    problem = only_problem(exc)
    assert (problem.source, problem.row, problem.column) == (str(path), 4, "q1")
    sheet["E4"] = 2
    book.save(path)
    survey, report = read_survey(path)
    assert list(survey.responses.index) == [2, 4]
    assert survey.responses["q1"].tolist() == [3.0, 2.0]
    assert report.encoding is None
    with pytest.raises(InputError, match="no sheet 'Ark2'"):
        read_survey(path, sheet="Ark2")


def test_xlsx_numeric_area_codes_warn_about_leading_zeros(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(["respondent_id", "wave", "area_code", "weight"])
    book.active.append([1, 2015, 851, 1])
    path = tmp_path / "codes.xlsx"
    book.save(path)
    survey, report = read_survey(path)
    assert survey.responses["area_code"].tolist() == ["851"]
    assert [w.column for w in report.warnings] == ["area_code"]


def test_spss_keeps_codes_and_value_labels(tmp_path: Path) -> None:
    pyreadstat = pytest.importorskip("pyreadstat")
    import pandas as pd

    frame = pd.DataFrame({"id": ["a", "b"], "aar": [2015.0, 2015.0], "omr": ["0851", "0851"],
                          "vaegt": [1.0, 2.0], "tryg": [1.0, 8.0]})
    path = tmp_path / "survey.sav"
    pyreadstat.write_sav(frame, str(path),
                         variable_value_labels={"tryg": {1.0: "Meget tryg", 8.0: "Ved ikke"}})
    survey, _ = read_survey(path, columns={"id": "respondent_id", "aar": "wave",
                                           "omr": "area_code", "vaegt": "weight"})
    responses = survey.responses
    assert list(responses.index) == [1, 2]  # case numbers
    assert responses["tryg"].tolist() == [1.0, 8.0]  # "don't know" kept as its code
    assert responses.attrs["value_labels"] == {"tryg": {1: "Meget tryg", 8: "Ved ikke"}}
    assert responses["wave"].tolist() == [2015, 2015]
