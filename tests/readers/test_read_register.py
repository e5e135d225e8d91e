"""Register data: counts, record-level extracts (with coordinates) and STRAF11 exports."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from tryg import geo
from tryg.index.inputs import InputError, Problem
from tryg.readers import read_register

STRAF11 = "dk_straf11_offences_by_kommune_2007Q1-2019Q3.csv"
SF = "sf_police_incidents_2012H2_4categories.csv"


def write(tmp_path: Path, text: str, name: str = "register.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def only_problem(exc: pytest.ExceptionInfo[InputError]) -> Problem:
    assert len(exc.value.problems) == 1, exc.value.problems
    return exc.value.problems[0]


# --- STRAF11 -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def straf11(shared_data: Path) -> pd.DataFrame:
    register, report = read_register(shared_data / STRAF11)
    assert report.encoding == "latin-1"  # StatBank's ISO-8859-1, recognised from the header
    assert (report.rows_read, report.rows_used, report.warnings) == (9450, 9450, [])
    return register.counts


def test_straf11_is_105_areas_by_90_offences_by_51_quarters(straf11: pd.DataFrame) -> None:
    assert straf11["area_name"].nunique() == 105
    assert straf11["offence"].nunique() == 90
    assert straf11["quarter"].nunique() == 51
    assert len(straf11) == 105 * 90 * 51
    assert straf11["quarter"].min() == "2007Q1" and straf11["quarter"].max() == "2019Q3"
    assert straf11["count"].dtype == np.int64 and (straf11["count"] >= 0).all()
    assert {"Copenhagen", "Høje-Taastrup", "Christiansø", "Unknown municipality",
            "Region Nordjylland"} <= set(straf11["area_name"])


def test_straf11_cells_match_the_csv_text(shared_data: Path, straf11: pd.DataFrame) -> None:
    with (shared_data / STRAF11).open(encoding="iso-8859-1", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    for area, offence, quarter in [("Aalborg", "Penal Code, total", "2015Q1"),
                                   ("Copenhagen", "Crimes of violence, total", "2019Q3"),
                                   ("Ærø", "Penal Code, total", "2007Q1")]:
        line, row = next((i + 1, r) for i, r in enumerate(rows)
                         if r[0] == area and r[1] == offence)
        expected = int(row[header.index(quarter)])
        cell = straf11[(straf11["area_name"] == area) & (straf11["offence"] == offence)
                       & (straf11["quarter"] == quarter)]
        assert cell["count"].tolist() == [expected]
        assert cell.index.tolist() == [line]
    aalborg = straf11[(straf11["area_name"] == "Aalborg")
                      & (straf11["offence"] == "Penal Code, total")
                      & (straf11["quarter"] == "2015Q1")]
    assert aalborg["count"].item() == 2582  # read by eye from the file, line 9273


def test_danish_straf11_variant_with_not_available_cells(tmp_path: Path) -> None:
    text = ("OMRÅDE;OVERTRÆDELSENS ART;2015K1;2015K2\n"
            "Aalborg;Straffelov i alt;2582;2601\n"
            ";Vold i alt;..;120\n")  # blank area repeats the one above
    path = write(tmp_path, text, encoding="latin-1")
    register, report = read_register(path)
    counts = register.counts
    assert counts.columns.tolist() == ["area_name", "quarter", "offence", "count"]
    assert counts["quarter"].tolist() == ["2015Q1", "2015Q2", "2015Q2"]
    assert counts["area_name"].tolist() == ["Aalborg"] * 3
    assert counts["count"].tolist() == [2582, 2601, 120]
    assert "1 cells are empty or '..'" in report.warnings[0].message


def test_straf11_negative_count_names_row_and_quarter_column(tmp_path: Path) -> None:
    text = ("REGION,TYPE OF OFFENCE,2015Q1,2015Q2\n"
            "Aalborg,\"Penal Code, total\",2582,-3\n")
    path = write(tmp_path, text)
    with pytest.raises(InputError) as exc:
        read_register(path)
    problem = only_problem(exc)
    assert (problem.source, problem.row, problem.column) == (str(path), 2, "2015Q2")
    assert "must not be negative" in problem.message


# --- counts --------------------------------------------------------------------------------


def test_counts_with_quarter_labels_or_year_and_quarter(tmp_path: Path) -> None:
    text = "area_code,quarter,offence,count\n0851,2015Q3,vold,4\n0851,2015-K4,vold,0\n"
    counts = read_register(write(tmp_path, text))[0].counts
    assert counts["quarter"].tolist() == ["2015Q3", "2015Q4"]
    assert counts["count"].tolist() == [4, 0]
    assert counts.index.tolist() == [2, 3]
    text = "area_code,year,quarter,offence,count\n0851,2015,3,vold,4\n0851,2015,Q4,vold,1\n"
    counts = read_register(write(tmp_path, text))[0].counts
    assert counts["quarter"].tolist() == ["2015Q3", "2015Q4"]


def test_negative_count_names_file_row_column(tmp_path: Path) -> None:
    path = write(tmp_path, "area_code,quarter,offence,count\n0851,2015Q3,vold,-2\n")
    with pytest.raises(InputError) as exc:
        read_register(path)
    problem = only_problem(exc)
    assert (problem.source, problem.row, problem.column) == (str(path), 2, "count")
    assert "negative" in problem.message


def test_bad_quarter_label_names_file_row_column(tmp_path: Path) -> None:
    path = write(tmp_path, "area_code,quarter,offence,count\n0851,2015Q3,vold,1\n"
                           "0851,2015Q5,vold,2\n")
    with pytest.raises(InputError) as exc:
        read_register(path)
    problem = only_problem(exc)
    assert (problem.source, problem.row, problem.column) == (str(path), 3, "quarter")
    assert "'2015Q5' is not a quarter" in problem.message


def test_fractional_and_duplicated_counts(tmp_path: Path) -> None:
    path = write(tmp_path, "area_code,quarter,offence,count\n0851,2015Q3,vold,1.5\n"
                           "0851,2015Q3,tyveri,2\n0851,2015Q3,tyveri,3\n")
    with pytest.raises(InputError) as exc:
        read_register(path)
    found = {(p.row, p.column) for p in exc.value.problems}
    assert found == {(2, "count"), (4, "count")}
    assert "rows 3 and 4" in str(exc.value)


def test_unknown_layout_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b\n1,2\n")
    with pytest.raises(InputError, match="cannot tell the register format"):
        read_register(path)
    for fmt in ("counts", "records", "straf11"):
        with pytest.raises(InputError) as exc:
            read_register(path, format=fmt)
        assert all(p.row == 1 for p in exc.value.problems)


# --- record-level extracts -------------------------------------------------------------------


def test_records_with_area_codes_are_counted_per_quarter(tmp_path: Path) -> None:
    text = ("date,offence,area_code\n2015-07-01,vold,0851\n30.09.2015,vold,0851\n"
            "2015-10-01T12:00,vold,0851\n2015-10-02,tyveri,0101\n")
    register, report = read_register(write(tmp_path, text))
    counts = register.counts
    assert counts.reset_index().to_dict("records") == [
        {"line": 5, "area_code": "0101", "quarter": "2015Q4", "offence": "tyveri", "count": 1},
        {"line": 2, "area_code": "0851", "quarter": "2015Q3", "offence": "vold", "count": 2},
        {"line": 4, "area_code": "0851", "quarter": "2015Q4", "offence": "vold", "count": 1},
    ]
    assert (report.rows_read, report.rows_used) == (4, 4)


def test_records_bad_date(tmp_path: Path) -> None:
    path = write(tmp_path, "date,offence,area_code\n2015-02-30,vold,0851\n")
    with pytest.raises(InputError) as exc:
        read_register(path)
    assert (only_problem(exc).row, only_problem(exc).column) == (2, "date")


def boxes(x0: float, y0: float, x1: float, y1: float) -> geo.AreaGeometry:
    """A 2×2 grid of boxes over the extent: SW, SE, NW, NE."""
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    parts = [shapely.box(x0, y0, xm, ym), shapely.box(xm, y0, x1, ym),
             shapely.box(x0, ym, xm, y1), shapely.box(xm, ym, x1, y1)]
    return geo.AreaGeometry(("SW", "SE", "NW", "NE"), np.array(parts, dtype=object))


def test_utm32_records_are_reprojected_and_outside_reported(tmp_path: Path) -> None:
    layer = boxes(9.8, 56.9, 10.0, 57.1)  # around Aalborg
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)
    points = [(9.85, 56.95), (9.95, 57.05), (9.95, 57.05), (12.5, 55.7)]  # last: Copenhagen
    lines = ["date,offence,easting,northing"]
    for lon, lat in points:
        e, n = to_utm.transform(lon, lat)
        lines.append(f"2020-01-15,vold,{e:.2f},{n:.2f}")
    lines.append("2020-01-16,vold,,")
    register, report = read_register(write(tmp_path, "\n".join(lines) + "\n"),
                                     areas_geometry=layer)
    counts = register.counts.set_index("area_code")["count"].to_dict()
    assert counts == {"SW": 1, "NE": 2}
    assert (report.outside_areas, report.without_location) == (1, 1)
    assert report.unplaced_rows == (5, 6)
    assert (report.rows_read, report.rows_used) == (5, 3)
    assert any(w.row == 5 and "outside every area" in w.message for w in report.warnings)


def test_coordinates_need_geometry_and_xy_needs_a_crs(tmp_path: Path) -> None:
    path = write(tmp_path, "date,offence,lon,lat\n2020-01-15,vold,9.9,57.0\n")
    with pytest.raises(InputError, match="pass areas_geometry"):
        read_register(path)
    path = write(tmp_path, "date,offence,x,y\n2020-01-15,vold,550000,6320000\n")
    with pytest.raises(InputError, match="need crs="):
        read_register(path, areas_geometry=boxes(9.8, 56.9, 10.0, 57.1))
    register, _ = read_register(path, areas_geometry=boxes(9.8, 56.9, 10.0, 57.1),
                                crs="EPSG:25832")
    assert register.counts["count"].sum() == 1


def test_sf_incidents_on_a_synthetic_grid(shared_data: Path) -> None:
    """The SF extract as a record-level file with lon/lat: every row is either counted in a
    box or reported, and the per-box counts match an independent count of the raw file."""
    path = shared_data / SF
    raw = pd.read_csv(path, dtype=str)
    lon, lat = raw["longitude"].astype(float), raw["latitude"].astype(float)
    # A grid over the dense middle of the city, so that some incidents fall outside.
    x0, y0, x1, y1 = -122.47, 37.72, -122.39, 37.80
    layer = boxes(x0, y0, x1, y1)
    register, report = read_register(path, columns={"category": "offence"},
                                     areas_geometry=layer)
    counts = register.counts
    inside = ((lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)).to_numpy()
    assert len(raw) == 13472 == report.rows_read
    assert counts["count"].sum() == int(inside.sum()) == report.rows_used
    assert report.outside_areas == len(raw) - int(inside.sum()) > 0
    assert report.without_location == 0
    assert len(report.unplaced_rows) == report.outside_areas
    assert set(counts["offence"]) == {"DRUG/NARCOTIC", "VANDALISM", "VEHICLE THEFT", "ROBBERY"}
    assert set(counts["quarter"]) == {"2012Q3", "2012Q4"}
    # Independent count for one box and category (strictly inside, away from the edges).
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    ne_drugs = ((lon > xm) & (lon <= x1) & (lat > ym) & (lat <= y1)
                & (raw["category"] == "DRUG/NARCOTIC")).sum()
    got = counts[(counts["area_code"] == "NE") & (counts["offence"] == "DRUG/NARCOTIC")]
    assert got["count"].sum() == ne_drugs
    summary = next(w for w in report.warnings if w.row is None)
    assert f"{report.outside_areas} records lie outside every area" in summary.message
