"""Text files: bytes to a decoded string, and CSV text to rows that know their line numbers.

Decoding is strict. A file that is not valid UTF-8 is reported with the byte, its offset and
its line, and a hint to pass ``encoding="latin-1"``; guessing silently would turn "Ø" into
"Ã\x98" in area names, which then fail to match much later and far from the cause. The one
sanctioned fallback is for exports whose format is known to be ISO-8859-1 (Statistics
Denmark's StatBank), which a reader asks for explicitly.

CSV parsing uses the standard library rather than pandas so that every record keeps the line
it starts on (a quoted cell may span lines) and every cell stays text: area codes keep their
leading zeros, and numbers are parsed later with errors that name the cell.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from typing import Any

from tryg.index.inputs import InputError, Problem
from tryg.index.inputs import mark as _
from tryg.readers import unreadable
from tryg.readers.limits import too_many_rows

DELIMITERS = (",", ";", "\t")


@dataclass
class RawTable:
    """Cells of a table as read, before any checking.

    ``rows[i]`` has one cell per header column (``None`` for empty); ``lines[i]`` is where it
    came from (file line, sheet row or case number). ``decimal_comma`` says that "1,5" means
    1.5 (semicolon-separated Danish exports).
    """

    source: str
    header: list[str]
    rows: list[list[Any]]
    lines: list[int]
    decimal_comma: bool = False
    encoding: str | None = None
    binary: bool = False
    header_line: int = 1
    attrs: dict[str, Any] = field(default_factory=dict)

    def index(self, column: str) -> int:
        return self.header.index(column)

    def column(self, column: str) -> list[Any]:
        i = self.header.index(column)
        return [r[i] for r in self.rows]


#: The encoding tried when a file is not UTF-8: Excel's "CSV" in Denmark.
WINDOWS_1252 = "cp1252"


def decode(
    data: bytes, source: str, encoding: str | None, *, fallback: str | None = None
) -> tuple[str, str]:
    """``data`` as text, and the encoding used.

    Without ``encoding``: a UTF-16 byte-order mark means UTF-16; otherwise UTF-8 (with or
    without BOM), falling back to ``fallback`` if one is given, else to Windows-1252 (what
    Excel writes in Denmark) when every byte is one it defines; else the UTF-8 error.
    Text with a NUL character is refused (:func:`_refuse_nul`), whatever the encoding.
    """
    text, name = _decoded(data, source, encoding, fallback)
    _refuse_nul(text, source)
    return text, name


def _refuse_nul(text: str, source: str) -> None:
    """No text file holds a NUL character: one means UTF-16 without its byte-order mark, a
    binary file (a workbook saved under a .csv name), or a damaged export. It is refused
    with its line and column rather than passed on (PostgreSQL refuses NUL in text, so it
    would fail only when the rows are written)."""
    at = text.find("\x00")
    if at < 0:
        return
    line = text.count("\n", 0, at) + 1
    column = _column_at(text.encode("utf-8"), len(text[:at].encode("utf-8")))
    raise InputError([Problem.of(
        source, line, column,
        _("the file holds a NUL character (byte 00), which no text file has: is it UTF-16 "
          "without a byte-order mark (save it as UTF-8), or not a text file at all?"))])


def _decoded(
    data: bytes, source: str, encoding: str | None, fallback: str | None
) -> tuple[str, str]:
    if encoding is not None:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            problem = Problem.of(source, None, None, _("unknown encoding %(encoding)s"),
                                 encoding=repr(encoding))
            raise InputError([problem]) from None
        try:
            text = data.decode(name)
        except UnicodeDecodeError as exc:
            raise InputError([_decode_problem(data, source, exc, name)]) from None
        return text.removeprefix("\ufeff"), name
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16").removeprefix("\ufeff"), "utf-16"
        except UnicodeDecodeError as exc:
            raise InputError([_decode_problem(data, source, exc, "utf-16")]) from None
    try:
        return data.decode("utf-8").removeprefix("\ufeff"), "utf-8"
    except UnicodeDecodeError as exc:
        if fallback is not None:
            return data.decode(fallback, errors="replace"), fallback
        try:
            return data.decode(WINDOWS_1252), WINDOWS_1252
        except UnicodeDecodeError:
            pass
        raise InputError([_decode_problem(data, source, exc, "utf-8")]) from None


def _column_at(data: bytes, position: int) -> str | None:
    """The header name of the CSV column holding byte ``position`` (best effort: a quoted
    cell spanning lines can mislead it), or ``None`` when the byte is in the header."""
    line_start = data.rfind(b"\n", 0, position) + 1
    header_bytes = data.lstrip(b"\xef\xbb\xbf\r\n").split(b"\n", 1)[0]
    if line_start == 0 or data.find(header_bytes) >= line_start:
        return None
    header = header_bytes.decode("utf-8", errors="replace").strip()
    delimiter = sniff_delimiter(header)
    try:
        names = next(csv.reader([header], delimiter=delimiter))
        prefix = data[line_start:position].decode("utf-8", errors="replace")
        fields = next(csv.reader([prefix + "x"], delimiter=delimiter))
    except (csv.Error, StopIteration):
        return None
    index = len(fields) - 1
    return names[index].strip() or None if index < len(names) else None


def _decode_problem(data: bytes, source: str, exc: UnicodeDecodeError, name: str) -> Problem:
    line = data[: exc.start].count(b"\n") + 1
    bad = data[exc.start : min(exc.end, exc.start + 4)].hex(" ").upper()
    readable = "UTF-8" if name == "utf-8" else name
    column = _column_at(data, exc.start) if name == "utf-8" else None
    template = (
        _("the file is not valid %(encoding)s: byte(s) %(bytes)s at byte offset %(offset)s "
          "(line %(line)s) cannot be decoded; if it was saved as ISO-8859-1 / Windows-1252 "
          "(common for Excel and StatBank exports), read it with encoding='latin-1'")
        if name in ("utf-8", "utf-16")
        else _("the file is not valid %(encoding)s: byte(s) %(bytes)s at byte offset "
               "%(offset)s (line %(line)s) cannot be decoded")
    )
    return Problem.of(source, line, column, template, encoding=readable, bytes=bad,
                      offset=exc.start, line=line)


def sniff_delimiter(first_line: str) -> str:
    """The delimiter of a header line: whichever of ``,`` ``;`` tab occurs most outside quotes."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in first_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def parse_csv(text: str, source: str, *, encoding: str | None = None,
              max_rows: int | None = None) -> RawTable:
    """Rows of CSV text with their starting line numbers; the header is the first non-blank
    record. Raises ``InputError`` for an empty file, a bad header or ragged rows, and for more
    than ``max_rows`` data rows (checked before the rows are kept)."""
    first = next((ln for ln in io.StringIO(text, newline="") if ln.strip()), None)
    if first is None:
        raise InputError([Problem.of(source, None, None, _("the file is empty"))])
    delimiter = sniff_delimiter(first)
    if max_rows is not None:
        _check_rows(text, source, delimiter, max_rows)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    records: list[tuple[int, list[str]]] = []
    previous = 0
    try:
        for record in reader:
            start, previous = previous + 1, reader.line_num
            if any(cell.strip() for cell in record):
                records.append((start, record))
    except csv.Error as exc:
        raise InputError([csv_problem(source, previous + 1, exc)]) from None
    return table_from_records(
        records, source, decimal_comma=delimiter == ";", encoding=encoding, binary=False
    )


def csv_problem(source: str, line: int | None, exc: csv.Error) -> Problem:
    """The csv module's refusal of the record starting at ``line``. With ``strict=False`` and
    NUL refused before parsing, what a user meets is a cell past the field size limit: a
    quotation mark left open, so that the cell runs on through the rest of the file. Anything
    else keeps the module's text as a technical detail."""
    if "field larger than field limit" in str(exc):
        return unreadable.long_cell(source, line, csv.field_size_limit())
    return unreadable.technical(source, unreadable.CSV, exc)


def _check_rows(text: str, source: str, delimiter: str, max_rows: int) -> None:
    """Refuse more than ``max_rows`` records after the header. Counting line breaks is cheap
    and enough when there are few; otherwise (a cell spanning lines, blank lines) the records
    are counted without keeping them, and the count stops at the limit."""
    breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
    if breaks <= max_rows:
        return
    records = 0
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                records += 1
                if records > max_rows + 1:
                    break
    except csv.Error:
        return  # the parse proper reports it, with its line
    if records > max_rows + 1:
        raise too_many_rows(source, max_rows + 1, max_rows, exact=False)


def cell_text(value: Any) -> str | None:
    """A header or label cell as stripped text (``None`` when empty)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, float) and value != value:  # NaN
        return None
    text = str(value).strip()
    return text or None


def table_from_records(
    records: list[tuple[int, list[Any]]],
    source: str,
    *,
    decimal_comma: bool = False,
    encoding: str | None = None,
    binary: bool = False,
) -> RawTable:
    """A table from (line, cells) records; the first record is the header.

    Checks that every column is named once and that every row has as many cells as the
    header (extra cells are accepted only when empty).
    """
    if not records:
        raise InputError([Problem.of(source, None, None, _("the file is empty"))])
    problems: list[Problem] = []
    header_line, raw_header = records[0]
    header = [cell_text(h) or "" for h in raw_header]
    width = len(header)
    body = records[1:]
    keep = list(range(width))
    for i, name in enumerate(header):
        if name:
            continue
        if any(i < len(cells) and cell_text(cells[i]) for _, cells in body):
            problems.append(Problem.of(source, header_line, None,
                                       _("column %(number)s has no name"), number=i + 1))
        keep.remove(i)
    seen: dict[str, int] = {}
    for i in keep:
        if header[i] in seen:
            problems.append(
                Problem.of(source, header_line, header[i], _("this column name appears twice"))
            )
        seen[header[i]] = i
    rows: list[list[Any]] = []
    lines: list[int] = []
    for line, cells in body:
        if len(cells) > width and any(cell_text(c) for c in cells[width:]):
            problems.append(
                Problem.of(source, line, None,
                           _("the row has %(cells)s cells but the header has %(width)s columns"),
                           cells=len(cells), width=width)
            )
            continue
        if len(cells) < width and not binary:
            problems.append(
                Problem.of(source, line, None,
                           _("the row has %(cells)s cells but the header has %(width)s columns"),
                           cells=len(cells), width=width)
            )
            continue
        padded = list(cells) + [None] * (width - len(cells))
        rows.append([_empty_to_none(padded[i]) for i in keep])
        lines.append(line)
    if problems:
        raise InputError(problems)
    return RawTable(
        source=source,
        header=[header[i] for i in keep],
        rows=rows,
        lines=lines,
        decimal_comma=decimal_comma,
        encoding=encoding,
        binary=binary,
        header_line=header_line,
    )


def _empty_to_none(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    return value
