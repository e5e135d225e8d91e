"""Survey answers from CSV, Excel or SPSS into a :class:`~tryg.index.inputs.SurveyInput`.

A municipality's survey arrives as whatever the survey firm delivers: a semicolon CSV from
Excel, an XLSX, an SPSS file. This reader maps the file's column names onto the contract names
(``columns``), checks every cell, and either returns a clean table whose index is the file's
line numbers (sheet rows, SPSS case numbers) or raises one ``InputError`` listing every
problem. Nothing is returned half-checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from tryg.index.inputs import SURVEY_COLUMNS, SURVEY_OPTIONAL, SurveyInput
from tryg.index.inputs import mark as _
from tryg.readers.cells import integer_column, number_column, rename_columns, text_column
from tryg.readers.limits import DEFAULT_LIMITS, Limits
from tryg.readers.report import Collector, ReadReport
from tryg.readers.table import PathLike, load_table
from tryg.readers.text import RawTable

CONTRACT = SURVEY_COLUMNS + SURVEY_OPTIONAL


def read_survey(
    path: PathLike,
    *,
    columns: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    items: Sequence[str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[SurveyInput, ReadReport]:
    """Read survey answers.

    ``columns`` maps the file's names to contract names (``{"id": "respondent_id"}``);
    ``sheet`` picks an XLSX sheet (name or 0-based number, default the first); ``encoding``
    reads a CSV that is not UTF-8 (e.g. ``"latin-1"``); ``items`` lists the answer columns
    to keep (default: every column that is not a contract column); ``limits``: see
    :mod:`tryg.readers.limits`.
    """
    table = load_table(path, sheet=sheet, encoding=encoding, limits=limits)
    out = Collector(table.source)
    rename_columns(table, dict(columns or {}), out)
    out.raise_if_errors()
    for name in SURVEY_COLUMNS:
        if name not in table.header:
            out.error(table.header_line, name,
                      _("the survey needs a column %(name)s; the file has %(header)s"),
                      name=repr(name), header=str(table.header))
    item_columns = (
        list(items) if items is not None else [h for h in table.header if h not in CONTRACT]
    )
    for name in item_columns:
        if name not in table.header:
            out.error(table.header_line, name, _("this item column is not in the file"))
        elif name in CONTRACT:
            out.error(table.header_line, name, _("a contract column cannot also be an item"))
    out.raise_if_errors()
    if not table.rows:
        raise out.fail(None, None, _("the file has a header but no answers"))
    data = _check_cells(table, item_columns, out)
    out.raise_if_errors()
    frame = pd.DataFrame(data, index=pd.Index(table.lines, name="line"))
    frame.attrs["source"] = table.source
    labels = table.attrs.get("value_labels")
    if labels:
        file_name = {contract: name for name, contract in (columns or {}).items()}
        frame.attrs["value_labels"] = {
            col: labels[file_name.get(col, col)]
            for col in frame.columns
            if labels.get(file_name.get(col, col))
        }
    for message in table.attrs.get("library_warnings", []):
        out.warn(None, None, _("while reading the workbook: %(message)s"), message=message)
    report = ReadReport(table.source, len(table.rows), len(table.rows), out.warnings,
                        table.encoding)
    return SurveyInput(frame), report


def _check_cells(table: RawTable, item_columns: list[str], out: Collector) -> dict[str, object]:
    data: dict[str, object] = {}
    ids = text_column(table, "respondent_id", out, required=True)
    waves = integer_column(table, "wave", out, years=True)
    data["respondent_id"] = ids
    data["wave"] = waves
    data["area_code"] = text_column(table, "area_code", out, required=True)
    if table.binary and any(isinstance(v, int | float) for v in table.column("area_code")):
        out.warn(None, "area_code",
                 _("area codes are stored as numbers in this file, so leading zeros "
                   "(e.g. '0851') may have been lost; store them as text"))
    data["weight"] = number_column(table, "weight", out, required=True, positive=True)
    for name in SURVEY_OPTIONAL:
        if name in table.header:
            data[name] = text_column(table, name, out, required=False)
    for name in item_columns:
        data[name] = number_column(table, name, out, required=False)
    _check_duplicates(table, ids, waves, out)
    return data


def _check_duplicates(
    table: RawTable, ids: list[str | None], waves: list[int], out: Collector
) -> None:
    """A respondent answers once per wave; a repeated id is a merge gone wrong."""
    first: dict[tuple[int, str], int] = {}
    for line, rid, wave in zip(table.lines, ids, waves, strict=True):
        if rid is None:
            continue
        key = (wave, rid)
        if key in first:
            out.error(line, "respondent_id",
                      _("respondent %(id)s appears twice in wave %(wave)s: rows %(first)s "
                        "and %(row)s"), id=repr(rid), wave=wave, first=first[key], row=line)
        else:
            first[key] = line
