"""Area names to area codes, and each area's ancestors in a year.

Statistics Denmark's tables name areas; the boundary files and the survey use codes. Names
differ between tables in small ways, so matching is on a normalised form (case, spaces,
hyphens, a trailing "Kommune") plus a short alias table for the English StatBank export.

Differences found between the real files in shared data (STRAF11 English export, the
FOLK1A-derived population table, DAGI 2014 KOMNAVN), all 98 kommuner plus Christiansø:

* STRAF11 "Copenhagen" = DAGI "København" (the English export translates this one name);
* STRAF11 and FOLK1A "Høje-Taastrup" = DAGI "Høje Taastrup" (hyphen vs space);
* every other kommune name is spelled identically in all three; Christiansø (0411) is in
  all three;
* STRAF11 also has 5 rows "Region Hovedstaden" … "Region Nordjylland" and "Unknown
  municipality": aggregates, reported as warnings rather than matched.

Pure: no files. Problems name the source and row when the caller passes them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tryg.index.hierarchy import build_hierarchy
from tryg.index.inputs import Areas, InputError, Problem
from tryg.index.inputs import mark as _

# Normalised alias → normalised name as DAGI / Danish StatBank spell it.
ALIASES: dict[str, str] = {
    "copenhagen": "københavn",
    "elsinore": "helsingør",
    "århus": "aarhus",
    "brønderslev dronninglund": "brønderslev",
    "bornholms regionskommune": "bornholm",
}
# Rows of StatBank tables that sum several areas or hold unplaced records.
AGGREGATE_PREFIXES = ("region ", "unknown municipality", "all denmark", "hele landet",
                      "uoplyst", "landsdel ")
MAY_BE_ABSENT = frozenset({"christiansø"})
_DASHES = re.compile(r"[\-\u2010-\u2015\u2212_]+")
_SPACES = re.compile(r"\s+")
_SUFFIX = re.compile(r"\s+(kommune|municipality)$")


def normalise_name(name: str) -> str:
    """A name in the form used for matching: NFC, case-folded, hyphens as spaces, single
    spaces, no trailing "kommune"/"municipality"."""
    return _SUFFIX.sub("", _plain(name))


def _plain(name: str) -> str:
    text = unicodedata.normalize("NFC", name).casefold().strip()
    return _SPACES.sub(" ", _DASHES.sub(" ", text)).strip()


@dataclass(frozen=True)
class Reconciled:
    """The outcome of matching names to codes, position by position.

    ``codes[i]`` is the code for ``names[i]``, or ``None`` (an aggregate row, or unmatched).
    ``problems`` are names that match nothing or several areas: errors. ``aggregates`` are the
    known aggregate rows (regions, "Unknown municipality", Christiansø when the areas lack
    it): warnings, one per distinct name.
    """

    codes: tuple[str | None, ...]
    problems: tuple[Problem, ...]
    aggregates: tuple[Problem, ...]

    def mapping(self, names: Sequence[str]) -> dict[str, str]:
        """Name → code for the names that matched."""
        return {n: c for n, c in zip(names, self.codes, strict=True) if c is not None}


def reconcile_names(
    names: Sequence[str],
    areas: Areas,
    *,
    level: str | None = None,
    source: str = "",
    rows: Sequence[int] | None = None,
    column: str = "area_name",
) -> Reconciled:
    """Match Statistics Denmark style area names to the codes in ``areas`` (at ``level``).

    ``rows`` (e.g. the file line numbers of the names) locate the problems; each distinct
    name is reported once, at its first row.
    """
    table = areas.areas
    if level is not None:
        table = table[table["level"].astype(str) == level]
    by_name: dict[str, list[str]] = {}
    for code, name in zip(table["code"].astype(str), table["name"].astype(str), strict=True):
        codes = by_name.setdefault(normalise_name(name), [])
        if code not in codes:
            codes.append(code)
    found: dict[str, str | None] = {}
    problems: list[Problem] = []
    aggregates: list[Problem] = []
    out: list[str | None] = []
    for i, raw in enumerate(names):
        if raw not in found:
            row = int(rows[i]) if rows is not None else None
            found[raw] = _match(str(raw), by_name, source, row, column, problems, aggregates)
        out.append(found[raw])
    return Reconciled(tuple(out), tuple(problems), tuple(aggregates))


def _match(
    raw: str,
    by_name: dict[str, list[str]],
    source: str,
    row: int | None,
    column: str,
    problems: list[Problem],
    aggregates: list[Problem],
) -> str | None:
    key = normalise_name(raw)
    candidates = by_name.get(key) or by_name.get(ALIASES.get(key, key)) or []
    if len(candidates) == 1:
        return candidates[0]
    if len(candidates) > 1:
        problems.append(Problem.of(source, row, column,
                                   _("%(name)s matches several areas %(candidates)s: give a "
                                     "level"), name=repr(raw), candidates=str(candidates)))
        return None
    plain = _plain(raw)
    if plain.startswith(AGGREGATE_PREFIXES) or plain in MAY_BE_ABSENT:
        aggregates.append(Problem.of(source, row, column,
                                     _("%(name)s is an aggregate or unplaced row, not an area: "
                                       "left out"), name=repr(raw)))
        return None
    problems.append(Problem.of(source, row, column, _("%(name)s matches no area"),
                               name=repr(raw)))
    return None


def hierarchy(areas: Areas, year: int) -> dict[str, pd.Series]:
    """For each level, a Series area code → its ancestor (or itself) at that level in
    ``year``, over the areas that have one.

    Links are followed transitively and only while valid in ``year`` (``valid_from`` <= year
    <= ``valid_to``, open ends allowed). Two ancestors at one level in one year is an error,
    because an estimate for that level would count the area twice. This is a thin view of
    :class:`tryg.index.hierarchy.Hierarchy`, which does the validation.
    """
    built, problems = build_hierarchy(areas)
    if built is None:
        raise InputError(problems)
    try:
        frame = built.ancestors(year)
    except ValueError as exc:
        raise InputError([Problem(str(areas.links.attrs.get("source", "")), None, "parent",
                                  str(exc))]) from None
    return {level: frame[level].dropna().astype(str) for level in frame.columns}


@dataclass(frozen=True)
class NamedTable:
    """A table keyed by area names, with ``area_code`` in their place
    (:func:`codes_for_names`): ``problems`` are errors, ``warnings`` the aggregate rows left
    out."""

    table: pd.DataFrame
    problems: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()


def codes_for_names(frame: pd.DataFrame, areas: Areas) -> NamedTable:
    """A table read with area names (Statistics Denmark's STRAF11, FOLK1A), with
    ``area_code`` in place of ``area_name``, matched by :func:`reconcile_names`.

    Aggregate rows ("Region ...", "Unknown municipality") are dropped with a warning; a name
    that matches no area (or several), and two names for one area (which would be summed
    silently), are problems located at the name's first row (``frame.index`` holds the file's
    line numbers, ``frame.attrs["source"]`` its name). A table that has codes is returned as
    it is.
    """
    if "area_name" not in frame.columns or "area_code" in frame.columns:
        return NamedTable(frame)
    source = str(frame.attrs.get("source", ""))
    # Each distinct name is matched once, located at its first row (a STRAF11 table has
    # ~500,000 cells but ~100 names).
    which, names = pd.factorize(frame["area_name"].astype(object), use_na_sentinel=False)
    _codes, first = np.unique(which, return_index=True)
    first_line = [int(frame.index[i]) for i in first]
    matched = reconcile_names([str(n) for n in names], areas, source=source, rows=first_line)
    problems = list(matched.problems)
    named: dict[str, int] = {}
    for k, code in enumerate(matched.codes):
        if code is None:
            continue
        if code in named:
            j = named[code]
            problems.append(Problem.of(source, first_line[k], "area_name",
                                       _("%(name)s and %(other)s (row %(row)s) are both area "
                                         "%(code)s"), name=repr(names[k]),
                                       other=repr(names[j]), row=first_line[j], code=repr(code)))
        else:
            named[code] = k
    codes = np.asarray(matched.codes, dtype=object)[which]
    keep = pd.notna(codes)
    out = frame.loc[keep].copy()
    out.insert(0, "area_code", codes[keep])
    out = out.drop(columns="area_name")
    out.attrs["source"] = source
    return NamedTable(out, tuple(problems), matched.aggregates)
