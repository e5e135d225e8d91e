"""Existing public-space reports (311 requests, fault reports): a CSV and a column mapping in,
checked records out. Pure file → records; :mod:`tryg.walks.reports_import` writes them.

Every city names its columns differently, so the user says which column holds what
(:class:`ReportMapping`, from CLI options or a small TOML file such as the shipped
``mappings/boston-311.toml``). Only the category and the opening time are required; the
position may be missing (flagged ``missing``), at the system's default location (a
configured point such as Boston's City Hall: flagged ``default_location``, not placed) or
outside the globe or at (0, 0) (flagged ``invalid``). Every problem is collected with file,
row (the file's line) and column before anything is returned, so a file is imported whole
or not at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import tomllib
import unicodedata
import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from tryg.index.inputs import InputError, Problem
from tryg.index.inputs import mark as _
from tryg.messages import Number
from tryg.readers.cells import YEARS
from tryg.readers.limits import DEFAULT_LIMITS, Limits, too_many_rows
from tryg.readers.report import BadCellError, Collector, ReadReport
from tryg.readers.table import read_bytes
from tryg.readers.text import csv_problem, decode, sniff_delimiter

#: The fields a mapping may name a column for; category and opened are required.
FIELDS = ("external_id", "category", "status", "opened", "closed", "deadline", "latitude",
          "longitude", "text", "address")
REQUIRED = ("category", "opened")
#: The states an action may start in (as :class:`tryg.walks.states.ActionState`).
STATES = frozenset({"new", "confirmed", "planned", "in_progress", "fixed", "not_responsible",
                    "duplicate", "no_further_action"})
DEFAULT_STATUSES = {"open": "new", "closed": "fixed"}
#: Position flags (as :class:`tryg.walks.models.Finding.PositionFlag`).
PLACED, MISSING, DEFAULT_LOCATION, INVALID = "", "missing", "default_location", "invalid"
MAX_EXTERNAL_ID = 100
MAX_CATEGORY = 60
MAX_ADDRESS = 300
MAX_TEXT = 10_000
#: Errors kept before the read stops collecting (the user fixes those first).
MAX_ERRORS = 200
#: How close to the default location counts as it (the files round to 4 decimals).
DEFAULT_TOLERANCE = 5e-5
#: How much earlier than its opening a report may be closed and still be read as given: two
#: systems' clocks (Boston's own file closes 36 requests up to 19 s before they open) and a
#: local time repeated when summer time ends. Earlier than that is an error at the cell.
CLOSED_BEFORE_OPENED = dt.timedelta(hours=1)
BUILT_IN = "tryg.readers.mappings"


@dataclass(frozen=True)
class ReportMapping:
    """Which column holds what (``columns``: field → file column) and what values mean."""

    columns: Mapping[str, str]
    statuses: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_STATUSES))
    categories: Mapping[str, str] = field(default_factory=dict)
    date_format: str | None = None
    timezone: str = "Europe/Copenhagen"
    default_location: tuple[float, float] | None = None

    def problems(self, source: str) -> list[Problem]:
        out = [Problem.of(source, None, None, _("the mapping names no column for %(field)s"),
                          field=repr(name))
               for name in REQUIRED if not self.columns.get(name)]
        out += [Problem.of(source, None, None, _("the mapping's field %(field)s is not one of "
                                                 "%(fields)s"),
                           field=repr(name), fields=", ".join(FIELDS))
                for name in self.columns if name not in FIELDS]
        if bool(self.columns.get("latitude")) != bool(self.columns.get("longitude")):
            out.append(Problem.of(source, None, None,
                                  _("the mapping needs both latitude and longitude, or "
                                    "neither")))
        out += [Problem.of(source, None, None, _("status %(status)s maps to %(state)s, which "
                                                 "is not one of %(states)s"),
                           status=repr(k), state=repr(v), states=", ".join(sorted(STATES)))
                for k, v in self.statuses.items() if v not in STATES]
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            out.append(Problem.of(source, None, None, _("unknown time zone %(zone)s"),
                                  zone=repr(self.timezone)))
        return out


def built_in_mappings() -> list[str]:
    return sorted(p.name.removesuffix(".toml") for p in resources.files(BUILT_IN).iterdir()
                  if p.name.endswith(".toml"))


def load_mapping(name_or_path: str | Path, **overrides: Any) -> ReportMapping:
    """A mapping from a TOML file, or a shipped one by name (``boston-311``); ``overrides``
    (non-empty values only) replace its fields (``columns`` are merged)."""
    path = Path(name_or_path)
    source = str(name_or_path)
    if not path.suffix and str(name_or_path) in built_in_mappings():
        text = (resources.files(BUILT_IN) / f"{name_or_path}.toml").read_text("utf-8")
    else:
        data, source = read_bytes(path)
        text, _encoding = decode(data, source, "utf-8")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError([Problem.of(source, None, None, _("not a readable TOML file: %(error)s"),
                                     error=str(exc))]) from None
    return _from_doc(doc, source, **overrides)


def _table(doc: Mapping[str, Any], name: str, source: str) -> dict[str, str]:
    value = doc.get(name, {})
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InputError([Problem.of(source, None, name, _("[%(table)s] must be a table of "
                                                           "texts"), table=name)])
    return {str(k): str(v) for k, v in value.items()}


def _from_doc(doc: Mapping[str, Any], source: str, **overrides: Any) -> ReportMapping:
    values = doc.get("values", {})
    if not isinstance(values, dict):
        raise InputError([Problem.of(source, None, "values", _("[values] must be a table"))])
    location = values.get("default_location")
    point: tuple[float, float] | None = None
    if location is not None:
        if (not isinstance(location, list) or len(location) != 2
                or not all(isinstance(v, int | float) for v in location)):
            raise InputError([Problem.of(source, None, "default_location",
                                         _("default_location must be [latitude, longitude]"))])
        point = (float(location[0]), float(location[1]))
    statuses = {k.lower(): v for k, v in _table(doc, "statuses", source).items()}
    mapping = ReportMapping(
        columns=_table(doc, "columns", source),
        statuses=statuses or dict(DEFAULT_STATUSES),
        categories=_table(doc, "categories", source),
        date_format=str(values["date_format"]) if "date_format" in values else None,
        timezone=str(values.get("timezone", "Europe/Copenhagen")),
        default_location=point)
    return with_overrides(mapping, **overrides)


def with_overrides(mapping: ReportMapping, **overrides: Any) -> ReportMapping:
    """``mapping`` with the given non-empty fields replaced (``columns`` merged in)."""
    given = {k: v for k, v in overrides.items() if v not in (None, "", {}, ())}
    if "columns" in given:
        given["columns"] = {**mapping.columns, **given["columns"]}
    if "statuses" in given:
        given["statuses"] = {str(k).lower(): v for k, v in given["statuses"].items()}
    return replace(mapping, **given)


@dataclass(frozen=True, eq=False)
class Reports:
    """Checked reports, one list element per row, in file order."""

    source: str
    lines: list[int]
    external_ids: list[str]
    categories: list[str]
    states: list[str]
    opened: list[dt.datetime]
    closed: list[dt.datetime | None]
    deadlines: list[dt.date | None]
    lat: list[float | None]
    lon: list[float | None]
    position_flags: list[str]
    texts: list[str]
    addresses: list[str]

    def __len__(self) -> int:
        return len(self.lines)

    def flagged(self, flag: str) -> int:
        return sum(1 for f in self.position_flags if f == flag)


#: Letters NFKD does not take apart, written as Danes do without them.
_DANISH = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ß": "ss"})


def category_code(value: str, categories: Mapping[str, str]) -> str:
    """The category code of a file's type: as mapped, else the type made a slug."""
    if value in categories:
        return categories[value]
    text = value.lower().translate(_DANISH)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    previous = 0
    for record in reader:
        start, previous = previous + 1, reader.line_num
        if any(cell.strip() for cell in record):
            yield start, record


class _Parse:
    """The cell parsers of one read (a mapping's time zone and date format)."""

    def __init__(self, mapping: ReportMapping) -> None:
        self.zone = zoneinfo.ZoneInfo(mapping.timezone)
        self.date_format = mapping.date_format

    def when(self, value: str) -> dt.datetime:
        try:
            if self.date_format is not None:
                parsed = dt.datetime.strptime(value, self.date_format)
            else:
                parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            if self.date_format is None:
                raise BadCellError(_("%(value)s is not a date and time as ISO 8601 such as "
                                     "2015-01-09T14:56:26"), value=repr(value[:40])) from None
            raise BadCellError(_("%(value)s is not a date and time as %(format)s"),
                               value=repr(value[:40]), format=self.date_format) from None
        if not YEARS[0] <= parsed.year <= YEARS[1]:
            # year 1 or 9999 is a placeholder, not a report's time; and in UTC it may not
            # exist at all (0001-01-01 in Copenhagen is in year 0 in UTC)
            raise BadCellError(_("%(value)s is not a plausible date (years %(first)s to "
                                 "%(last)s)"), value=repr(value[:40]), first=YEARS[0],
                               last=YEARS[1])
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=self.zone)


def _number(value: str) -> float:
    number = float(value)  # ValueError for text
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def read_reports(path: str | Path, mapping: ReportMapping, *, encoding: str | None = None,
                 limits: Limits = DEFAULT_LIMITS) -> tuple[Reports, ReadReport]:
    """The reports of a CSV file; ``InputError`` listing every problem (file, row, column)."""
    data, source = read_bytes(path)
    out = Collector(source)
    for problem in mapping.problems(source):
        out.errors.append(problem)
    out.raise_if_errors()
    text, used = decode(data, source, encoding)
    del data
    first = next((ln for ln in io.StringIO(text, newline="") if ln.strip()), None)
    if first is None:
        raise out.fail(None, None, _("the file is empty"))
    rows = _rows(text, sniff_delimiter(first))
    try:
        header_line, header = next(rows)
    except csv.Error as exc:
        out.errors.append(csv_problem(out.source, 1, exc))
        raise InputError(list(out.errors)) from None
    except StopIteration:  # a line of spaces the CSV reader reads as no row at all
        raise out.fail(None, None, _("the file is empty")) from None
    header = [h.strip() for h in header]
    index: dict[str, int] = {}
    for name, column in mapping.columns.items():
        if column not in header:
            out.error(header_line, column, _("the mapping's column for %(field)s is not in the "
                                             "file (its columns: %(columns)s)"),
                      field=repr(name), columns=", ".join(header))
        else:
            index[name] = header.index(column)
    out.raise_if_errors()
    reports = _read_rows(rows, header, index, mapping, out, limits)
    out.raise_if_errors()
    warnings = []
    for flag, template in (
            (DEFAULT_LOCATION, _("%(count)s row(s) at the default location: flagged, not "
                                 "placed")),
            (MISSING, _("%(count)s row(s) without a position: flagged, not placed")),
            (INVALID, _("%(count)s row(s) with an invalid position: flagged, not placed"))):
        n = reports.flagged(flag)
        if n:
            warnings.append(Problem.of(source, None, None, template, count=Number(n)))
    return reports, ReadReport(source, len(reports), len(reports), warnings, used)


def _read_rows(rows: Iterator[tuple[int, list[str]]], header: list[str],
               index: Mapping[str, int], mapping: ReportMapping, out: Collector,
               limits: Limits) -> Reports:
    parse = _Parse(mapping)
    r = Reports(out.source, [], [], [], [], [], [], [], [], [], [], [], [])
    seen: dict[str, int] = {}
    statuses = {k.lower(): v for k, v in mapping.statuses.items()}
    width = len(header)

    def cell(record: list[str], name: str) -> str:
        i = index.get(name)
        return record[i].strip() if i is not None else ""

    def bad(line: int, name: str, template: str, /, **params: object) -> None:
        out.error(line, mapping.columns[name], template, **params)
        if len(out.errors) >= MAX_ERRORS:
            raise out.fail(None, None, _("stopped after %(count)s problems"), count=MAX_ERRORS)

    try:
        for line, record in rows:
            if len(r.lines) >= limits.max_rows:
                raise too_many_rows(out.source, len(r.lines) + 1, limits.max_rows, exact=False)
            if len(record) != width:
                out.error(line, None, _("the row has %(cells)s cells, the header %(width)s"),
                          cells=len(record), width=width)
                if len(out.errors) >= MAX_ERRORS:
                    raise out.fail(None, None, _("stopped after %(count)s problems"),
                                   count=MAX_ERRORS)
                continue
            _one(line, record, cell, bad, parse, mapping, statuses, seen, r)
    except csv.Error as exc:
        out.errors.append(csv_problem(out.source, None, exc))
        raise InputError(list(out.errors)) from None
    return r


def _one(line: int, record: list[str], cell: Any, bad: Any, parse: _Parse,
         mapping: ReportMapping, statuses: Mapping[str, str], seen: dict[str, int],
         r: Reports) -> None:
    """Check one row; append it to ``r`` (whatever its errors: they stop the read later)."""
    external = cell(record, "external_id")
    if len(external) > MAX_EXTERNAL_ID:
        bad(line, "external_id", _("longer than %(limit)s characters"), limit=MAX_EXTERNAL_ID)
    elif external and external in seen:
        bad(line, "external_id", _("%(value)s is also on row %(row)s"), value=repr(external),
            row=seen[external])
    elif external:
        seen[external] = line
    kind = cell(record, "category")
    category = category_code(kind, mapping.categories) if kind else ""
    if not category:
        if not kind:
            bad(line, "category", _("this cell is empty"))
        else:
            bad(line, "category", _("%(value)s gives no category code"), value=repr(kind[:40]))
    elif len(category) > MAX_CATEGORY:
        bad(line, "category", _("the category is longer than %(limit)s characters"),
            limit=MAX_CATEGORY)
    state = "new"
    if "status" in mapping.columns:
        status = cell(record, "status")
        state = statuses.get(status.lower(), "")
        if not state:
            bad(line, "status", _("%(value)s is not a status of the mapping (%(statuses)s)"),
                value=repr(status[:40]), statuses=", ".join(sorted(statuses)))
    opened = closed = None
    deadline = None
    texts: dict[str, str] = {}
    for name in ("opened", "closed", "deadline"):
        value = cell(record, name)
        if not value:
            if name == "opened":
                bad(line, name, _("this cell is empty"))
            continue
        try:
            when = parse.when(value)
        except BadCellError as exc:
            bad(line, name, exc.template, **exc.params)
            continue
        texts[name] = value
        if name == "opened":
            opened = when
        elif name == "closed":
            closed = when
        else:
            deadline = when.date()
    if opened is not None and closed is not None and closed < opened - CLOSED_BEFORE_OPENED:
        bad(line, "closed", _("%(value)s is before the report was opened (%(opened)s)"),
            value=repr(texts["closed"][:40]), opened=repr(texts["opened"][:40]))
    lat, lon, flag = _position(line, cell(record, "latitude"), cell(record, "longitude"),
                               mapping, bad)
    address = cell(record, "address")
    if len(address) > MAX_ADDRESS:
        bad(line, "address", _("longer than %(limit)s characters"), limit=MAX_ADDRESS)
    text = cell(record, "text")
    if len(text) > MAX_TEXT:
        bad(line, "text", _("longer than %(limit)s characters"), limit=MAX_TEXT)
    r.lines.append(line)
    r.external_ids.append(external)
    r.categories.append(category)
    r.states.append(state)
    r.opened.append(opened or dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    r.closed.append(closed)
    r.deadlines.append(deadline)
    r.lat.append(lat)
    r.lon.append(lon)
    r.position_flags.append(flag)
    r.texts.append(text)
    r.addresses.append(address)


def _position(line: int, lat_text: str, lon_text: str, mapping: ReportMapping,
              bad: Any) -> tuple[float | None, float | None, str]:
    if not lat_text and not lon_text:
        return None, None, MISSING
    if not lat_text or not lon_text:
        bad(line, "latitude" if not lat_text else "longitude",
            _("empty, while the other coordinate is given"))
        return None, None, MISSING
    try:
        lat = _number(lat_text)
    except ValueError:
        bad(line, "latitude", _("%(value)s is not a number"), value=repr(lat_text[:40]))
        return None, None, MISSING
    try:
        lon = _number(lon_text)
    except ValueError:
        bad(line, "longitude", _("%(value)s is not a number"), value=repr(lon_text[:40]))
        return None, None, MISSING
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None, None, INVALID
    point = mapping.default_location
    if (point is not None and abs(lat - point[0]) <= DEFAULT_TOLERANCE
            and abs(lon - point[1]) <= DEFAULT_TOLERANCE):
        return None, None, DEFAULT_LOCATION
    return lat, lon, PLACED
