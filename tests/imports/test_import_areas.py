"""Importing areas: DAGI's real layers, parents by containment, replacement, GPKG in UTM."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyogrio import raw

from tryg import geo
from tryg.areas.models import Area, AreaLink
from tryg.imports.areas import import_areas
from tryg.imports.models import ImportBatch
from tryg.index.hierarchy import build_hierarchy
from tryg.readers import read_area_geometry, read_areas

pytestmark = pytest.mark.django_db

AALBORG_POSTAL = {"9000", "9200", "9210", "9220", "9400"}


def children_of(code: str, level: str) -> set[str]:
    return set(AreaLink.objects.filter(parent__code=code, area__level=level)
               .values_list("area__code", flat=True))


def problems(report: Any) -> list[tuple[int | None, str | None, str]]:
    return [(p.row, p.column, p.message) for p in report.errors]


@pytest.fixture
def kommuner(shared_data: Path) -> Path:
    path = shared_data / "dk_kommuner_dagi2014.geojson"
    report = import_areas(path)
    assert report.ok and report.created["areas"] == 99
    return path


def test_dagi_layers_with_parents_by_containment(kommuner: Path, shared_data: Path) -> None:
    assert Area.objects.filter(level="kommune").count() == 99
    aalborg = Area.objects.get(code="0851")
    assert aalborg.name == "Aalborg"
    boundary = shapely.from_geojson(aalborg.geometry)
    assert boundary.contains(shapely.Point(9.92, 57.05))  # Aalborg centre, lon/lat

    sogne = import_areas(shared_data / "dk_sogne_dagi2014.topojson")
    assert sogne.ok, sogne.lines()
    assert sogne.created == {"areas": 2148, "parent links": 2148}
    assert len(children_of("0851", "sogn")) == 57

    # parish and postal codes overlap: the postal layer needs a prefix, and says so
    clash = import_areas(shared_data / "dk_postnumre_dagi2014.geojson")
    assert not clash.ok
    assert all(column == "code" and "already used by the sogn" in message and row
               for row, column, message in problems(clash))
    assert Area.objects.filter(level="postnummer").count() == 0

    post = import_areas(shared_data / "dk_postnumre_dagi2014.geojson", code_prefix="post-")
    assert post.ok, post.lines()
    in_aalborg = {c.removeprefix("post-") for c in children_of("0851", "postnummer")}
    assert len(in_aalborg) == 18 and in_aalborg >= AALBORG_POSTAL
    assert Area.objects.count() == 99 + 2148 + post.created["areas"]


def test_the_same_file_again_is_recognised(kommuner: Path) -> None:
    first = ImportBatch.objects.get()
    again = import_areas(kommuner, replace=True)
    assert again.ok and again.duplicate and again.batch_id == first.pk
    assert ImportBatch.objects.count() == 1 and Area.objects.count() == 99


def test_stored_codes_need_replace(kommuner: Path, tmp_path: Path) -> None:
    path = tmp_path / "renamed.csv"
    path.write_text("code,name,level\n0851,Aalborg Kommune,kommune\n0101,København,kommune\n",
                    encoding="utf-8")
    refused = import_areas(path)
    assert not refused.ok
    assert [(r, c) for r, c, _ in problems(refused)] == [(2, "code"), (3, "code")]
    assert "import with replace" in refused.errors[0].message
    assert Area.objects.get(code="0851").name == "Aalborg"

    before = Area.objects.get(code="0851").geometry
    done = import_areas(path, replace=True)
    assert done.ok and done.created["areas updated"] == 2
    aalborg = Area.objects.get(code="0851")
    assert aalborg.name == "Aalborg Kommune" and aalborg.import_batch_id == done.batch_id
    assert aalborg.geometry == before  # a CSV has no boundary: the stored one is kept
    assert ImportBatch.objects.get(file_name=kommuner.name).replaced_at is None  # 97 left


def test_replacing_every_area_retires_the_old_import(kommuner: Path, tmp_path: Path) -> None:
    first = ImportBatch.objects.get()
    copy = tmp_path / kommuner.name
    copy.write_bytes(kommuner.read_bytes() + b"\n")  # same areas, other bytes: no duplicate
    refused = import_areas(copy)
    assert not refused.ok and len(refused.errors) == 99
    report = import_areas(copy, replace=True)
    assert report.ok and report.created["areas updated"] == 99
    assert report.created["parent links"] == 0 and "areas" in report.created
    first.refresh_from_db()
    assert first.replaced_at is not None
    assert set(Area.objects.values_list("import_batch_id", flat=True)) == {report.batch_id}
    back = import_areas(kommuner, replace=True)  # the retired file may come back
    assert back.ok and not back.duplicate and back.created["areas updated"] == 99


def test_a_csv_hierarchy_with_parents(kommuner: Path, tmp_path: Path) -> None:
    path = tmp_path / "districts.csv"
    path.write_text("code,name,level,parent,valid_from,valid_to\n"
                    "D1,Øst,district,0851,2015,\nD2,Vest,district,0851,,\n"
                    "H1,Løvvangen,housing,D1,2018,2022\n", encoding="utf-8")
    report = import_areas(path)
    assert report.ok and report.created == {"areas": 3, "parent links": 3}
    link = AreaLink.objects.get(area__code="H1")
    assert (link.parent.code, link.valid_from, link.valid_to) == ("D1", 2018, 2022)
    assert children_of("0851", "district") == {"D1", "D2"}

    bad = tmp_path / "orphans.csv"
    bad.write_text("code,name,level,parent\nD3,Nord,district,9999\n", encoding="utf-8")
    report = import_areas(bad)
    assert not report.ok and problems(report)[0][:2] == (2, "parent")
    assert "neither in the file nor stored" in report.errors[0].message
    assert not Area.objects.filter(code="D3").exists()


def test_without_coarser_areas_there_are_no_parents(shared_data: Path) -> None:
    report = import_areas(shared_data / "dk_sogne_dagi2014.topojson")
    assert report.ok and report.created["parent links"] == 0
    assert any("no parents" in w.message for w in report.warnings)


def test_a_geopackage_in_utm32_is_stored_in_wgs84(kommuner: Path, shared_data: Path,
                                                   tmp_path: Path) -> None:
    document = json.loads((shared_data / "dk_sogne_dagi2014.topojson").read_text("utf-8"))
    features = geo.features_from_topojson(document)
    _, wgs84, _ = read_area_geometry(shared_data / "dk_sogne_dagi2014.topojson")
    codes = sorted(children_of_by_geometry(wgs84, kommuner))
    chosen = [f for f in features if str(f.properties["SOGNEKODE"]) in codes]

    def utm(geometry: Any) -> Any:
        return shapely.transform(geometry, lambda c: np.column_stack(
            geo.reproject(c[:, 0], c[:, 1], geo.WGS84, geo.UTM32)))

    path = tmp_path / "aalborg_sogne.gpkg"
    raw.write(str(path), np.array([shapely.to_wkb(utm(f.geometry)) for f in chosen],
                                  dtype=object),
              [np.array([f.properties["SOGNEKODE"] for f in chosen], dtype=object),
               np.array([f.properties["SOGNENAVN"] for f in chosen], dtype=object)],
              ["SOGNEKODE", "SOGNENAVN"], geometry_type="MultiPolygon", crs="EPSG:25832",
              driver="GPKG", promote_to_multi=True)
    report = import_areas(path)
    assert report.ok, report.lines()
    assert report.created == {"areas": 57, "parent links": 57}
    assert children_of("0851", "sogn") == set(codes)
    for code in codes[:5]:
        stored = shapely.from_geojson(Area.objects.get(code=code).geometry)
        assert shapely.hausdorff_distance(stored, wgs84.geometry(code)) < 1e-7


def children_of_by_geometry(sogne: geo.AreaGeometry, kommuner: Path) -> list[str]:
    _, layer, _ = read_area_geometry(kommuner)
    return [c for c, k in geo.contained_in(sogne, layer).items() if k == "0851"]


def area_tables() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], int]:
    return (sorted(Area.objects.values_list("code", "name", "level", "import_batch_id")),
            sorted(AreaLink.objects.values_list("area__code", "parent__code")),
            ImportBatch.objects.count())


def test_a_parent_cycle_is_refused_at_its_row(tmp_path: Path) -> None:
    """A cycle in the file, and one closed through the stored links: refused at the row of
    the cycle's first link, nothing written; the index names a cycle the same way."""
    path = tmp_path / "cycle.csv"
    path.write_text("code,name,level,parent\nK,Kommune,kommune,\nA,Nord,bydel,K\n"
                    "B,Syd,bydel,C\nC,Vest,bydel,D\nD,Øst,bydel,B\n", encoding="utf-8")
    report = import_areas(path)
    assert not report.ok and "nothing written" in report.lines()[0]
    message = "area 'B' is its own ancestor: B → C → D → B (the parents form a cycle)"
    assert problems(report) == [(4, "parent", message)]
    assert area_tables() == ([], [], 0)
    areas, _ = read_areas(path)
    _, found = build_hierarchy(areas)
    assert [(p.row, p.column, p.message) for p in found] == [(4, "parent", message)]

    good = tmp_path / "good.csv"
    good.write_text("code,name,level,parent\nK,Kommune,kommune,\nS1,Sogn,sogn,K\n",
                    encoding="utf-8")
    assert import_areas(good).ok
    before = area_tables()
    through = tmp_path / "through.csv"
    through.write_text("code,name,level,parent\nK,Kommune,kommune,S1\n", encoding="utf-8")
    report = import_areas(through, replace=True)
    assert problems(report) == [
        (2, "parent", "area 'K' is its own ancestor: K → S1 → K (the parents form a cycle)")]
    assert area_tables() == before


def test_a_boundary_file_naming_an_area_its_own_parent_is_refused(tmp_path: Path) -> None:
    features = [{"type": "Feature", "properties": {"code": c, "name": c, "parent": p},
                 "geometry": json.loads(shapely.to_geojson(shapely.box(x, 0, x + 1, 1)))}
                for c, p, x in (("A", "B", 0), ("B", "B", 1))]
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}),
                    encoding="utf-8")
    report = import_areas(path, level="bydel", parent="parent")
    assert problems(report) == [(2, "parent", "area 'B' cannot be its own parent")]
    assert area_tables() == ([], [], 0)
