"""Importing register data: counts, STRAF11, records with codes or coordinates; one transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import shapely
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

import tryg.imports.register as register_import
from tryg.areas.models import Area, AreaLink
from tryg.imports.models import ImportBatch
from tryg.imports.register import import_register
from tryg.police_register.models import RegisterCount, RegisterRecord
from tryg.readers import read_area_geometry

STRAF11 = "dk_straf11_offences_by_kommune_2007Q1-2019Q3.csv"
KOMMUNER = "dk_kommuner_dagi2014.geojson"


def write(tmp_path: Path, text: str, name: str = "register.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def table_state() -> tuple[int, int, int, list[tuple[int, str]]]:
    return (RegisterRecord.objects.count(), RegisterCount.objects.count(),
            ImportBatch.objects.count(),
            sorted(RegisterCount.objects.values_list("count", "offence")))


@pytest.fixture
def boxes() -> dict[str, Area]:
    """A kommune with four neighbourhood squares (SW, SE, NW, NE) over 9.8–10.0 E, 56.9–57.1 N;
    the kommune is their parent, so the neighbourhoods are the finest level."""
    kommune = Area.objects.create(code="0851", name="Aalborg", level="kommune",
                                  geometry=shapely.to_geojson(shapely.box(9.8, 56.9, 10.0, 57.1)))
    squares = {"SW": (9.8, 56.9), "SE": (9.9, 56.9), "NW": (9.8, 57.0), "NE": (9.9, 57.0)}
    out = {}
    for code, (x, y) in squares.items():
        area = Area.objects.create(code=code, name=code, level="nabolag",
                                   geometry=shapely.to_geojson(shapely.box(x, y, x + 0.1,
                                                                           y + 0.1)))
        AreaLink.objects.create(area=area, parent=kommune)
        out[code] = area
    return out


RECORDS = ("date,offence,lon,lat\n"
           "2020-01-15,vold,9.85,56.95\n"       # SW
           "2020-02-01,vold,9.95,57.05\n"       # NE
           "2020-04-01,vold,9.95,57.05\n"       # NE, next quarter
           "2020-03-31,tyveri,9.95,57.05\n"     # NE
           "2020-01-20,vold,12.5,55.7\n"        # Copenhagen: outside every area
           "2020-01-21,vold,,\n")               # no location


@pytest.mark.django_db
def test_records_with_coordinates_are_placed_and_counted(tmp_path: Path,
                                                         boxes: dict[str, Area]) -> None:
    report = import_register(write(tmp_path, RECORDS))
    assert report.ok, report.errors
    assert report.created == {"records": 6, "counts": 4}
    assert report.rows_read == 6
    records = RegisterRecord.objects.filter(import_batch_id=report.batch_id).order_by("line")
    assert [(r.line, r.area.code if r.area else None) for r in records] == [
        (2, "SW"), (3, "NE"), (4, "NE"), (5, "NE"), (6, None), (7, None)]
    outside = records.get(line=6)
    assert (outside.lon, outside.lat, str(outside.date)) == (12.5, 55.7, "2020-01-20")
    assert records.get(line=7).lon is None
    counts = {(c.area.code, c.quarter, c.offence): (c.count, c.line)
              for c in RegisterCount.objects.filter(import_batch_id=report.batch_id)}
    assert counts == {("SW", "2020Q1", "vold"): (1, 2), ("NE", "2020Q1", "vold"): (1, 3),
                      ("NE", "2020Q2", "vold"): (1, 4), ("NE", "2020Q1", "tyveri"): (1, 5)}
    warnings = [str(w) for w in report.warnings]
    assert any("1 records lie outside every area" in w and "first rows: 6" in w
               for w in warnings)
    assert any("row 6" in w and "lies outside every area" in w for w in warnings)
    assert any("1 records have no coordinates" in w for w in warnings)
    assert report.batch_id is not None
    batch = ImportBatch.objects.get(pk=report.batch_id)
    assert batch.kind == "register" and batch.options["level"] == "nabolag"
    assert batch.report["created"] == {"records": 6, "counts": 4}


@pytest.mark.django_db
def test_records_placed_by_the_child_process_agree(tmp_path: Path, boxes: dict[str, Area],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 2 records: more than two chunks go to the placement process."""
    monkeypatch.setattr(register_import, "PLACE_CHUNK", 2)
    report = import_register(write(tmp_path, RECORDS))
    assert report.ok and report.created == {"records": 6, "counts": 4}
    placed = dict(RegisterRecord.objects.filter(import_batch_id=report.batch_id)
                  .values_list("line", "area__code"))
    assert placed == {2: "SW", 3: "NE", 4: "NE", 5: "NE", 6: None, 7: None}


@pytest.mark.django_db
def test_records_with_area_codes(tmp_path: Path, boxes: dict[str, Area]) -> None:
    text = "date,offence,area_code\n2015-07-01,vold,SW\n30.09.2015,vold,SW\n2015-10-02,vold,NE\n"
    report = import_register(write(tmp_path, text))
    assert report.ok and report.created == {"records": 3, "counts": 2}
    counts = dict(RegisterCount.objects.values_list("quarter", "count"))
    assert counts == {"2015Q3": 2, "2015Q4": 1}
    assert list(RegisterRecord.objects.order_by("line").values_list("date", flat=True)
                .distinct()) != []


@pytest.mark.django_db
def test_counts_file_and_unknown_area_code(tmp_path: Path, boxes: dict[str, Area]) -> None:
    text = "area_code,quarter,offence,count\nSW,2015Q3,vold,4\nNE,2015-K4,vold,0\n"
    report = import_register(write(tmp_path, text))
    assert report.ok and report.created == {"counts": 2}
    assert sorted(RegisterCount.objects.values_list("area__code", "quarter", "count")) == [
        ("NE", "2015Q4", 0), ("SW", "2015Q3", 4)]
    before = table_state()
    bad = write(tmp_path, "area_code,quarter,offence,count\nSW,2016Q1,vold,1\n0999,2016Q1,vold,2\n"
                          "0999,2016Q2,vold,2\n", "other.csv")
    report = import_register(bad)
    assert not report.ok
    [problem] = report.errors
    assert (problem.source, problem.row, problem.column) == (str(bad), 3, "area_code")
    assert "'0999' is not a stored area code (2 row(s))" in problem.message
    assert table_state() == before


@pytest.mark.django_db
def test_error_at_the_last_row_leaves_the_tables_as_before(tmp_path: Path,
                                                           boxes: dict[str, Area]) -> None:
    assert import_register(write(tmp_path, RECORDS)).ok
    before = table_state()
    lines = RECORDS.splitlines()
    bad = write(tmp_path, "\n".join([*lines, "2020-02-30,vold,9.85,56.95"]) + "\n", "bad.csv")
    report = import_register(bad)
    assert not report.ok and report.batch_id is None
    [problem] = report.errors
    assert (problem.row, problem.column) == (len(lines) + 1, "date")
    assert "not a valid date" in problem.message
    assert "1 error(s); nothing written" in report.lines()[0]
    assert table_state() == before


@pytest.mark.django_db
def test_same_file_again_is_a_duplicate_and_replace_replaces(tmp_path: Path,
                                                              boxes: dict[str, Area]) -> None:
    path = write(tmp_path, RECORDS)
    first = import_register(path)
    again = import_register(path)
    assert again.duplicate and again.ok and again.batch_id == first.batch_id
    assert "already imported" in again.lines()[0]
    assert (RegisterRecord.objects.count(), RegisterCount.objects.count()) == (6, 4)
    assert ImportBatch.objects.filter(kind="register").count() == 1
    replaced = import_register(path, replace=True)
    assert replaced.ok and not replaced.duplicate and replaced.batch_id != first.batch_id
    assert first.batch_id is not None
    assert replaced.replaced == {first.batch_id: 6 + 4}  # its records and counts
    assert f"  replaced 10 row(s) of import #{first.batch_id}" in replaced.lines()
    old = ImportBatch.objects.get(pk=first.batch_id)
    assert old.replaced_at is not None
    assert not RegisterRecord.objects.filter(import_batch=old).exists()
    assert not RegisterCount.objects.filter(import_batch=old).exists()
    assert (RegisterRecord.objects.count(), RegisterCount.objects.count()) == (6, 4)
    assert RegisterCount.objects.aggregate(n=Sum("count"))["n"] == 4


@pytest.mark.django_db
def test_coordinates_without_stored_boundaries_is_an_error(tmp_path: Path) -> None:
    report = import_register(write(tmp_path, RECORDS))
    assert not report.ok
    assert "no area with a boundary is stored" in str(report.errors[0])
    assert ImportBatch.objects.count() == 0


@pytest.mark.django_db
def test_straf11_for_all_98_kommuner(shared_data: Path) -> None:
    areas, layer, _ = read_area_geometry(shared_data / KOMMUNER)
    rows = areas.areas
    Area.objects.bulk_create([
        Area(code=str(c), name=str(n), level=str(lv),
             geometry=shapely.to_geojson(layer.geometry(str(c))))
        for c, n, lv in zip(rows["code"], rows["name"], rows["level"], strict=True)])
    # DAGI 2014 has the 98 kommuner plus Christiansø (0411), which STRAF11 reports too.
    assert Area.objects.filter(level="kommune").count() == 99
    report = import_register(shared_data / STRAF11)
    assert report.ok, report.errors[:5]
    assert report.created == {"counts": 99 * 90 * 51}
    assert report.rows_read == 9450
    aalborg = RegisterCount.objects.get(area__name="Aalborg", offence="Penal Code, total",
                                        quarter="2015Q1")
    assert aalborg.count == 2582 and aalborg.line == 9273
    assert RegisterCount.objects.filter(area__code="0101").exists()  # "Copenhagen"
    assert RegisterCount.objects.values("area").distinct().count() == 99
    assert RegisterCount.objects.filter(area__code="0411").exists()
    left_out = [str(w) for w in report.warnings if "aggregate or unplaced" in w.message]
    assert any("Region Nordjylland" in w for w in left_out)
    assert any("Unknown municipality" in w for w in left_out)
    assert len(left_out) == 105 - 99  # five regions and "Unknown municipality"


@pytest.mark.django_db
def test_replace_takes_over_part_of_a_records_import(tmp_path: Path,
                                                    boxes: dict[str, Area]) -> None:
    """Counts over one area × quarter × offence of a records import: refused, then with
    replace that count and its record go; the rest of the earlier import stays current."""
    first = import_register(write(tmp_path, RECORDS))
    assert first.ok and first.batch_id is not None
    old = ImportBatch.objects.get(pk=first.batch_id)
    assert old.record_count == 6
    text = "area_code,quarter,offence,count\nSW,2021Q1,vold,2\nNE,2020Q1,vold,5\n"
    path = write(tmp_path, text, "counts.csv")
    before = table_state()
    refused = import_register(path)
    assert not refused.ok
    [problem] = refused.errors
    assert (problem.source, problem.row, problem.column) == (str(path), 3, "count")
    assert problem.message.startswith(f"area 'NE', 2020Q1, offence 'vold' is already stored "
                                      f"(import #{old.pk}, register.csv)")
    assert table_state() == before

    report = import_register(path, replace=True)
    assert report.ok and report.replaced == {old.pk: 2}  # one count, one record
    old.refresh_from_db()
    assert old.replaced_at is None and old.record_count == 5
    assert not RegisterRecord.objects.filter(import_batch=old, line=3).exists()
    counts = {(c.area.code, c.quarter, c.offence): (c.count, c.import_batch_id)
              for c in RegisterCount.objects.all()}
    assert counts == {("SW", "2020Q1", "vold"): (1, old.pk),
                      ("NE", "2020Q1", "vold"): (5, report.batch_id),
                      ("NE", "2020Q2", "vold"): (1, old.pk),
                      ("NE", "2020Q1", "tyveri"): (1, old.pk),
                      ("SW", "2021Q1", "vold"): (2, report.batch_id)}


@pytest.mark.django_db
def test_records_over_stored_counts_name_the_first_record(tmp_path: Path,
                                                           boxes: dict[str, Area]) -> None:
    assert import_register(write(tmp_path, "area_code,quarter,offence,count\n"
                                           "NE,2020Q2,vold,9\n", "counts.csv")).ok
    before = table_state()
    report = import_register(write(tmp_path, RECORDS))
    assert not report.ok
    [problem] = report.errors
    assert (problem.row, problem.column) == (4, "offence")
    assert "area 'NE', 2020Q2, offence 'vold' is already stored" in problem.message
    assert table_state() == before


@pytest.mark.django_db
def test_many_overlaps_are_summed_up(tmp_path: Path, boxes: dict[str, Area]) -> None:
    text = "area_code,quarter,offence,count\n" + "".join(
        f"{a},{y}Q{q},vold,1\n" for a in ("SW", "NE") for y in range(2001, 2011)
        for q in range(1, 5))
    assert import_register(write(tmp_path, text)).ok
    report = import_register(write(tmp_path, text.replace(",1\n", ",2\n"), "again.csv"))
    assert not report.ok
    assert len(report.errors) == register_import.OVERLAPS_NAMED + 1
    assert "… and 60 more area × quarter × offence already stored (80 in all" in \
        report.errors[-1].message


@pytest.mark.django_db
def test_the_imports_page_does_not_count_records(tmp_path: Path, boxes: dict[str, Area],
                                                 admin_client: Client,
                                                 django_assert_max_num_queries: Any) -> None:
    """The records are counted when written; the page reads the stored number, in the same
    few queries whatever the number of imports."""
    assert import_register(write(tmp_path, RECORDS)).ok
    with django_assert_max_num_queries(8) as queries:
        page = admin_client.get(reverse("analyse:imports"))
    assert "(6 records)" in page.content.decode()
    assert not [q for q in queries.captured_queries
                if RegisterRecord._meta.db_table in q["sql"]]
    for n in range(5):
        text = f"area_code,quarter,offence,count\nSW,{2001 + n}Q1,vold,1\n"
        assert import_register(write(tmp_path, text, f"c{n}.csv")).ok
    with django_assert_max_num_queries(8):
        page = admin_client.get(reverse("analyse:imports"))
    assert page.status_code == 200 and page.content.decode().count("c3.csv") == 1
