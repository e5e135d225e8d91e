"""Import areas: a CSV hierarchy or a boundary file (GeoJSON, TopoJSON, GeoPackage, Shapefile).

The reader (:func:`tryg.readers.read_area_geometry`) detects the file's CRS, reprojects to
WGS84 and dissolves the parts of each area; this module checks the areas against the database
and writes them, with their boundaries as GeoJSON text. Parents come from the file's parent
column, or, when it has none, by containment: each area gets the stored area of the coarser
level holding the largest share of it (:func:`tryg.geo.contained_in`), e.g. Aalborg's 57
parishes get kommune 0851.

An area already stored under the same code is an error unless ``replace=True``; then its name,
level and boundary are updated and its parent links replaced. Codes are unique across levels
(the core identifies areas by code alone), and DAGI's parish and postal codes overlap (both are
four digits), so a code stored at another level is always an error: import one of the layers
with a ``code_prefix`` (e.g. ``"post-"``). A parent must be an area of the file or stored, and
the parents may not form a cycle, within the file or with the stored links (an error at the
row of the cycle's first link: a cycle would stop every later index run).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import shapely

from tryg import geo
from tryg.areas.models import Area, AreaLink
from tryg.areas.services import areas_by_code, parent_level_for, stored_layer
from tryg.imports.base import (
    CHUNK,
    ImportReport,
    Outcome,
    Progress,
    insert_rows,
    read_limits,
    retire_emptied,
    run_import,
)
from tryg.imports.models import ImportBatch
from tryg.index.hierarchy import parent_cycles
from tryg.index.inputs import Areas, Problem
from tryg.index.inputs import mark as _
from tryg.readers import ReadReport, read_area_geometry, read_areas
from tryg.readers.areas import GEO_SUFFIXES
from tryg.readers.report import Collector

KIND = ImportBatch.Kind.AREAS
_LIMITS = {"code": 40, "name": 200, "level": 40}

AreaData = tuple[Areas, geo.AreaGeometry | None]


def import_areas(
    path: str | Path,
    *,
    user: Any = None,
    level: str | None = None,
    code: str | None = None,
    name: str | None = None,
    parent: str | None = None,
    parent_level: str | None = None,
    replace: bool = False,
    layer: str | None = None,
    crs: str | None = None,
    missing_codes: Mapping[str, str] | None = None,
    code_prefix: str = "",
    progress: Progress | None = None,
) -> ImportReport:
    """Import the areas of one file.

    ``level``, ``code``, ``name`` and ``parent`` are as for :func:`tryg.readers.read_areas`;
    ``parent_level`` is the stored level to search for parents by containment (default: the
    nearest coarser DAGI level with stored boundaries, e.g. kommune for parishes); ``layer``
    picks a TopoJSON object or GeoPackage layer; ``crs`` overrides the file's CRS;
    ``code_prefix`` is put before every code of the file (and before parent codes that refer
    to areas in the same file).
    """
    options = {k: v for k, v in {"level": level, "code": code, "name": name, "parent": parent,
                                 "parent_level": parent_level, "replace": replace,
                                 "layer": layer, "crs": crs, "code_prefix": code_prefix,
                                 "missing_codes": dict(missing_codes or {})}.items() if v}

    def read() -> tuple[AreaData, ReadReport]:
        if Path(path).suffix.lower() in GEO_SUFFIXES:
            areas, shapes, report = read_area_geometry(
                path, code=code, name=name, level=level, parent=parent, object_name=layer,
                missing_codes=missing_codes, crs=crs, limits=read_limits())
            return _prefixed(areas, shapes, code_prefix), report
        areas, report = read_areas(path, code=code, name=name, level=level, parent=parent,
                                   limits=read_limits())
        return _prefixed(areas, None, code_prefix), report

    def write(record: ImportBatch, data: AreaData) -> Outcome:
        return _write(record, data, replace=replace, parent_level=parent_level,
                      progress=progress)

    return run_import(KIND, path, read=read, write=write, user=user, options=options)


def _write(record: ImportBatch, data: AreaData, *, replace: bool, parent_level: str | None,
           progress: Progress | None) -> Outcome:
    areas, shapes = data
    frame = areas.areas
    out = Collector(str(frame.attrs.get("source", "")))
    rows = {str(c): int(r) for c, r in zip(frame["code"], frame.index, strict=True)}
    for column, limit in _LIMITS.items():
        for r, value in zip(frame.index, frame[column], strict=True):
            if len(str(value)) > limit:
                out.error(int(r), column, _("%(value)s… is longer than %(limit)s characters"),
                          value=repr(str(value)[:60]), limit=limit)
    stored = areas_by_code(rows)
    levels = {str(c): str(lv) for c, lv in zip(frame["code"], frame["level"], strict=True)}
    for c, area in sorted(stored.items(), key=lambda item: rows[item[0]]):
        if area.level != levels[c]:
            out.error(rows[c], "code",
                      _("code %(code)s is already used by the %(level)s %(name)s (import "
                        "#%(batch)s); codes are unique across levels: import this file with a "
                        "code prefix (e.g. 'post-')"), code=repr(c), level=area.level,
                      name=repr(area.name), batch=area.import_batch_id)
        elif not replace:
            out.error(rows[c], "code",
                      _("area %(code)s (%(name)s) is already stored (import #%(batch)s); "
                        "import with replace to update its name and boundary"),
                      code=repr(c), name=area.name, batch=area.import_batch_id)
    links = areas.links
    parents_needed = {str(p) for p in links["parent"]} - set(rows)
    known_parents = areas_by_code(parents_needed)
    seen: dict[tuple[str, str, int | None], int] = {}
    for r, c, p, lo in zip(links.index, links["code"], links["parent"], links["valid_from"],
                           strict=True):
        if str(p) not in rows and str(p) not in known_parents:
            out.error(int(r), "parent",
                      _("the parent %(parent)s of %(code)s is neither in the file nor stored: "
                        "import the parent areas first"), parent=repr(p), code=repr(c))
        key = (str(c), str(p), _year(lo))
        if key in seen:
            out.error(int(r), "parent",
                      _("%(code)s has parent %(parent)s from the same year twice: rows "
                        "%(first)s and %(row)s"), code=repr(c), parent=repr(p), first=seen[key],
                      row=int(r))
        seen.setdefault(key, int(r))
    if len(links):
        _no_cycles(links, stored, out)
    out.raise_if_errors()

    def boundary(code: str) -> str:
        return str(shapely.to_geojson(shapes.geometry(code))) if shapes is not None else ""

    new = [Area(code=str(c), name=str(n), level=str(lv), geometry=boundary(str(c)),
                import_batch=record)
           for c, n, lv in zip(frame["code"], frame["name"], frame["level"], strict=True)
           if str(c) not in stored]
    insert_rows(Area, new, what="areas", progress=progress)
    old_ids = [a.import_batch_id for a in stored.values()]
    old_batches = set(old_ids)
    info = {str(c): (str(n), str(lv)) for c, n, lv in
            zip(frame["code"], frame["name"], frame["level"], strict=True)}
    for area in stored.values():
        (area.name, area.level), area.import_batch = info[area.code], record
        if shapes is not None:
            area.geometry = boundary(area.code)
    Area.objects.bulk_update(list(stored.values()), ["name", "level", "geometry",
                                                     "import_batch"], batch_size=CHUNK)
    warnings: list[Problem] = []
    pairs = _parent_pairs(areas, shapes, parent_level, warnings)
    if pairs is not None:
        ids = {a.code: a.pk for a in
               areas_by_code({c for pair in pairs for c in pair[:2]}).values()}
        AreaLink.objects.filter(area_id__in=[a.pk for a in stored.values()]).delete()
        made = [AreaLink(area_id=ids[c], parent_id=ids[p], valid_from=lo, valid_to=hi)
                for c, p, lo, hi in pairs]
        insert_rows(AreaLink, made, what="parent links", progress=progress)
    retire_emptied(old_batches, "areas")
    created = {"areas": len(new)}
    if stored:
        created["areas updated"] = len(stored)
    created["parent links"] = len(pairs or [])
    return Outcome(created, warnings,
                   dict(Counter(b for b in old_ids if b is not None)))


def _no_cycles(links: pd.DataFrame, stored: dict[str, Area], out: Collector) -> None:
    """The file's parent links with the stored ones they keep (a stored area in the file gets
    the file's parents instead) must not form a cycle: it is named at the row of its first
    link in the file (as the index names it, :func:`tryg.index.hierarchy.parent_cycles`)."""
    children = [str(c) for c in links["code"]]
    parents = [str(p) for p in links["parent"]]
    kept = (AreaLink.objects.exclude(area_id__in=[a.pk for a in stored.values()])
            .values_list("area__code", "parent__code"))
    for child, parent in kept:
        children.append(child)
        parents.append(parent)
    rows = [int(r) for r in links.index]
    for i, template, params in parent_cycles(children, parents):
        # (a cycle of the stored links alone was refused when they were imported)
        out.error(rows[i] if i < len(rows) else None, "parent", template, **params)


def _prefixed(areas: Areas, shapes: geo.AreaGeometry | None, prefix: str) -> AreaData:
    """The areas with ``prefix`` before their codes (parents too, when in the same file)."""
    if not prefix:
        return areas, shapes
    own = {str(c) for c in areas.areas["code"]}
    frame = areas.areas.assign(code=[prefix + str(c) for c in areas.areas["code"]])
    links = areas.links.assign(
        code=[prefix + str(c) for c in areas.links["code"]],
        parent=[prefix + str(p) if str(p) in own else str(p) for p in areas.links["parent"]])
    for new, old in ((frame, areas.areas), (links, areas.links)):
        new.attrs.update(old.attrs)
    if shapes is not None:
        shapes = geo.AreaGeometry(tuple(prefix + c for c in shapes.codes), shapes.geometries)
    return Areas(frame, links), shapes


Pair = tuple[str, str, int | None, int | None]


def _parent_pairs(areas: Areas, shapes: geo.AreaGeometry | None, parent_level: str | None,
                  warnings: list[Problem]) -> list[Pair] | None:
    """(child, parent, valid_from, valid_to) from the file, else by containment; ``None``
    when neither applies (the stored links are then left as they are)."""
    links = areas.links
    if len(links):
        return [(str(c), str(p), _year(lo), _year(hi)) for c, p, lo, hi in
                zip(links["code"], links["parent"], links["valid_from"], links["valid_to"],
                    strict=True)]
    if shapes is None:
        return None
    levels = sorted({str(v) for v in areas.areas["level"]})
    chosen = parent_level or (parent_level_for(levels[0]) if len(levels) == 1 else None)
    if chosen is None:
        warnings.append(Problem.of("", None, None,
                                   _("no parents: the file names none and no stored boundaries "
                                     "of a coarser level were found for level %(levels)s "
                                     "(import those first, or give a parent level)"),
                                   levels=", ".join(levels)))
        return None
    try:
        parents = stored_layer(chosen, exclude=shapes.codes)
        placed = geo.contained_in(shapes, parents) if parents is not None else None
    except geo.GeometryError as exc:
        warnings.append(Problem.of("", None, None,
                                   _("parents not found by containment: %(error)s"),
                                   error=exc.marked))
        return None
    if placed is None:
        warnings.append(Problem.of("", None, None,
                                   _("no parents: no stored areas of level %(level)s have a "
                                     "boundary"), level=repr(chosen)))
        return None
    outside = sorted(c for c, p in placed.items() if p is None)
    if outside:
        warnings.append(Problem.of("", None, None,
                                   _("%(count)s area(s) lie in no single %(level)s (no "
                                     "%(level)s holds half of them), so they have no parent: "
                                     "%(codes)s"),
                                   count=len(outside), level=chosen, codes=str(outside[:20])))
    return [(c, p, None, None) for c, p in placed.items() if p is not None]


def _year(value: Any) -> int | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) \
        else int(value)
