"""The inputs of an index run, read from the database.

The stored data are turned back into the core's input tables (:mod:`tryg.index.inputs`), so
that a run from the database computes exactly what a run from files would: the same column
contracts, the same validation (by :func:`tryg.index.run`, never repeated here).

Only current imports count: rows of an :class:`~tryg.imports.models.ImportBatch` that has
been replaced are left out. Every table is sorted on its natural key (not on database ids or
import order), so two runs on unchanged data see byte-identical inputs, and re-importing the
same files gives the same inputs again.

Each table also gets a fingerprint: the SHA-256 of its canonical CSV bytes (the columns in
contract order, the rows in key order, floats written with Python's round-trip ``repr``),
with the number of rows and the import batches it came from. They are stored with the run
(``IndexRun.inputs``), so anyone can tell whether two runs saw the same data.

The tables' index holds the database id of each row and ``attrs["source"]`` names the table,
so a problem found by the core names the stored row it is about.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import Q

from tryg.areas.models import Area, AreaLink, Population
from tryg.imports.models import ImportBatch
from tryg.index.inputs import (
    LINK_COLUMNS,
    Areas,
    PopulationInput,
    RegisterInput,
    SurveyInput,
)
from tryg.police_register.models import RegisterCount
from tryg.surveys.models import Response

CURRENT = Q(import_batch__replaced_at__isnull=True)


@dataclass(frozen=True)
class Fingerprint:
    """What a run saw of one input: the SHA-256 of its table, its rows and its imports."""

    sha256: str
    rows: int
    batches: tuple[int, ...] = ()
    files: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "rows": self.rows, "batches": list(self.batches),
                "files": list(self.files)}


@dataclass(frozen=True)
class StoredInputs:
    """The core inputs built from the database, and their fingerprints."""

    areas: Areas
    population: PopulationInput
    survey: SurveyInput | None = None
    register: RegisterInput | None = None
    fingerprints: dict[str, Fingerprint] = field(default_factory=dict)

    def fingerprint_dict(self) -> dict[str, Any]:
        """The fingerprints as JSON-ready data (for ``IndexRun.inputs``)."""
        return {name: fp.as_dict() for name, fp in sorted(self.fingerprints.items())}


def table_sha256(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's canonical CSV bytes (header, rows in order, no index)."""
    data = frame.to_csv(index=False, lineterminator="\n", na_rep="").encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def _fingerprint(frame: pd.DataFrame, batch_ids: Iterable[int | None]) -> Fingerprint:
    ids = sorted({int(b) for b in batch_ids if b is not None})
    names = list(ImportBatch.objects.filter(pk__in=ids).order_by("pk")
                 .values_list("file_name", flat=True))
    return Fingerprint(table_sha256(frame), len(frame), tuple(ids), tuple(names))


def _frame(rows: Sequence[tuple[Any, ...]], columns: Sequence[str], ids: Sequence[int],
           source: str) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(list(rows), columns=list(columns))
    frame.index = pd.Index(list(ids), name="id", dtype="int64")
    frame.attrs["source"] = source
    return frame


def _text(values: Sequence[object], index: pd.Index) -> pd.Series:
    """Optional text stored as "" when absent: NaN there, as the readers give it."""
    return pd.Series([str(v) if v else np.nan for v in values], index=index, dtype=object)


def load_areas() -> tuple[Areas, Fingerprint]:
    """Every current area (code, name, level) and the links between them."""
    current = Area.objects.filter(Q(import_batch__isnull=True) | CURRENT)
    rows = list(current.order_by("code").values_list("pk", "code", "name", "level",
                                                      "import_batch_id"))
    areas = _frame([r[1:4] for r in rows], ("code", "name", "level"), [r[0] for r in rows],
                   "database: areas")
    codes = set(areas["code"])
    links = [
        r for r in AreaLink.objects.order_by("area__code", "parent__code", "valid_from", "pk")
        .values_list("pk", "area__code", "parent__code", "valid_from", "valid_to")
        if r[1] in codes and r[2] in codes
    ]
    link_frame = _frame(
        [(c, p, np.nan if lo is None else float(lo), np.nan if hi is None else float(hi))
         for _, c, p, lo, hi in links],
        LINK_COLUMNS, [r[0] for r in links], "database: area links")
    digest = hashlib.sha256(
        (table_sha256(areas) + table_sha256(link_frame)).encode("ascii")).hexdigest()
    base = _fingerprint(areas, (r[4] for r in rows))
    fp = Fingerprint(digest, len(areas) + len(link_frame), base.batches, base.files)
    return Areas(areas, link_frame), fp


def load_population() -> tuple[PopulationInput, Fingerprint]:
    """Population per area and year (and per sex × age group where stored)."""
    rows = list(Population.objects.filter(CURRENT)
                .order_by("area__code", "year", "sex", "age_group")
                .values_list("pk", "area__code", "year", "sex", "age_group", "population",
                             "import_batch_id"))
    frame = _frame([(r[1], r[2], r[5]) for r in rows], ("area_code", "year", "population"),
                   [r[0] for r in rows], "database: population")
    frame = frame.astype({"area_code": object, "year": "int64", "population": "float64"})
    for position, column in ((3, "sex"), (4, "age_group")):
        values = [r[position] for r in rows]
        if any(values):
            frame[column] = _text(values, frame.index)
    return PopulationInput(frame), _fingerprint(frame, (r[6] for r in rows))


def load_register() -> tuple[RegisterInput, Fingerprint] | None:
    """Reported offences per area, quarter and offence; None when nothing is stored.

    The counts table serves aggregated files and record-level extracts alike (a record import
    stores its records counted per area × quarter × offence as well).
    """
    rows = list(RegisterCount.objects.filter(CURRENT)
                .order_by("area__code", "quarter", "offence", "pk")
                .values_list("pk", "area__code", "quarter", "offence", "count",
                             "import_batch_id"))
    if not rows:
        return None
    frame = _frame([r[1:5] for r in rows], ("area_code", "quarter", "offence", "count"),
                   [r[0] for r in rows], "database: register counts")
    frame = frame.astype({"area_code": object, "quarter": object, "offence": object,
                          "count": "int64"})
    return RegisterInput(frame), _fingerprint(frame, (r[5] for r in rows))


def load_survey(items: Sequence[str] = ()) -> tuple[SurveyInput, Fingerprint] | None:
    """Survey answers of every current wave, one row per respondent; None when none stored.

    Item columns: every item answered in the stored waves, ``items`` (the specification's
    order) first, then the rest alphabetically. An answer not stored is NaN.
    """
    rows = list(Response.objects.filter(wave__import_batch__replaced_at__isnull=True)
                .order_by("wave__year", "respondent")
                .values_list("pk", "respondent", "wave__year", "area__code", "weight",
                             "stratum", "psu", "sex", "age_group", "wave__questionnaire",
                             "answers", "wave__import_batch_id"))
    if not rows:
        return None
    frame = _frame([r[1:5] for r in rows], ("respondent_id", "wave", "area_code", "weight"),
                   [r[0] for r in rows], "database: survey answers")
    frame = frame.astype({"respondent_id": object, "wave": "int64", "area_code": object,
                          "weight": "float64"})
    for position, column in ((5, "stratum"), (6, "psu"), (7, "sex"), (8, "age_group"),
                             (9, "questionnaire")):
        values = [r[position] for r in rows]
        if any(values):
            frame[column] = _text(values, frame.index)
    answered: set[str] = set()
    for r in rows:
        answered.update(r[10] or {})
    ordered = [i for i in items if i in answered]
    ordered += sorted(answered - set(ordered))
    answers = np.full((len(rows), len(ordered)), np.nan)
    position_of = {item: j for j, item in enumerate(ordered)}
    for i, r in enumerate(rows):
        for item, value in (r[10] or {}).items():
            if value is not None and value != "":
                answers[i, position_of[item]] = float(value)
    item_frame = pd.DataFrame(answers, columns=ordered, index=frame.index)
    frame = pd.concat([frame, item_frame], axis=1)
    frame.attrs["source"] = "database: survey answers"
    return SurveyInput(frame), _fingerprint(frame, (r[11] for r in rows))


def load_inputs(items: Sequence[str] = (), *, survey: bool = True,
                register: bool = True) -> StoredInputs:
    """Every input of an index run from the current imports (``items``: the spec's items,
    to order the survey's columns)."""
    areas, areas_fp = load_areas()
    population, population_fp = load_population()
    fingerprints = {"areas": areas_fp, "population": population_fp}
    survey_input = register_input = None
    if survey and (loaded := load_survey(items)) is not None:
        survey_input, fingerprints["survey"] = loaded
    if register and (counted := load_register()) is not None:
        register_input, fingerprints["register"] = counted
    return StoredInputs(areas, population, survey_input, register_input, fingerprints)
