"""Measurements from a CSV or XLSX file, all or nothing.

Columns: ``indicator`` (the indicator's id), ``value``, and either ``date`` (2016-12-31 or
31-12-2016) or ``wave`` (a year); optional ``n``, ``se``, ``low`` and ``high`` (a 95 %
interval: both or neither), ``exact`` (1/0, yes/no: a count, no interval needed),
``method`` (a note on how it was measured: text without control characters, as the forms
take it) and ``published`` (1/0). Every problem is listed with file, row and column; if
there is any, nothing is stored. The file is read by :mod:`tryg.readers` like every other
import.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from tryg import bounds
from tryg.accounts import roles
from tryg.imports.base import read_limits
from tryg.imports.uploads import local_name, upload_folder
from tryg.index.inputs import InputError
from tryg.index.inputs import mark as _
from tryg.messages import Number
from tryg.readers.cells import (
    BadCellError,
    parse_date,
    parse_integer,
    parse_number,
    shown,
)
from tryg.readers.report import Collector
from tryg.readers.table import PathLike, load_table
from tryg.readers.text import cell_text
from tryg.strategy import services
from tryg.strategy.models import Indicator, Measurement, latest_measurement_date
from tryg.strategy.sources import wave_date

REQUIRED = ("indicator", "value")
OPTIONAL = ("date", "wave", "n", "se", "low", "high", "exact", "method", "published")
TRUE = {"1", "yes", "ja", "true", "sand", "x"}
FALSE = {"0", "no", "nej", "false", "falsk", ""}
#: The largest n stored (``Measurement.n`` is a 32-bit integer column on PostgreSQL).
MAX_N = 2**31 - 1


@dataclass(frozen=True)
class MeasurementImport:
    source: str
    stored: int
    indicators: int


def _flag(text: str | None) -> bool:
    value = (text or "").strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise BadCellError(_("%(value)s is not yes/no (1/0)"), value=shown(text))


def import_measurements(path: PathLike, *, user: Any = None) -> MeasurementImport:
    """Read and store the measurements of ``path``; :class:`InputError` with every problem
    (nothing stored) otherwise. ``user`` must be allowed to enter measurements for every
    indicator's initiative (None: the command line, trusted)."""
    table = load_table(path, limits=read_limits())
    out = Collector(table.source)
    header = [h.strip().lower() for h in table.header]
    for column in REQUIRED:
        if column not in header:
            out.error(table.header_line, column, _("the column %(name)s is missing"),
                      name=repr(column))
    if "date" not in header and "wave" not in header:
        out.error(table.header_line, "date", _("give a column 'date' or a column 'wave'"))
    for column in sorted({h for h in header if header.count(h) > 1}):
        given = [h for h in table.header if h.strip().lower() == column]
        out.error(table.header_line, column, _("the columns %(given)s are the same column "
                                               "(names are read without case and spaces)"),
                  given=str(given))
    for column in header:
        if column not in REQUIRED + OPTIONAL:
            out.error(table.header_line, column, _("unknown column %(name)s (known: %(known)s)"),
                      name=repr(column), known=", ".join(REQUIRED + OPTIONAL))
    out.raise_if_errors()
    at = {name: header.index(name) for name in header}
    ids = set()
    for row in table.rows:
        text = cell_text(row[at["indicator"]])
        if text and text.isdigit():
            ids.add(int(text))
    indicators = {i.pk: i for i in Indicator.objects.filter(pk__in=ids)
                  .select_related("initiative").prefetch_related("initiative__owners")}
    rows: list[Measurement] = []
    latest = latest_measurement_date(timezone.localdate())
    for line, row in zip(table.lines, table.rows, strict=True):
        rows_before = len(out.errors)

        def cell(name: str, row: list[Any] = row) -> Any:
            return row[at[name]] if name in at else None

        def number(name: str, *, line: int = line, whole: bool = False) -> Any:
            value = cell(name)
            if cell_text(value) is None:
                return None
            try:
                if whole:
                    return parse_integer(value, decimal_comma=table.decimal_comma)
                number = parse_number(value, decimal_comma=table.decimal_comma)
            except BadCellError as exc:
                out.bad_cell(line, name, exc)
                return None
            if bounds.number_problem(number) is not None:
                out.error(line, name, _("%(value)s is not a plausible value (numbers are smaller "
                                        "than 10^12 in size)"), value=shown(value))
                return None
            return number

        indicator = None
        key = cell_text(cell("indicator"))
        if key is None:
            out.error(line, "indicator", _("this cell is empty"))
        elif not key.isdigit() or int(key) not in indicators:
            out.error(line, "indicator", _("no indicator with the id %(value)s"),
                      value=shown(key))
        else:
            indicator = indicators[int(key)]
            if user is not None and not roles.can_enter_measurements(user, indicator.initiative):
                out.error(line, "indicator", _("you may not enter measurements for this "
                                               "indicator's initiative"))
        value = number("value")
        if value is None and cell_text(cell("value")) is None:
            out.error(line, "value", _("this cell is empty"))
        when: dt.date | None = None
        wave = number("wave", whole=True)
        if cell_text(cell("date")) is not None:
            try:
                when = parse_date(cell("date"))
            except BadCellError as exc:
                out.bad_cell(line, "date", exc)
            if when is not None and bounds.date_problem(when) is not None:
                out.error(line, "date", _("%(value)s is not a plausible date (years %(first)s to "
                                          "%(last)s)"), value=shown(cell("date")),
                          first=bounds.FIRST_YEAR, last=bounds.LAST_YEAR)
                when = None
        elif wave is not None:
            if not bounds.FIRST_YEAR <= wave <= bounds.LAST_YEAR:
                out.error(line, "wave", _("%(value)s is not a plausible year"),
                          value=shown(cell("wave")))
            else:
                when = wave_date(wave)
        elif "date" in at or "wave" in at:
            out.error(line, "date" if "date" in at else "wave", _("give a date or a wave"))
        if when is not None and when > latest:  # as the forms and the API refuse it
            column = "date" if cell_text(cell("date")) is not None else "wave"
            out.error(line, column, _("%(value)s lies after %(latest)s, the end of next year: "
                                      "is the year a typo?"),
                      value=shown(cell(column)), latest=latest.isoformat())
            when = None
        n = number("n", whole=True)
        if n is not None and n < 0:
            out.error(line, "n", _("%(value)s must not be negative"), value=shown(cell("n")))
        elif n is not None and n > MAX_N:
            out.error(line, "n", _("%(value)s is too large (at most %(most)s)"),
                      value=shown(cell("n")), most=Number(MAX_N))
        se, low, high = number("se"), number("low"), number("high")
        if se is not None and se < 0:
            out.error(line, "se", _("%(value)s must not be negative"), value=shown(cell("se")))
        low_given, high_given = (cell_text(cell(end)) is not None for end in ("low", "high"))
        if low_given != high_given:
            out.error(line, "low" if high_given else "high",
                      _("give both ends of the interval (low and high), or neither"))
        elif low is not None and high is not None and low > high:
            out.error(line, "high", _("the interval's high end is below its low end"))
        elif (low is not None and high is not None and value is not None
              and not low <= value <= high):
            out.error(line, "value", _("the value lies outside its own interval"))
        method = cell_text(cell("method")) or ""
        character = bounds.control_character(method)
        if character is not None:  # as the forms refuse it (the only free-text cell)
            out.error(line, "method", _("the text holds an invisible control character "
                                        "(%(character)s), which cannot be stored"),
                      character=character)
        flags = {}
        for name in ("exact", "published"):
            try:
                flags[name] = _flag(cell_text(cell(name)))
            except BadCellError as exc:
                out.bad_cell(line, name, exc)
        if len(out.errors) == rows_before and indicator is not None and when is not None:
            assert value is not None and not math.isnan(value)
            rows.append(Measurement(indicator=indicator, when=when, wave=wave, value=value, n=n,
                                    se=se, low=low, high=high, exact=flags["exact"],
                                    method_note=method,
                                    published=flags["published"], entered_by=user))
    if not table.rows:
        out.error(None, None, _("the file has no rows"))
    out.raise_if_errors()
    with transaction.atomic():
        for measurement in rows:
            services.save(measurement, user)
    return MeasurementImport(table.source, len(rows), len({m.indicator_id for m in rows}))


def import_upload(upload: Any, *, user: Any) -> MeasurementImport:
    """:func:`import_measurements` of an uploaded file (a Django ``UploadedFile``), saved
    under its own name in a temporary folder (the reader tells CSV from XLSX by the suffix)
    and removed afterwards; the problems name the file as the user knows it."""
    name = Path(upload.name or "upload.csv").name or "upload.csv"
    with tempfile.TemporaryDirectory(prefix="measurements-", dir=upload_folder()) as folder:
        path = Path(folder) / local_name(name, "upload.csv")
        with path.open("wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        try:
            return import_measurements(path, user=user)
        except InputError as exc:
            raise InputError([replace(p, source=name) if p.source == str(path) else p
                              for p in exc.problems]) from None


__all__ = ["InputError", "MeasurementImport", "import_measurements", "import_upload"]
