"""What one file may cost a reader: rows, and for a ZIP-based file (XLSX, a zipped Shapefile)
the size it unpacks to.

A 5 MB workbook can unpack to gigabytes of XML, and a small CSV can hold more rows than the
machine has memory for. Every limit is checked before the expensive work starts: a ZIP's
central directory declares each member's unpacked and compressed size, so an archive that
would unpack past :attr:`Limits.max_unpacked_bytes`, or one of whose members is compressed at an
absurd ratio (a run of zeros, a zip bomb), is refused before a single member is decompressed.
The declared sizes may lie; Python's :mod:`zipfile` (which openpyxl reads through) then stops a
member at its declared size and fails its CRC check, so the declared total still bounds the
work. Rows are checked from what a file says about itself where it does (an XLSX sheet's
dimension, an SPSS header, a layer's feature count, a CSV's line breaks) and counted while
reading where it does not.

The readers take a :class:`Limits` (``limits=``) with the defaults below; the site passes the
configured ones (``TRYG_MAX_ROWS``, ``TRYG_MAX_UNPACKED_MB``).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tryg.index.inputs import InputError, Problem
from tryg.index.inputs import mark as _
from tryg.messages import Number

MIB = 1 << 20
#: An Excel sheet has at most this many rows; a row number past it is not a workbook's.
XLSX_MAX_ROWS = 1_048_576
#: An Excel sheet has at most this many columns.
XLSX_MAX_COLUMNS = 16_384


@dataclass(frozen=True)
class Limits:
    """Limits on one file read. ``max_rows`` counts data rows (records, answers, features);
    ``max_unpacked_bytes`` is the total a ZIP-based file may unpack to; a member larger than
    ``ratio_floor`` bytes whose unpacked size is more than ``max_ratio`` times its compressed
    size is refused (real workbooks and Shapefiles compress 2-20 times)."""

    max_rows: int = 20_000_000
    max_unpacked_bytes: int = 1024 * MIB
    max_ratio: float = 100.0
    ratio_floor: int = MIB

    @classmethod
    def from_megabytes(cls, *, max_rows: int, max_unpacked_mb: int) -> Limits:
        return cls(max_rows=max_rows, max_unpacked_bytes=max_unpacked_mb * MIB)


DEFAULT_LIMITS = Limits()


def _megabytes(n: int) -> Number:
    """``n`` bytes in MB with one decimal ("1,536.0 MB"; a Danish page "1.536,0 MB")."""
    return Number(n / MIB, 1, unit="MB")


#: What :func:`check_zip` may be checking.
ZipKind = Literal["XLSX workbook", "zipped Shapefile"]
#: The refusals of :func:`check_zip`, by what is checked: too large unpacked, and a zip bomb.
_UNPACKS_TO: dict[str, str] = {
    "XLSX workbook": _(
        "the XLSX workbook unpacks to %(total)s (its largest part, %(part)s, to %(size)s), "
        "more than the limit of %(limit)s (TRYG_MAX_UNPACKED_MB); nothing was unpacked"),
    "zipped Shapefile": _(
        "the zipped Shapefile unpacks to %(total)s (its largest part, %(part)s, to %(size)s), "
        "more than the limit of %(limit)s (TRYG_MAX_UNPACKED_MB); nothing was unpacked"),
}
_COMPRESSED: dict[str, str] = {
    "XLSX workbook": _(
        "the XLSX workbook's part %(part)s is compressed %(ratio)s to 1 (%(packed)s unpacking "
        "to %(size)s); real files compress far less than %(limit)s to 1, so this looks like a "
        "zip bomb and was not unpacked"),
    "zipped Shapefile": _(
        "the zipped Shapefile's part %(part)s is compressed %(ratio)s to 1 (%(packed)s "
        "unpacking to %(size)s); real files compress far less than %(limit)s to 1, so this "
        "looks like a zip bomb and was not unpacked"),
}


def check_zip(path: str | Path, limits: Limits, *, what: ZipKind) -> None:
    """Refuse a ZIP-based file (``what``: "XLSX workbook", "zipped Shapefile") whose central
    directory declares more than the limits allow. Reads the directory only: no member is
    decompressed. A file that is not a ZIP at all is left to the format's own reader."""
    source = str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    total = sum(m.file_size for m in members)
    if total > limits.max_unpacked_bytes:
        biggest = max(members, key=lambda m: m.file_size)
        raise InputError([Problem.of(
            source, None, None, _UNPACKS_TO[what], total=_megabytes(total),
            part=repr(biggest.filename), size=_megabytes(biggest.file_size),
            limit=_megabytes(limits.max_unpacked_bytes))])
    for m in members:
        if m.file_size > limits.ratio_floor and (
                m.file_size > limits.max_ratio * max(m.compress_size, 1)):
            ratio = m.file_size / max(m.compress_size, 1)
            raise InputError([Problem.of(
                source, None, None, _COMPRESSED[what], part=repr(m.filename),
                ratio=Number(ratio), packed=_megabytes(m.compress_size),
                size=_megabytes(m.file_size),
                limit=Number(limits.max_ratio, None, grouping=False))])


#: The refusals of :func:`too_many_rows`, by unit and whether the count is exact.
_TOO_MANY = {
    ("rows", True): _("the file has %(count)s rows, more than the limit of %(limit)s "
                      "(TRYG_MAX_ROWS); nothing was read"),
    ("rows", False): _("the file has at least %(count)s rows, more than the limit of "
                       "%(limit)s (TRYG_MAX_ROWS); nothing was read"),
    ("cases", True): _("the file has %(count)s cases, more than the limit of %(limit)s "
                       "(TRYG_MAX_ROWS); nothing was read"),
    ("features", True): _("the file has %(count)s features, more than the limit of "
                          "%(limit)s (TRYG_MAX_ROWS); nothing was read"),
}


def too_many_rows(source: str, rows: int, max_rows: int, *, exact: bool = True,
                  unit: str = "rows") -> InputError:
    """The error for a file with more than ``max_rows`` rows (``rows``: how many it has, or
    how many were counted before stopping when not ``exact``)."""
    template = _TOO_MANY.get((unit, exact))
    if template is not None:
        return InputError([Problem.of(source, None, None, template, count=Number(rows),
                                      limit=Number(max_rows))])
    have = f"{rows:,} {unit}" if exact else f"at least {rows:,} {unit}"
    return InputError([Problem(
        source, None, None,
        f"the file has {have}, more than the limit of {max_rows:,} (TRYG_MAX_ROWS); "
        "nothing was read")])
