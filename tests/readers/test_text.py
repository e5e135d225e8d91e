"""Text files to text: a NUL character is no text, whatever the encoding or the reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from tryg.index.inputs import InputError
from tryg.readers import read_areas, read_register, read_survey
from tryg.readers.text import decode

SURVEY = "respondent_id,wave,area_code,weight,sex,q1\nr1,2015,0851,1,m,2\nr2,2015,0851,1,f,3\n"


def test_a_nul_character_is_refused_with_its_line_and_column(tmp_path: Path) -> None:
    """PostgreSQL refuses NUL in text: a file holding one must fail when read, naming the
    cell, not when its rows are written (a server error on the upload page)."""
    path = tmp_path / "survey.csv"
    path.write_bytes(SURVEY.replace("f,3", "f\x00,3").encode("utf-8"))
    with pytest.raises(InputError) as caught:
        read_survey(path)
    (problem,) = caught.value.problems
    assert (problem.source, problem.row, problem.column) == (str(path), 3, "sex")
    assert "NUL" in problem.message
    # the same in an Excel file in Windows-1252 and with an explicit encoding
    path.write_bytes(SURVEY.replace("f,3", "Ø\x00,3").encode("cp1252"))
    for encoding in (None, "latin-1"):
        with pytest.raises(InputError) as caught:
            read_survey(path, encoding=encoding)
        assert [(p.row, p.column) for p in caught.value.problems] == [(3, "sex")]


def test_utf16_without_a_byte_order_mark_is_named() -> None:
    data = "code,name,level\n0851,Aalborg,kommune\n".encode("utf-16-le")
    with pytest.raises(InputError) as caught:
        decode(data, "areas.csv", None)
    (problem,) = caught.value.problems
    assert (problem.row, problem.column) == (1, None)
    assert "UTF-16" in problem.message


def test_every_csv_reader_refuses_nul(tmp_path: Path) -> None:
    """The areas reader and the register's fast column reader too (no NUL reaches a write)."""
    areas = tmp_path / "areas.csv"
    areas.write_bytes(b"code,name,level\n0851,Aal\x00borg,kommune\n")
    with pytest.raises(InputError) as caught:
        read_areas(areas)
    assert [(p.row, p.column) for p in caught.value.problems] == [(2, "name")]
    records = tmp_path / "records.csv"
    records.write_bytes(b"date,offence,longitude,latitude\n2012-07-02,ROBBERY,-122.41,37.78\n"
                        b"2012-07-03,ROB\x00BERY,-122.41,37.78\n")
    with pytest.raises(InputError) as caught:
        read_register(records)
    assert [(p.row, p.column) for p in caught.value.problems] == [(3, "offence")]
