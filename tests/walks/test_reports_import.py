"""``tryg import reports``: existing 311 reports as findings, whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from django.test import override_settings

from tryg.areas.models import Area
from tryg.cli.main import tryg
from tryg.imports.models import ImportBatch
from tryg.walks.models import Action, Finding
from tryg.walks.reports_import import import_file
from tryg.walks.states import ActionState

pytestmark = pytest.mark.django_db

BOSTON = "boston_311_2015_public_space_requests.csv"
HEADER = "id,type,state,opened,closed,lat,lon,what\n"
ROWS = ("a1,Street Light Outages,Open,2015-01-09 14:56:26,,42.3533,-71.1419,Lampe\n"
        "a2,Graffiti Removal,Closed,2015-01-10 08:00:00,2015-01-12 09:00:00,42.30,-71.05,Tag\n"
        "a3,Needle Pickup,Closed,2015-02-01 10:00:00,2015-02-01 11:00:00,42.3594,-71.0587,\n"
        "a4,Illegal Dumping,Open,2015-03-01 10:00:00,,,,\n")
COLUMNS = ["--column", "external_id=id", "--column", "category=type", "--column",
           "status=state", "--column", "opened=opened", "--column", "closed=closed",
           "--column", "latitude=lat", "--column", "longitude=lon", "--column", "text=what"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(tryg, ["import", "reports", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.slow
def test_the_boston_file_imports_as_it_is(shared_data: Path) -> None:
    code, out, err = run(str(shared_data / BOSTON), "--mapping", "boston-311", "--public")
    assert code == 0, err
    assert f"{BOSTON}: 22,393 findings imported" in out
    assert "1,720 default location" in out
    assert Finding.objects.filter(source=Finding.Source.IMPORT).count() == 22_393
    flagged = Finding.objects.filter(position_flag=Finding.PositionFlag.DEFAULT_LOCATION)
    assert flagged.count() == 1_720
    assert not flagged.filter(lat__isnull=False).exists()  # flagged, not placed
    assert not Finding.objects.filter(lat=42.3594, lon=-71.0587).exists()
    assert Finding.objects.filter(lat__isnull=False).count() == 22_393 - 1_720
    assert Action.objects.filter(state=ActionState.NEW).count() == 2_928
    assert Action.objects.filter(state=ActionState.FIXED, closed_at__isnull=False).count() \
        == 19_465
    assert Finding.objects.filter(category="lighting").count() == 7_956 + 599 + 1_429
    assert not Finding.objects.exclude(area_code="").exists()  # no areas stored
    first = Finding.objects.get(external_id="101001245080")
    assert first.observed_at is not None
    assert first.observed_at.isoformat() == "2015-01-09T19:56:26+00:00"  # 2:56 PM in Boston
    assert first.action.deadline is not None and first.action.deadline.isoformat() == \
        "2015-01-16"
    assert not ImportBatch.objects.exists()
    # A second import of the same file adds nothing.
    code, out, _ = run(str(shared_data / BOSTON), "--mapping", "boston-311")
    assert code == 0 and "0 findings imported" in out and "22,393 imported before" in out
    assert Finding.objects.count() == 22_393


def test_columns_from_options_areas_by_containment(tmp_path: Path) -> None:
    Area.objects.create(code="ALLSTON", name="Allston", level="neighbourhood",
                        geometry=json.dumps({"type": "Polygon", "coordinates": [[
                            [-71.2, 42.33], [-71.1, 42.33], [-71.1, 42.37], [-71.2, 42.37],
                            [-71.2, 42.33]]]}))
    path = tmp_path / "reports.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    code, out, err = run(str(path), *COLUMNS, "--timezone", "America/New_York")
    assert code == 0, err
    assert "4 findings imported" in out and "1 placed in an area" in out
    by_id = {f.external_id: f for f in Finding.objects.select_related("action")}
    assert by_id["a1"].area_code == "ALLSTON" and by_id["a2"].area_code == ""
    assert by_id["a1"].category == "street_light_outages"  # no category map: a slug
    assert by_id["a3"].position_flag == Finding.PositionFlag.PLACED  # no default location
    assert by_id["a4"].position_flag == Finding.PositionFlag.MISSING
    assert by_id["a4"].lat is None and by_id["a4"].cell_lat is None
    assert by_id["a1"].cell_lat == 42353 and not by_id["a1"].is_public
    assert by_id["a2"].action.state == ActionState.FIXED
    assert by_id["a2"].action.closed_at is not None
    assert by_id["a1"].action.state == ActionState.NEW and by_id["a1"].action.closed_at is None
    for f in by_id.values():  # the finding's copies on its action (the figures' indexes)
        assert f.action.area_code == f.area_code
        assert f.action.started_at == (f.observed_at or f.created_at)
    # Written in bulk, read back by the ORM as if it had written them.
    assert by_id["a1"].ratings == {} and by_id["a1"].moderation == "not_needed"
    assert by_id["a1"].created_at is not None and by_id["a1"].idempotency_key is None
    assert by_id["a1"].source == Finding.Source.IMPORT and by_id["a1"].text == "Lampe"
    later = Finding.objects.create(category="lighting")  # the id sequence moved on
    assert later.pk > max(f.pk for f in by_id.values())


def test_a_bad_row_in_the_middle_writes_nothing(tmp_path: Path) -> None:
    lines = [HEADER.strip()] + [
        f"b{i},Graffiti Removal,Open,2015-01-{1 + i % 28:02d} 10:00:00,,42.3,-71.1,x"
        for i in range(3000)]
    lines[1500] = "b1499,Graffiti Removal,Open,2015-01-05 10:00:00,,forty-two,-71.1,x"
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = run(str(path), *COLUMNS)
    assert code == 2
    assert "1 error(s); nothing written" in err
    assert f"{path}, row 1501, column 'lat': 'forty-two' is not a number" in err
    assert Finding.objects.count() == 0 and Action.objects.count() == 0


def test_every_problem_is_named_and_nothing_written(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + ROWS + "a1,,Pending,someday,,42.3,,\n", encoding="utf-8")
    report = import_file(path, columns={"external_id": "id", "category": "type",
                                        "status": "state", "opened": "opened",
                                        "latitude": "lat", "longitude": "lon"})
    assert not report.ok
    found = {(p.row, p.column) for p in report.errors}
    assert found == {(6, "id"), (6, "type"), (6, "state"), (6, "opened"), (6, "lon")}
    assert Finding.objects.count() == 0


def test_a_mapping_naming_a_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "reports.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    code, _, err = run(str(path), "--mapping", "boston-311")
    assert code == 2 and "column 'CASE_ENQUIRY_ID'" in err
    code, _, err = run(str(path), "--column", "category=type")
    assert code == 2 and "the mapping names no column for 'opened'" in err
    mapping = tmp_path / "map.toml"
    mapping.write_text('[columns]\ncategory = "type"\nopened = "opened"\n'
                       '[statuses]\nOpen = "sleeping"\n', encoding="utf-8")
    code, _, err = run(str(path), "--mapping", str(mapping))
    assert code == 2 and "'sleeping'" in err
    assert Finding.objects.count() == 0


def test_dates_outside_any_plausible_year_are_errors_not_crashes(tmp_path: Path) -> None:
    """Year 1 in Copenhagen is year 0 in UTC (no Python datetime, no PostgreSQL timestamp);
    a placeholder such as 9999-12-31 west of UTC is year 10000. Both are cell errors."""
    path = tmp_path / "reports.csv"
    path.write_text(HEADER + "a1,Graffiti,Open,0001-01-01 00:00:00,,,,\n"
                    "a2,Graffiti,Open,2015-01-09 10:00:00,9999-12-31T23:59:59-12:00,,,\n"
                    "a3,Graffiti,Open,2015-01-09 10:00:00,,,,\n", encoding="utf-8")
    code, _out, err = run(str(path), *COLUMNS)
    assert code == 2
    assert "reports.csv, row 2, column 'opened': '0001-01-01 00:00:00' is not a plausible " \
           "date" in err
    assert "row 3, column 'closed'" in err
    assert not Finding.objects.exists() and not Action.objects.exists()


def test_the_sites_row_limit_holds_for_report_files(tmp_path: Path) -> None:
    """The site's TRYG_MAX_ROWS (not the reader's built-in 20 million) bounds the file."""
    path = tmp_path / "reports.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    with override_settings(TRYG_MAX_ROWS=3):
        code, _out, err = run(str(path), *COLUMNS)
    assert code == 2 and "more than the limit of 3 (TRYG_MAX_ROWS)" in err
    assert not Finding.objects.exists()
    with override_settings(TRYG_MAX_ROWS=4):
        assert run(str(path), *COLUMNS)[0] == 0


def test_a_control_character_in_a_text_cell_refuses_the_file(tmp_path: Path) -> None:
    """An ESC or DEL in a free-text cell (id, text, address), as the forms and Open311 refuse
    it, is an error at its row and column, and nothing is written (the good rows neither);
    a NUL is refused with its row by the reader."""
    path = tmp_path / "reports.csv"
    path.write_text(HEADER.replace("what", "what,where") + "".join(
        r.replace("\n", ",\n") for r in ROWS)
        + "a5,Graffiti,Open,2015-01-09 10:00:00,,,,tag \x1b[31mrød,\n"
        + "a\x7f6,Graffiti,Open,2015-01-09 10:00:00,,,,,Vejen\x0b 1\n", encoding="utf-8")
    code, _out, err = run(str(path), *COLUMNS, "--column", "address=where")
    assert code == 2
    assert "3 error(s); nothing written" in err
    assert ("reports.csv, row 6, column 'what': the text holds an invisible control character "
            "(U+001B), which cannot be stored") in err
    assert "row 7, column 'id': the text holds an invisible control character (U+007F)" in err
    assert "row 7, column 'where': the text holds an invisible control character (U+000B)" \
        in err
    assert not Finding.objects.exists() and not Action.objects.exists()
    path.write_text(HEADER + ROWS + "a5,Graffiti,Open,2015-01-09 10:00:00,,,,tag\x00\n",
                    encoding="utf-8")
    code, _out, err = run(str(path), *COLUMNS)
    assert code == 2 and "row 6, column 'what': the file holds a NUL character" in err
    assert not Finding.objects.exists() and not Action.objects.exists()
    path.write_text(HEADER + ROWS + "a5,Graffiti,Open,2015-01-09 10:00:00,,,,tag\t1\n",
                    encoding="utf-8")
    assert run(str(path), *COLUMNS)[0] == 0  # a tab is text
    assert Finding.objects.get(external_id="a5").text == "tag\t1"
