"""The area hierarchy in a given year: who lies in what.

Areas form a directed graph, not a tree: a neighbourhood lies in a district and, in some
years, in a vulnerable housing area too (the police's list changes every year). Each link has
a validity period; :meth:`Hierarchy.ancestors` resolves the graph for one year into one column
per level. Two different ancestors at the same level in the same year are an error, because
an estimate for that level would then count the respondent twice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from tryg.index.inputs import AREA_COLUMNS, Areas, Problem, require_columns, source_of


@dataclass(frozen=True)
class Hierarchy:
    names: dict[str, str]
    level: dict[str, str]
    links: tuple[tuple[str, str, float, float], ...]  # child, parent, valid_from, valid_to
    levels: tuple[str, ...]  # top level first
    _cache: dict[int, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)
    #: ancestor tables by the set of links valid in a year (most years share one)
    _by_links: dict[bytes, pd.DataFrame] = field(default_factory=dict, repr=False,
                                                compare=False)
    #: per ancestor table: row of every area, the table as an object array
    _arrays: dict[int, tuple[dict[str, int], np.ndarray]] = field(
        default_factory=dict, repr=False, compare=False)
    _codes: dict[int, tuple[dict[str, int], list[str], np.ndarray, np.ndarray]] = field(
        default_factory=dict, repr=False, compare=False)
    _facts: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(
        default_factory=dict, repr=False, compare=False)

    def ancestors(self, year: int) -> pd.DataFrame:
        """One row per area, one column per level: the area itself at its own level, its
        ancestor (valid in ``year``) at the others, NaN where it has none."""
        if year in self._cache:
            return self._cache[year]
        lo, hi = self._periods
        with np.errstate(invalid="ignore"):
            valid = ((np.isnan(lo) | (lo <= year)) & (np.isnan(hi) | (year <= hi))).tolist()
        key = np.packbits(np.asarray(valid, dtype=bool)).tobytes()
        if key in self._by_links:
            self._cache[year] = self._by_links[key]
            return self._cache[year]
        parents: dict[str, list[str]] = defaultdict(list)
        for (child, parent, _, _), ok in zip(self.links, valid, strict=True):
            if ok:
                parents[child].append(parent)
        frame = self._ancestors_top_down(parents)
        if frame is None:
            frame = self._ancestors_walked(parents, year)
        self._cache[year] = self._by_links[key] = frame
        return frame

    def _ancestors_top_down(self, parents: dict[str, list[str]]) -> pd.DataFrame | None:
        """The ancestor table built level by level from the top: an area's ancestors are
        its parents and theirs, known once the levels above are done. ``None`` (and
        :meth:`_ancestors_walked` decides, with its messages) if a link does not lead to a
        higher level or an area has two ancestors at one level."""
        level, levels = self.level, self.levels
        depth = {lv: i for i, lv in enumerate(levels)}
        by_depth: list[list[str]] = [[] for _ in levels]
        for code in level:
            by_depth[depth[level[code]]].append(code)
        rows: dict[str, dict[str, str]] = {}
        for codes in by_depth:
            for code in codes:
                own = level[code]
                row = {own: code}
                for p in parents.get(code, ()):
                    lvl = level.get(p)
                    if lvl is None:
                        continue
                    if depth[lvl] >= depth[own]:
                        return None
                    for k, v in rows[p].items():
                        if row.setdefault(k, v) != v:
                            return None
                rows[code] = row
        ordered = [rows[code] for code in level]
        return pd.DataFrame({lv: [r.get(lv) for r in ordered] for lv in levels},
                            index=list(level))

    def _ancestors_walked(self, parents: dict[str, list[str]], year: int) -> pd.DataFrame:
        """The ancestor table by walking up from every area (any graph; names conflicts)."""
        table: dict[str, dict[str, str]] = {}
        problems: list[str] = []
        for code in self.level:
            row: dict[str, str] = {self.level[code]: code}
            stack, seen = list(parents.get(code, [])), {code}
            while stack:
                p = stack.pop()
                if p in seen:
                    continue
                seen.add(p)
                lvl = self.level.get(p)
                if lvl is None:
                    continue
                if lvl in row and row[lvl] != p:
                    problems.append(
                        f"{code} lies in both {row[lvl]} and {p} (level {lvl}) in {year}"
                    )
                row[lvl] = p
                stack.extend(parents.get(p, []))
            table[code] = row
        if problems:
            raise ValueError("; ".join(problems[:5]))
        return pd.DataFrame.from_dict(table, orient="index").reindex(columns=list(self.levels))

    @cached_property
    def _periods(self) -> tuple[np.ndarray, np.ndarray]:
        """valid_from and valid_to of every link, as arrays."""
        lo = np.array([link[2] for link in self.links], dtype=np.float64)
        hi = np.array([link[3] for link in self.links], dtype=np.float64)
        return lo, hi

    def _ancestor_array(self, year: int) -> tuple[dict[str, int], np.ndarray]:
        anc = self.ancestors(year)
        cached = self._arrays.get(id(anc))
        if cached is None:
            cached = ({str(c): i for i, c in enumerate(anc.index)}, anc.to_numpy(dtype=object))
            self._arrays[id(anc)] = cached
        return cached

    def _ancestor_codes(self, year: int) -> tuple[dict[str, int], list[str], np.ndarray,
                                                  np.ndarray]:
        """The ancestor table of ``year`` as numbers: row of every area, the areas, every
        row's ancestors as row numbers (-1: none), and each area's rank in text order."""
        row, table = self._ancestor_array(year)
        key = id(table)
        cached = self._codes.get(key)
        if cached is None:
            codes = list(row)
            flat = pd.Series(table.ravel()).map(row)
            ints = np.asarray(flat.fillna(-1).to_numpy(np.float64), dtype=np.int64)
            rank = np.empty(len(codes), dtype=np.int64)
            rank[np.argsort(np.asarray(codes, dtype=str), kind="stable")] = np.arange(len(codes))
            cached = (row, codes, ints.reshape(table.shape), rank)
            self._codes[key] = cached
        return cached

    @cached_property
    def _parents(self) -> frozenset[str]:
        return frozenset(p for _, p, _, _ in self.links)

    def roll_up(self, own: dict[str, float], year: int) -> dict[str, float]:
        """Values for every area in ``year``: its own, or else the sum over the *leaf* areas
        below it (valid that year) that have their own. Summing leaves only means a table
        with figures at two levels is never counted twice."""
        row, codes, table, rank = self._ancestor_codes(year)
        parents = self._parents
        leaves = [c for c in own if c not in parents and c in row]
        total = dict(own)
        if not leaves:
            return total
        leaf_rows = np.array([row[c] for c in leaves], dtype=np.int64)
        has_own = np.zeros(len(codes) + 1, dtype=bool)
        has_own[[row[c] for c in own if c in row]] = True
        above = table[leaf_rows]  # leaves × levels
        amount = np.repeat(np.array([own[c] for c in leaves], dtype=np.float64),
                           above.shape[1])
        above = above.ravel()
        source = np.repeat(leaf_rows, table.shape[1])
        keep = (above >= 0) & (above != source) & ~has_own[above]
        sums = np.bincount(above[keep], weights=amount[keep], minlength=len(codes))
        hit = np.flatnonzero(np.bincount(above[keep], minlength=len(codes)) > 0)
        hit = hit[np.argsort(rank[hit], kind="stable")]
        total.update(zip([codes[i] for i in hit], sums[hit].tolist(), strict=True))
        return total

    def rows_of(self, codes: np.ndarray, year: int) -> np.ndarray:
        """Every code's row in the ancestor table of ``year`` (-1: not an area), for
        :meth:`roll_up_rows`."""
        row = self._ancestor_codes(year)[0]
        return np.fromiter((row.get(c, -1) for c in codes.tolist()), dtype=np.int64,
                           count=len(codes))

    def roll_up_rows(self, rows: np.ndarray, amounts: np.ndarray, year: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`roll_up` on numbers: ``rows`` (:meth:`rows_of`) and ``amounts`` of the areas
        with values of their own; the areas that get a sum of leaves (as codes, an object
        array, in :meth:`roll_up`'s order; and as rows) and those sums, the same numbers
        added in the same order. Also each area's level (object array) for the areas given
        then the summed ones (``None``: not an area)."""
        _, codes, table, rank = self._ancestor_codes(year)
        is_parent, levels, code_arr = self._row_facts(year)
        rows = np.asarray(rows, dtype=np.int64)
        known = rows >= 0
        leaf = known & ~is_parent[np.maximum(rows, 0)]
        leaf_rows = rows[leaf]
        hit: np.ndarray = np.zeros(0, dtype=np.int64)
        sums: np.ndarray = np.zeros(0)
        if len(leaf_rows):
            has_own = np.zeros(len(codes) + 1, dtype=bool)
            has_own[rows[known]] = True
            amount = np.asarray(amounts, dtype=np.float64)[leaf]
            above = table[leaf_rows]  # leaves × levels
            amount = np.repeat(amount, above.shape[1])
            above = above.ravel()
            source = np.repeat(leaf_rows, table.shape[1])
            keep = (above >= 0) & (above != source) & ~has_own[above]
            total = np.bincount(above[keep], weights=amount[keep], minlength=len(codes))
            hit = np.flatnonzero(np.bincount(above[keep], minlength=len(codes)) > 0)
            hit = hit[np.argsort(rank[hit], kind="stable")]
            sums = total[hit]
        level = np.concatenate([np.where(known, levels[np.maximum(rows, 0)], None), levels[hit]])
        return code_arr[hit], hit, np.asarray(sums, dtype=np.float64), level

    def table_id(self, year: int) -> int:
        """The same number for years that share an ancestor table (and so :meth:`rows_of`)."""
        return id(self._ancestor_codes(year)[2])

    def _row_facts(self, year: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row of ``year``'s ancestor table: whether it is anyone's parent, its level, its
        code (object arrays but the first)."""
        _, codes, table, _ = self._ancestor_codes(year)
        cached = self._facts.get(id(table))
        if cached is None:
            parents = self._parents
            cached = (np.array([c in parents for c in codes], dtype=bool),
                      np.array([self.level.get(c) for c in codes], dtype=object),
                      np.array(codes, dtype=object))
            self._facts[id(table)] = cached
        return cached

    def parent_level(self, level: str) -> str | None:
        """The level that partitions ``level`` (every area has a parent there), nearest first."""
        members = [c for c, lv in self.level.items() if lv == level]
        by_level: dict[str, set[str]] = defaultdict(set)
        for child, parent, _, _ in self.links:
            if self.level.get(child) == level and parent in self.level:
                by_level[self.level[parent]].add(child)
        full = [lv for lv, kids in by_level.items() if len(kids) == len(members)]
        if not full:
            return None
        return max(full, key=self.levels.index)


def build_hierarchy(areas: Areas) -> tuple[Hierarchy | None, list[Problem]]:
    """Validate the area list and links; order the levels from the top down."""
    a, links = areas.areas, areas.links
    src = source_of(a)
    problems = require_columns(a, AREA_COLUMNS, "the area list")
    if problems:
        return None, problems
    codes = a["code"].astype(str)
    dup = codes.duplicated(keep=False) & a.duplicated(["code", "level"], keep=False)
    for i in np.flatnonzero(dup.to_numpy())[:10]:
        problems.append(
            Problem(src, int(a.index[i]), "code", f"area {codes.iloc[i]!r} is listed twice")
        )
    level = dict(zip(codes, a["level"].astype(str), strict=True))
    names = dict(zip(codes, a["name"].astype(str), strict=True))
    link_rows: list[tuple[str, str, float, float]] = []
    lsrc = source_of(links) or src
    nan = pd.Series(np.nan, index=links.index)
    for idx, child_raw, parent_raw, valid_from, valid_to in zip(
        links.index, links["code"], links["parent"], links.get("valid_from", nan),
        links.get("valid_to", nan), strict=True,
    ):
        if pd.isna(parent_raw) or parent_raw == "":
            continue
        child, parent = str(child_raw), str(parent_raw)
        for code, col in ((child, "code"), (parent, "parent")):
            if code not in level:
                problems.append(
                    Problem(
                        lsrc,
                        int(idx) if isinstance(idx, (int, np.integer)) else None,
                        col,
                        f"area {code!r} is not in the area list",
                    )
                )
        lo = float(valid_from) if pd.notna(valid_from) else np.nan
        hi = float(valid_to) if pd.notna(valid_to) else np.nan
        link_rows.append((child, parent, lo, hi))
    if problems:
        return None, problems
    depth: dict[str, int] = {}
    edges = defaultdict(set)
    for child, parent, _, _ in link_rows:
        edges[level[child]].add(level[parent])

    def d(lv: str, seen: frozenset[str] = frozenset()) -> int:
        if lv in seen:
            return 0
        if lv not in depth:
            depth[lv] = 1 + max((d(p, seen | {lv}) for p in edges.get(lv, ())), default=-1)
        return depth[lv]

    all_levels = sorted(set(level.values()), key=lambda lv: (d(lv), lv))
    return Hierarchy(names, level, tuple(link_rows), tuple(all_levels)), []
