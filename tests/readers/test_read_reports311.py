"""The 311 reports reader: a column mapping, flags for unplaceable positions, and errors that
name file, row and column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fuzz_readers import check, mutated

from tryg.index.inputs import InputError
from tryg.readers.limits import Limits
from tryg.readers.reports311 import (
    DEFAULT_LOCATION,
    INVALID,
    MISSING,
    PLACED,
    ReportMapping,
    built_in_mappings,
    load_mapping,
    read_reports,
)

MAPPING = ReportMapping(
    columns={"external_id": "id", "category": "type", "status": "status",
             "opened": "opened", "closed": "closed", "latitude": "lat", "longitude": "lon",
             "address": "where"},
    categories={"Street Light Outages": "lighting"}, timezone="America/New_York",
    default_location=(42.3594, -71.0587))
SEED = ("id,type,status,opened,closed,lat,lon,where\n"
        "1,Street Light Outages,Open,2015-01-09T14:56:26,,42.3533,-71.1419,Main St\n"
        "2,Graffiti Removal,closed,2015-01-10 08:00,2015-01-11 08:00,42.3594,-71.0587,\n"
        "3,Needle Pickup,OPEN,2015-02-01T10:00:00+00:00,,0,0,\n"
        "4,Needle Pickup,Open,2015-02-01,,,,\n"
        "5,Needle Pickup,Open,2015-02-01,,91,10,\n")
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def _write(tmp_path: Path, text: str, name: str = "r.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_reads_with_its_mapping(tmp_path: Path) -> None:
    reports, report = read_reports(_write(tmp_path, SEED), MAPPING)
    assert reports.lines == [2, 3, 4, 5, 6] and report.rows_read == 5
    assert reports.categories == ["lighting", "graffiti_removal", "needle_pickup",
                                  "needle_pickup", "needle_pickup"]
    assert reports.states == ["new", "fixed", "new", "new", "new"]
    assert reports.position_flags == [PLACED, DEFAULT_LOCATION, INVALID, MISSING, INVALID]
    assert reports.lat == [42.3533, None, None, None, None]
    new_york = dt.timezone(dt.timedelta(hours=-5))
    assert reports.opened[0] == dt.datetime(2015, 1, 9, 14, 56, 26, tzinfo=new_york)
    assert reports.opened[2] == dt.datetime(2015, 2, 1, 10, tzinfo=dt.UTC)
    assert reports.closed[:2] == [None, dt.datetime(2015, 1, 11, 8, tzinfo=new_york)]
    assert reports.addresses[0] == "Main St"
    assert [str(w) for w in report.warnings] == [
        f"{tmp_path / 'r.csv'}: 1 row(s) at the default location: flagged, not placed",
        f"{tmp_path / 'r.csv'}: 1 row(s) without a position: flagged, not placed",
        f"{tmp_path / 'r.csv'}: 2 row(s) with an invalid position: flagged, not placed"]


def test_semicolons_and_windows_1252(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes("id;type;opened\n1;Hærværk;2015-01-01\n".encode("cp1252"))
    mapping = ReportMapping(columns={"external_id": "id", "category": "type",
                                     "opened": "opened"})
    reports, report = read_reports(path, mapping)
    assert reports.categories == ["haervaerk"] and report.encoding == "cp1252"
    assert reports.states == ["new"]


def test_errors_name_file_row_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, SEED + "6,,Lost,tomorrow,,x,1,\n7,a,Open\n1,b,Open,2015-01-01,,,,\n")
    with pytest.raises(InputError) as caught:
        read_reports(path, MAPPING)
    found = [(p.source, p.row, p.column) for p in caught.value.problems]
    assert found == [(str(path), 7, "type"), (str(path), 7, "status"),
                     (str(path), 7, "opened"), (str(path), 7, "lat"),
                     (str(path), 8, None), (str(path), 9, "id")]
    assert "'tomorrow' is not a date and time as ISO 8601" in str(caught.value)
    assert "'1' is also on row 2" in str(caught.value)


def test_a_nul_in_a_report_is_an_error_naming_its_cell(tmp_path: Path) -> None:
    """PostgreSQL's COPY refuses NUL in text: refused when read, with row and column."""
    path = _write(tmp_path, SEED + "6,Needle Pickup,Open,2015-02-01,,,,Main\x00St\n")
    with pytest.raises(InputError) as caught:
        read_reports(path, MAPPING)
    assert [(p.row, p.column) for p in caught.value.problems] == [(7, "where")]


def test_a_report_closed_before_it_was_opened_is_an_error(tmp_path: Path) -> None:
    """Closed a day before it was opened (swapped columns, a day-month mix-up) is an error at
    the closed cell; seconds or minutes before (two systems' clocks, as in Boston's own file,
    where 36 requests close up to 19 s before they open; a time repeated when summer time
    ends) are kept."""
    skew = "6,Needle Pickup,Closed,2015-05-06 07:34:47,2015-05-06 07:34:36,,,\n" \
           "7,Needle Pickup,Closed,2015-11-01 01:50:00,2015-11-01 01:10:00,,,\n"
    reports, _ = read_reports(_write(tmp_path, SEED + skew), MAPPING)
    assert len(reports) == 7
    path = _write(tmp_path, SEED + skew + "8,Needle Pickup,Closed,2015-02-03,2015-02-01,,,\n"
                  "9,Needle Pickup,Closed,2015-03-01T12:00:00Z,2015-03-01 05:00,,,\n")
    with pytest.raises(InputError) as caught:
        read_reports(path, MAPPING)
    assert [(p.source, p.row, p.column) for p in caught.value.problems] == [
        (str(path), 9, "closed"), (str(path), 10, "closed")]
    assert "'2015-02-01' is before the report was opened ('2015-02-03')" in str(caught.value)


def test_a_mapping_naming_a_missing_column(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        read_reports(_write(tmp_path, SEED), ReportMapping(
            columns={"category": "TYPE", "opened": "opened", "latitude": "lat"}))
    problems = [str(p) for p in caught.value.problems]
    assert problems == [f"{tmp_path / 'r.csv'}: the mapping needs both latitude and "
                        "longitude, or neither"]
    with pytest.raises(InputError) as caught:
        read_reports(_write(tmp_path, SEED), ReportMapping(
            columns={"category": "TYPE", "opened": "opened"}))
    (problem,) = caught.value.problems
    assert (problem.row, problem.column) == (1, "TYPE")


def test_too_many_rows(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="more than the limit of 3"):
        read_reports(_write(tmp_path, SEED), MAPPING, limits=Limits(max_rows=3))


def test_the_shipped_boston_mapping() -> None:
    assert "boston-311" in built_in_mappings()
    mapping = load_mapping("boston-311", timezone="UTC")
    assert mapping.columns["category"] == "TYPE" and mapping.timezone == "UTC"
    assert mapping.default_location == (42.3594, -71.0587)
    assert mapping.statuses == {"open": "new", "closed": "fixed"}


def test_a_bad_mapping_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "[columns\n", "m.toml")
    with pytest.raises(InputError, match="not a readable TOML file"):
        load_mapping(path)
    path = _write(tmp_path, "[values]\ndefault_location = [1]\n", "m.toml")
    with pytest.raises(InputError, match=r"default_location must be \[latitude, longitude\]"):
        load_mapping(path)


@FUZZ
@given(data=st.data())
def test_mutated_files_read_or_raise_input_error(tmp_path_factory: pytest.TempPathFactory,
                                                 data: st.DataObject) -> None:
    path = tmp_path_factory.mktemp("fuzz311") / "r.csv"
    check(lambda p: read_reports(p, MAPPING), path, data.draw(mutated(SEED)))


@FUZZ
@given(data=st.binary(max_size=600))
def test_random_bytes_read_or_raise_input_error(tmp_path_factory: pytest.TempPathFactory,
                                                data: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz311") / "r.csv"
    check(lambda p: read_reports(p, MAPPING), path, data)
