"""Cell values to typed columns, with an error for every cell that does not fit.

The parsers are deliberately narrower than Python's ``float()``: "nan", "inf", "1_000" and
thousands separators are rejected, because in a survey export they are typos or locale
accidents, never data. A decimal comma is accepted only where the file's format implies it
(semicolon-separated CSV, the Danish Excel default); there, a dot that could be a
thousands separator ("1.500") is an error rather than a guess.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from tryg.index.inputs import mark as _
from tryg.readers.report import BadCellError as BadCellError
from tryg.readers.report import Collector
from tryg.readers.text import RawTable, cell_text

# "1.500" in a semicolon (Danish) file could be 1500 or 1.5: refuse to guess.
_DOT_THOUSANDS = re.compile(r"[+-]?[1-9]\d{0,2}(?:\.\d{3})+")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_QUARTER = re.compile(r"(\d{4})\s*[-_ ]?\s*[QqKk]\s*([1-4])")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?")
_DK_DATE = re.compile(r"(\d{1,2})[-./](\d{1,2})[-./](\d{4})(?:[T ].*)?")
YEARS = (1800, 2200)
#: The largest magnitude of a number in a data cell (a count, a population, a weight, an
#: answer): larger ones are typos or overflows, never data, and would overflow the 64-bit
#: integers and the sums of squares downstream.
MAX_MAGNITUDE = 1e15


def shown(value: Any) -> str:
    """A cell value for an error message, shortened."""
    text = repr(value) if not isinstance(value, str) else repr(value.strip())
    return text if len(text) <= 40 else text[:37] + "...'"


def parse_number(value: Any, *, decimal_comma: bool = False) -> float:
    """A finite number from a cell (text or a spreadsheet number)."""
    if isinstance(value, bool):
        raise BadCellError(_("%(value)s is not a number"), value=shown(value))
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip()
        if decimal_comma and _DOT_THOUSANDS.fullmatch(text):
            raise BadCellError(
                _("%(value)s is ambiguous in a semicolon-separated file (thousands "
                  "separator or decimal point?): write it without the dot, or with a comma"),
                value=shown(value))
        if decimal_comma and text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        if not _NUMBER.fullmatch(text):
            raise BadCellError(_("%(value)s is not a number"), value=shown(value))
        number = float(text)
    if not math.isfinite(number):
        raise BadCellError(_("%(value)s is not a finite number"), value=shown(value))
    return number


def parse_integer(value: Any, *, decimal_comma: bool = False) -> int:
    """A whole number ("12" or "12.0"; not "12.5")."""
    number = parse_number(value, decimal_comma=decimal_comma)
    if not number.is_integer():
        raise BadCellError(_("%(value)s is not a whole number"), value=shown(value))
    if abs(number) > MAX_MAGNITUDE:
        raise _too_large(value)
    return int(number)


def _too_large(value: Any) -> BadCellError:
    return BadCellError(_("%(value)s is too large (at most %(most)s in magnitude)"),
                        value=shown(value), most=f"{MAX_MAGNITUDE:.0e}")


def parse_quarter(value: Any) -> str:
    """A quarter label as ``"2015Q3"`` (accepts "2015Q3", "2015K3", "2015-Q3", "2015 q3")."""
    match = _QUARTER.fullmatch(str(value).strip())
    if match is None or not YEARS[0] <= int(match.group(1)) <= YEARS[1]:
        raise BadCellError(_("%(value)s is not a quarter such as '2015Q3'"), value=shown(value))
    return f"{match.group(1)}Q{match.group(2)}"


def parse_date(value: Any) -> dt.date:
    """A date from ISO text (``2012-07-02``, time ignored), Danish ``02-07-2012`` /
    ``02.07.2012``, or a spreadsheet date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    iso = _ISO_DATE.fullmatch(text)
    dk = _DK_DATE.fullmatch(text)
    try:
        if iso:
            y, m, d = (int(g) for g in iso.groups())
        elif dk:
            d, m, y = (int(g) for g in dk.groups())
        else:
            raise BadCellError(_("%(value)s is not a date such as '2015-07-31'"),
                               value=shown(value))
        return dt.date(y, m, d)
    except ValueError as exc:
        if isinstance(exc, BadCellError):
            raise
        raise BadCellError(_("%(value)s is not a valid date (%(reason)s)"), value=shown(value),
                           reason=str(exc)) from None


def quarter_of(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def text_column(
    table: RawTable, column: str, out: Collector, *, required: bool
) -> list[str | None]:
    """Text cells (numbers from a spreadsheet become their digits); empty is an error when
    ``required``."""
    values: list[str | None] = []
    for line, cell in zip(table.lines, table.column(column), strict=True):
        text = cell_text(cell)
        if text is None and required:
            out.error(line, column, _("this cell is empty"))
        values.append(text)
    return values


def number_column(
    table: RawTable,
    column: str,
    out: Collector,
    *,
    required: bool,
    positive: bool = False,
    non_negative: bool = False,
) -> list[float]:
    """Numbers (NaN for an empty, not required cell)."""
    values: list[float] = []
    for line, cell in zip(table.lines, table.column(column), strict=True):
        if cell_text(cell) is None:
            if required:
                out.error(line, column, _("this cell is empty"))
            values.append(math.nan)
            continue
        try:
            number = parse_number(cell, decimal_comma=table.decimal_comma)
        except BadCellError as exc:
            out.bad_cell(line, column, exc)
            values.append(math.nan)
            continue
        if abs(number) > MAX_MAGNITUDE:
            out.bad_cell(line, column, _too_large(cell))
            values.append(math.nan)
            continue
        if positive and number <= 0:
            out.error(line, column, _("%(value)s must be greater than 0"), value=shown(cell))
        elif non_negative and number < 0:
            out.error(line, column, _("%(value)s must not be negative"), value=shown(cell))
        values.append(number)
    return values


def integer_column(
    table: RawTable,
    column: str,
    out: Collector,
    *,
    non_negative: bool = False,
    years: bool = False,
) -> list[int]:
    """Whole numbers, every cell required (0 stands in for a cell that failed)."""
    values: list[int] = []
    for line, cell in zip(table.lines, table.column(column), strict=True):
        if cell_text(cell) is None:
            out.error(line, column, _("this cell is empty"))
            values.append(0)
            continue
        try:
            number = parse_integer(cell, decimal_comma=table.decimal_comma)
        except BadCellError as exc:
            out.bad_cell(line, column, exc)
            values.append(0)
            continue
        if non_negative and number < 0:
            out.error(line, column, _("%(value)s must not be negative"), value=shown(cell))
        if years and not YEARS[0] <= number <= YEARS[1]:
            out.error(line, column, _("%(value)s is not a plausible year"), value=shown(cell))
        values.append(number)
    return values


def rename_columns(table: RawTable, columns: dict[str, str], out: Collector) -> None:
    """Rename file columns to contract names, in place; a mapped column that is missing, or a
    rename that would make two columns share a name, is an error."""
    for file_name, contract in columns.items():
        if file_name not in table.header:
            out.error(table.header_line, file_name,
                      _("the column %(name)s (to be read as %(contract)s) is not in the file; "
                        "the file has %(header)s"),
                      name=repr(file_name), contract=repr(contract), header=str(table.header))
    targets = [columns.get(h, h) for h in table.header]
    for name in {t for t in targets if targets.count(t) > 1}:
        sources = [h for h in table.header if columns.get(h, h) == name]
        out.error(table.header_line, name, _("several columns would be read as %(name)s: "
                                             "%(sources)s"), name=repr(name), sources=str(sources))
    if not out.errors:
        table.header = targets
