"""The inputs of an index run, as plain validated tables.

Readers (``tryg.readers``) turn files into these; the demo generator writes files that read
into them; :func:`tryg.index.run` consumes them. Each table keeps where its rows came from:
``frame.attrs["source"]`` names the file and the index holds the file's line numbers, so a
problem found later (an answer outside the scale, an unknown area) can still name file, row
and column.

Column contracts (names are fixed; readers map a file's own names onto them):

``SurveyInput.responses``
    ``respondent_id`` (str), ``wave`` (int, the survey year), ``area_code`` (str, the finest
    area), ``weight`` (float > 0); optional ``stratum`` and ``psu`` (design), ``sex`` and
    ``age_group`` (calibration cells), ``questionnaire`` (a version label; a change between
    waves is a method break); then one column per item, holding the answer code (float, NaN
    when not answered).
``RegisterInput.counts``
    ``area_code`` (str), ``quarter`` (str, ``"2015Q3"``), ``offence`` (str), ``count`` (int).
``PopulationInput.table``
    ``area_code``, ``year`` (int), ``population`` (float); optional ``sex``, ``age_group``
    (then one row per cell).
``Areas.areas`` / ``Areas.links``
    areas: ``code`` (str), ``name`` (str), ``level`` (str); links: ``code``, ``parent``,
    ``valid_from``, ``valid_to`` (int years, NaN = open). An area may have several parents
    (a district and a vulnerable housing area), each with its own validity.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Re-exported: the readers and the index mark their messages with ``inputs.mark``.
from tryg.messages import mark as mark
from tryg.messages import render as render

SURVEY_COLUMNS = ("respondent_id", "wave", "area_code", "weight")
SURVEY_OPTIONAL = ("stratum", "psu", "sex", "age_group", "questionnaire")
REGISTER_COLUMNS = ("area_code", "quarter", "offence", "count")
POPULATION_COLUMNS = ("area_code", "year", "population")
AREA_COLUMNS = ("code", "name", "level")
LINK_COLUMNS = ("code", "parent", "valid_from", "valid_to")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as the input allows.

    ``message`` is the English text; ``template`` and ``params`` (when the message was made
    from a marked template, :meth:`of`) let a page show it in another language. They take no
    part in equality: the message says the same.
    """

    source: str
    row: int | None
    column: str | None
    message: str
    template: str = field(default="", compare=False)
    params: Mapping[str, object] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, source: str, row: int | None, column: str | None, template: str, /,
           **params: object) -> Problem:
        """A problem from a marked template and its named params, rendered in English."""
        return cls(source, row, column, render(template, params), template, dict(params))

    def __str__(self) -> str:
        where = [self.source or "input"]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}"


class InputError(ValueError):
    """Inputs that cannot be used; carries every problem found (not just the first)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} problem(s) in the inputs:\n{shown}{more}")


def as_int(value: object) -> int:
    """A wave or year label from pandas as a plain int (pandas' scalar type is wider than
    what ``int()`` is typed to accept)."""
    return int(value)  # type: ignore[call-overload,no-any-return]


def unknown(codes: pd.Series, known: Set[str]) -> np.ndarray:
    """``~codes.isin(known)`` as a boolean array (a missing code is unknown), each distinct
    code looked up once.

    Text stored by Arrow (pandas' own text dtype) is looked up by Arrow's hash set
    (``pyarrow.compute.is_in``), half the time of numbering the rows first."""
    if isinstance(codes.dtype, pd.StringDtype) and codes.dtype.storage == "pyarrow":
        value_set = pa.array(sorted(known), type=pa.large_string())
        found = pc.is_in(pa.array(codes).cast(pa.large_string()), value_set=value_set)
        return ~np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)
    idx, distinct = pd.factorize(codes)
    found = np.fromiter((c in known for c in np.asarray(distinct, dtype=object).tolist()),
                        dtype=bool, count=len(distinct))
    return np.append(~found, True)[np.asarray(idx, dtype=np.int64)]


def source_of(frame: pd.DataFrame) -> str:
    return str(frame.attrs.get("source", ""))


@dataclass(frozen=True)
class SurveyInput:
    responses: pd.DataFrame


@dataclass(frozen=True)
class RegisterInput:
    counts: pd.DataFrame


@dataclass(frozen=True)
class PopulationInput:
    table: pd.DataFrame


@dataclass(frozen=True)
class Areas:
    areas: pd.DataFrame
    links: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(LINK_COLUMNS)))


def require_columns(frame: pd.DataFrame, columns: tuple[str, ...],
                    template: str) -> list[Problem]:
    """Problems for every required column that is missing; ``template`` is a marked message
    with ``%(column)s`` (``_("the survey needs a column %(column)s")``)."""
    return [
        Problem.of(source_of(frame), None, c, template, column=repr(c))
        for c in columns
        if c not in frame.columns
    ]
