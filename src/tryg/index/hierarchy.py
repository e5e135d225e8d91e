"""The area hierarchy in a given year: who lies in what.

Areas form a directed graph, not a tree: a neighbourhood lies in a district and, in some
years, in a vulnerable housing area too (the police's list changes every year). Each link has
a validity period; :meth:`Hierarchy.ancestors` resolves the graph for one year into one column
per level. Two different ancestors at the same level in the same year are an error, because
an estimate for that level would then count the respondent twice. The links may not form a
cycle (an area its own parent, or its own ancestor): :func:`parent_cycles` finds them, for
:func:`build_hierarchy` and for the area import alike, with the same message.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from pandas.api.types import is_complex_dtype, is_numeric_dtype
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from tryg.index.inputs import AREA_COLUMNS, Areas, Problem, require_columns, source_of
from tryg.index.inputs import mark as _


class _Table:
    """One ancestor table: ``rows`` (areas × levels, top level first) holds row numbers into
    the hierarchy's areas (-1: none); ``frame`` is the :meth:`Hierarchy.ancestors` form, built
    on first use (most callers only need the numbers)."""

    __slots__ = ("frame", "rows")

    def __init__(self, rows: np.ndarray, frame: pd.DataFrame | None = None) -> None:
        self.rows = rows
        self.frame = frame


@dataclass(frozen=True)
class Hierarchy:
    names: dict[str, str]
    level: dict[str, str]
    links: tuple[tuple[str, str, float, float], ...]  # child, parent, valid_from, valid_to
    levels: tuple[str, ...]  # top level first
    _cache: dict[int, _Table] = field(default_factory=dict, repr=False, compare=False)
    #: ancestor tables by the set of links valid in a year (most years share one)
    _by_links: dict[bytes, _Table] = field(default_factory=dict, repr=False, compare=False)

    def ancestors(self, year: int) -> pd.DataFrame:
        """One row per area, one column per level: the area itself at its own level, its
        ancestor (valid in ``year``) at the others, NaN where it has none."""
        table = self._table(year)
        if table.frame is None:
            # the codes, with None last so that row -1 ("none") picks it
            codes = np.concatenate([self._code_array, np.array([None], dtype=object)])
            table.frame = pd.DataFrame(
                {lv: codes[table.rows[:, i]].tolist() for i, lv in enumerate(self.levels)},
                index=list(self.level))
        return table.frame

    def ancestor_rows(self, year: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`ancestors` as numbers: the area codes in row order, and per area (row) ×
        level (top first) the row of its ancestor valid in ``year`` (-1: none)."""
        return self._code_array, self._table(year).rows

    def _table(self, year: int) -> _Table:
        """The ancestor table of ``year``: one per set of valid links, so years that share
        their links share the object (and :meth:`ancestors` its frame)."""
        cached = self._cache.get(year)
        if cached is not None:
            return cached
        lo, hi = self._periods
        with np.errstate(invalid="ignore"):
            valid = (np.isnan(lo) | (lo <= year)) & (np.isnan(hi) | (year <= hi))
        key = np.packbits(valid).tobytes()
        table = self._by_links.get(key)
        if table is None:
            rows = self._ancestors_top_down(valid)
            if rows is None:
                parents: dict[str, list[str]] = defaultdict(list)
                for (child, parent, _lo, _hi), ok in zip(self.links, valid.tolist(), strict=True):
                    if ok:
                        parents[child].append(parent)
                frame = self._ancestors_walked(parents, year)
                rows = np.column_stack([self._index.get_indexer(pd.Index(frame[lv]))
                                        for lv in self.levels]).astype(np.int64)
                table = _Table(rows, frame)
            else:
                table = _Table(rows)
            self._by_links[key] = table
        self._cache[year] = table
        return table

    def _ancestors_top_down(self, valid: np.ndarray) -> np.ndarray | None:
        """The ancestor table (as row numbers) built level by level from the top: an area's
        ancestors are its parents' and theirs, known once the levels above are done. ``None``
        (and :meth:`_ancestors_walked` decides, with its messages) if a link does not lead to
        a higher level or an area has two ancestors at one level."""
        child, parent = self._link_rows
        depth = self._depth
        use = valid & (child >= 0) & (parent >= 0)  # links between listed areas
        child, parent = child[use], parent[use]
        if (depth[parent] >= depth[child]).any():
            return None
        n, n_levels = len(depth), len(self.levels)
        table = np.full((n, n_levels), -1, dtype=np.int64)
        table[np.arange(n), depth] = np.arange(n)
        # per area and level the largest and the smallest ancestor its parents bring (parents
        # lie higher, so they bring nothing at the area's own level or below): two different
        # ones are a conflict
        low = np.full((n, n_levels), n, dtype=np.int64)
        for d in range(1, n_levels):
            at = depth[child] == d
            if not at.any():
                continue
            kids, above = child[at], table[parent[at]]
            np.maximum.at(table, kids, above)
            np.minimum.at(low, kids, np.where(above >= 0, above, n))
        if ((low < n) & (low != table)).any():
            return None
        return table

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

    @cached_property
    def _index(self) -> pd.Index:
        """The areas in their listed order: a code's position is its row."""
        return pd.Index(list(self.level))

    @cached_property
    def _code_array(self) -> np.ndarray:
        return np.array(list(self.level), dtype=object)

    @cached_property
    def _depth(self) -> np.ndarray:
        """Every area's level as its position in :attr:`levels` (0: the top)."""
        depth = {lv: i for i, lv in enumerate(self.levels)}
        return np.array([depth[lv] for lv in self.level.values()], dtype=np.int64)

    @cached_property
    def _link_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Every link's child and parent as rows (-1: not a listed area)."""
        return (np.asarray(self._index.get_indexer(pd.Index([link[0] for link in self.links])),
                           dtype=np.int64),
                np.asarray(self._index.get_indexer(pd.Index([link[1] for link in self.links])),
                           dtype=np.int64))

    @cached_property
    def _rank(self) -> np.ndarray:
        """Every area's rank in text order."""
        rank = np.empty(len(self.level), dtype=np.int64)
        rank[np.argsort(np.asarray(list(self.level), dtype=str), kind="stable")] = np.arange(
            len(self.level))
        return rank

    def rows_of(self, codes: np.ndarray, year: int) -> np.ndarray:
        """Every code's row in the ancestor table of ``year`` (-1: not an area), for
        :meth:`roll_up_rows`."""
        self._table(year)  # (the year's links must resolve: raises as ancestors() does)
        return np.asarray(self._index.get_indexer(pd.Index(codes)), dtype=np.int64)

    def roll_up_rows(self, rows: np.ndarray, amounts: np.ndarray, year: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Values for the areas without their own in ``year``: the sum over the *leaf* areas
        below them (valid that year) that have their own (summing leaves only means a table
        with figures at two levels is never counted twice).

        ``rows`` (:meth:`rows_of`) and ``amounts``: the areas with values of their own.
        Returns the areas that get a sum of leaves (as codes, an object array, in text order;
        and as rows), those sums, and each area's level (object array) for the areas given
        then the summed ones (``None``: not an area)."""
        table, rank = self._table(year).rows, self._rank
        is_parent, levels, code_arr = self._facts
        n_areas = len(code_arr)
        rows = np.asarray(rows, dtype=np.int64)
        known = rows >= 0
        leaf = known & ~is_parent[np.maximum(rows, 0)]
        leaf_rows = rows[leaf]
        hit: np.ndarray = np.zeros(0, dtype=np.int64)
        sums: np.ndarray = np.zeros(0)
        if len(leaf_rows):
            has_own = np.zeros(n_areas + 1, dtype=bool)
            has_own[rows[known]] = True
            amount = np.asarray(amounts, dtype=np.float64)[leaf]
            above = table[leaf_rows]  # leaves × levels
            amount = np.repeat(amount, above.shape[1])
            above = above.ravel()
            source = np.repeat(leaf_rows, table.shape[1])
            keep = (above >= 0) & (above != source) & ~has_own[above]
            total = np.bincount(above[keep], weights=amount[keep], minlength=n_areas)
            hit = np.flatnonzero(np.bincount(above[keep], minlength=n_areas) > 0)
            hit = hit[np.argsort(rank[hit], kind="stable")]
            sums = total[hit]
        level = np.concatenate([np.where(known, levels[np.maximum(rows, 0)], None), levels[hit]])
        return code_arr[hit], hit, np.asarray(sums, dtype=np.float64), level

    def table_id(self, year: int) -> int:
        """The same number for years that share an ancestor table (and so :meth:`rows_of`)."""
        return id(self._table(year).rows)

    @cached_property
    def _facts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row of every ancestor table (the rows are the areas): whether it is anyone's
        parent, its level, its code (object arrays but the first)."""
        is_parent = np.zeros(len(self.level), dtype=bool)
        parent = self._link_rows[1]
        is_parent[parent[parent >= 0]] = True
        return (is_parent, np.array(list(self.level.values()), dtype=object),
                self._code_array)

    def parent_level(self, level: str) -> str | None:
        """The level that partitions ``level`` (every area has a parent there), nearest first."""
        return self._parent_levels.get(level)

    @cached_property
    def _parent_levels(self) -> dict[str, str]:
        """:meth:`parent_level` of every level that has one, in one pass over the links."""
        members: dict[str, int] = defaultdict(int)
        for lv in self.level.values():
            members[lv] += 1
        kids: dict[tuple[str, str], set[str]] = defaultdict(set)  # (level, parent level)
        for child, parent, _lo, _hi in self.links:
            if child in self.level and parent in self.level:
                kids[(self.level[child], self.level[parent])].add(child)
        out: dict[str, str] = {}
        for (lv, plv), children in kids.items():
            if len(children) == members[lv] and (
                lv not in out or self.levels.index(plv) > self.levels.index(out[lv])
            ):
                out[lv] = plv
        return out


def parent_cycles(children: Sequence[str], parents: Sequence[str]
                  ) -> list[tuple[int, str, dict[str, object]]]:
    """The cycles among the links ``children[i]`` → ``parents[i]``: for each, the position of
    its first link and a message naming the areas around it (``"area 'A' is its own
    ancestor: A → B → A"``; an area its own parent is a cycle of one link).

    The strongly connected components of the link graph (:mod:`scipy.sparse.csgraph`) hold
    the cycles; one cycle of each is named, found by following its first link's parent
    within the component.
    """
    codes, index = np.unique(np.asarray([*children, *parents], dtype=object).astype(str),
                             return_inverse=True)
    n_links = len(children)
    child, parent = index[:n_links], index[n_links:]
    out: list[tuple[int, str, dict[str, object]]] = []
    for i in np.flatnonzero(child == parent).tolist():
        out.append((i, _("area %(code)s cannot be its own parent"),
                    {"code": repr(str(codes[child[i]]))}))
    if n_links == 0:
        return out
    graph = coo_array((np.ones(n_links), (child, parent)), shape=(len(codes), len(codes)))
    _count, component = connected_components(graph, directed=True, connection="strong")
    inside = (component[child] == component[parent]) & (child != parent)
    size = np.bincount(component)
    done: set[int] = set()
    for i in np.flatnonzero(inside).tolist():
        group = int(component[child[i]])
        if group in done or size[group] < 2:
            continue
        done.add(group)
        step = {int(c): int(p) for c, p in zip(child[inside], parent[inside], strict=True)
                if component[c] == group}
        path, at = [int(child[i])], int(parent[i])
        while at not in path:  # every area of the component has a parent within it
            path.append(at)
            at = step[at]
        cycle = [*path[path.index(at):], at]
        names = [str(codes[c]) for c in cycle]
        out.append((i, _("area %(code)s is its own ancestor: %(cycle)s (the parents form a "
                         "cycle)"), {"code": repr(names[0]), "cycle": " → ".join(names)}))
    return sorted(out, key=lambda found: (found[0], found[1]))


def build_hierarchy(areas: Areas) -> tuple[Hierarchy | None, list[Problem]]:
    """Validate the area list and links; order the levels from the top down."""
    a, links = areas.areas, areas.links
    src = source_of(a)
    problems = require_columns(a, AREA_COLUMNS, _("the area list needs a column %(column)s"))
    if problems:
        return None, problems
    codes = a["code"].astype(str)
    dup = codes.duplicated(keep=False) & a.duplicated(["code", "level"], keep=False)
    for i in np.flatnonzero(dup.to_numpy())[:10]:
        problems.append(
            Problem.of(src, int(a.index[i]), "code", _("area %(code)s is listed twice"),
                       code=repr(codes.iloc[i]))
        )
    code_list = codes.tolist()
    level = dict(zip(code_list, a["level"].astype(str).tolist(), strict=True))
    names = dict(zip(code_list, a["name"].astype(str).tolist(), strict=True))
    lsrc = source_of(links) or src
    child_col, parent_col = links["code"], links["parent"]
    # links without a parent are skipped: NaN, or else the empty text
    blank = parent_col.isna().to_numpy(dtype=bool, copy=True)
    blank[~blank] = (parent_col[~blank] == "").to_numpy(dtype=bool)
    kept = np.flatnonzero(~blank)
    child_vals, parent_vals = child_col.tolist(), parent_col.tolist()
    children = [str(child_vals[i]) for i in kept.tolist()]
    parents = [str(parent_vals[i]) for i in kept.tolist()]
    for i in np.flatnonzero([c not in level or p not in level
                             for c, p in zip(children, parents, strict=True)]).tolist():
        idx = links.index[kept[i]]
        for code, col in ((children[i], "code"), (parents[i], "parent")):
            if code not in level:
                problems.append(
                    Problem.of(lsrc, int(idx) if isinstance(idx, (int, np.integer)) else None,
                               col, _("area %(code)s is not in the area list"), code=repr(code))
                )
    for i, template, params in parent_cycles(children, parents):
        idx = links.index[kept[i]]
        problems.append(Problem.of(lsrc, int(idx) if isinstance(idx, (int, np.integer)) else None,
                                   "parent", template, **params))
    lo, hi = _link_periods(links, kept)
    link_rows = list(zip(children, parents, lo, hi, strict=True))
    if problems:
        return None, problems
    depth: dict[str, int] = {}
    edges = defaultdict(set)
    for child, parent, _lo, _hi in link_rows:
        edges[level[child]].add(level[parent])

    def d(lv: str, seen: frozenset[str] = frozenset()) -> int:
        if lv in seen:
            return 0
        if lv not in depth:
            depth[lv] = 1 + max((d(p, seen | {lv}) for p in edges.get(lv, ())), default=-1)
        return depth[lv]

    all_levels = sorted(set(level.values()), key=lambda lv: (d(lv), lv))
    return Hierarchy(names, level, tuple(link_rows), tuple(all_levels)), []


def _link_periods(links: pd.DataFrame, rows: np.ndarray) -> tuple[list[float], list[float]]:
    """``valid_from`` and ``valid_to`` of the links at ``rows`` as floats, NaN (the one
    ``np.nan``) where open or absent. Numeric columns convert at once; others value by value,
    row by row, so that a bad value raises as ``float()`` does at the first bad row."""
    columns = [links.get(c) for c in ("valid_from", "valid_to")]
    if all(c is None or (is_numeric_dtype(c) and not is_complex_dtype(c)) for c in columns):
        out: list[list[float]] = []
        for c in columns:
            if c is None:
                out.append([np.nan] * len(rows))
            else:
                values = c.to_numpy(dtype=np.float64, na_value=np.nan)[rows].tolist()
                out.append([np.nan if v != v else v for v in values])
        return out[0], out[1]
    picked = [[np.nan] * len(rows) if c is None else c.to_numpy(dtype=object)[rows].tolist()
              for c in columns]
    lo: list[float] = []
    hi: list[float] = []
    for valid_from, valid_to in zip(picked[0], picked[1], strict=True):
        lo.append(float(valid_from) if pd.notna(valid_from) else np.nan)
        hi.append(float(valid_to) if pd.notna(valid_to) else np.nan)
    return lo, hi
