"""Statistics Denmark's StatBank exports: wide tables with one column per period.

STRAF11 ("Reported criminal offences by region, type of offence and time") exported in English
has the header ``REGION,TYPE OF OFFENCE,2007Q1,...``; the Danish export says ``OMRÅDE``,
``OVERTRÆDELSENS ART`` and ``2007K1``. StatBank writes ISO-8859-1 by default, so a file whose
header is recognisably a StatBank export may be decoded as ISO-8859-1 when it is not UTF-8
(:func:`statbank_fallback`); any other file must say its encoding.

Areas come as names ("Aalborg", "Copenhagen", "Region Nordjylland", "Unknown municipality"),
so the counts carry ``area_name``; :func:`tryg.index.areas.reconcile_names` turns names into
codes and separates the aggregate rows. StatBank's ".." (not available) is skipped with a
warning; anything else that is not a whole number >= 0 is an error.
"""

from __future__ import annotations

import unicodedata

import pandas as pd

from tryg.index.inputs import mark as _
from tryg.readers.cells import BadCellError, parse_integer, parse_quarter, shown
from tryg.readers.report import Collector
from tryg.readers.text import RawTable, cell_text

AREA_LABELS = frozenset({"region", "område", "omraade"})
OFFENCE_LABELS = frozenset({"type of offence", "overtrædelsens art", "overtraedelsens art"})
NOT_AVAILABLE = frozenset({"..", "."})


def _label(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().casefold()


def statbank_fallback(data: bytes) -> str | None:
    """``"latin-1"`` if the first line looks like a StatBank export header, else ``None``."""
    first = data.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("latin-1")
    head = first.replace(";", ",").replace('"', "").split(",", 1)[0]
    return "latin-1" if _label(head) in AREA_LABELS else None


def period_columns(header: list[str], first: int) -> list[str] | None:
    """The header cells from ``first`` on as quarter labels, if they all are."""
    if len(header) <= first:
        return None
    try:
        return [parse_quarter(h) for h in header[first:]]
    except BadCellError:
        return None


def is_straf11(header: list[str]) -> bool:
    return (
        len(header) > 2
        and _label(header[0]) in AREA_LABELS
        and _label(header[1]) in OFFENCE_LABELS
        and period_columns(header, 2) is not None
    )


def straf11_counts(table: RawTable, out: Collector) -> tuple[pd.DataFrame, int]:
    """Long counts (``area_name, quarter, offence, count``) from a wide STRAF11 table, and the
    number of source rows used. A blank area cell repeats the area above (StatBank leaves
    repeated labels blank in some layouts)."""
    quarters = period_columns(table.header, 2)
    if quarters is None:
        raise out.fail(table.header_line, None,
                       _("the header is not REGION, TYPE OF OFFENCE, quarters"))
    area_col, offence_col = table.header[0], table.header[1]
    seen_quarters: dict[str, str] = {}
    for label, q in zip(table.header[2:], quarters, strict=True):
        if q in seen_quarters:
            out.error(table.header_line, label,
                      _("quarter %(quarter)s appears twice (also as %(label)s)"),
                      quarter=q, label=repr(seen_quarters[q]))
        seen_quarters[q] = label
    names: list[str] = []
    offences: list[str] = []
    quarter_out: list[str] = []
    counts: list[int] = []
    index: list[int] = []
    first_row: dict[tuple[str, str], int] = {}
    area: str | None = None
    missing = 0
    used = 0
    for line, row in zip(table.lines, table.rows, strict=True):
        area = cell_text(row[0]) or area
        offence = cell_text(row[1])
        if area is None:
            out.error(line, area_col, _("this cell is empty"))
            continue
        if offence is None:
            out.error(line, offence_col, _("this cell is empty"))
            continue
        key = (area, offence)
        if key in first_row:
            out.error(line, offence_col, _("%(key)s appears twice: rows %(first)s and %(row)s"),
                      key=f"{area!r} / {offence!r}", first=first_row[key], row=line)
            continue
        first_row[key] = line
        used += 1
        for label, q, cell in zip(table.header[2:], quarters, row[2:], strict=True):
            value = _count(cell, line, label, out)
            if value is None:
                missing += 1
                continue
            names.append(area)
            offences.append(offence)
            quarter_out.append(q)
            counts.append(value)
            index.append(line)
    if missing:
        out.warn(None, None, _("%(count)s cells are empty or '..' (not available) and were "
                               "skipped"), count=missing)
    frame = pd.DataFrame(
        {"area_name": names, "quarter": quarter_out, "offence": offences,
         "count": pd.array(counts, dtype="int64")},
        index=pd.Index(index, name="line"),
    )
    return frame, used


def _count(cell: object, line: int, column: str, out: Collector) -> int | None:
    if isinstance(cell, str) and cell.isascii() and cell.isdigit() and len(cell) < 16:  # fast
        return int(cell)
    text = cell_text(cell)
    if text is None or text in NOT_AVAILABLE:
        return None
    try:
        value = parse_integer(cell)
    except BadCellError as exc:
        out.bad_cell(line, column, exc)
        return None
    if value < 0:
        out.error(line, column, _("%(value)s must not be negative"), value=shown(cell))
        return None
    return value
