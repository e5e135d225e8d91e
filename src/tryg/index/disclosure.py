"""Disclosure control: what must be withheld so that no hidden figure can be worked out.

The primary rules hide what is too small to publish: survey estimates below ``min_n``, register
counts of at most ``small_count`` (shown as "< 5"), and the sample size behind a model-based
small-area estimate. Hiding a figure is not enough when the published figures around it give it
back. A statistics office protects a hidden cell in three ways (τ-ARGUS, R's ``sdcTable``), and
so does this step:

* **Secondary (complementary) suppression of what sums.** Counts and sample sizes add up in
  every hierarchy (a parent's count is the sum of its children's), and a sample size is the
  same for every measure of one question: with exactly one hidden cell in such a relation, the
  parent minus the published children gives it back. Which other cells to hide is a small
  optimisation problem: hide as little as possible (cost: the cell's size, so small cells go
  before large ones) such that no relation holds exactly one hidden cell. It is solved per wave
  as a mixed-integer programme with HiGHS (:func:`scipy.optimize.milp`); an audit then checks
  every relation with the bounds a reader knows (a hidden small count lies in 0–4, a hidden
  sample in 0–min_n−1, a secondary one is at least as large as what is published), and any
  cell that the bounds would still pin down gets a further cut and the programme is solved
  again.
* **Measures that are linear in one another** (the composite is a weighted mean of its
  sub-indices with weights the spec publishes; the shares of one question's categories add up
  to 1): a relation with exactly one hidden estimate gets a second one hidden (the composite
  first, else the smallest sample).
* **Comparisons are published only when both sides are**: the change since the previous wave
  when the previous wave's estimate is published too, the change against the pooled earlier
  waves when every pooled wave is, and the difference from the rest of the parent area when
  the parent is published and the rest is not made up of hidden areas alone. A model-based
  estimate is a published side for what is computed from published figures: every change
  since the previous wave (the table's own estimates), and the pooled and rest-of-parent
  comparisons of a model-based row itself (:func:`tryg.index.comparisons.model_based`). It
  stays a hidden side for what is still computed from the survey answers, i.e. from its
  hidden direct estimate: the pooled comparison of a direct row whose earlier waves include
  a model-based one, and the rest of the parent of a direct row whose siblings are all
  model-based (or hidden). The linear relations between measures hold between direct
  estimates, so there too a model-based row counts as hidden.

The outcome is written into the results table (``suppressed`` and the ``flags`` words below),
so every outlet — pages, downloads, API, maps, reports — gets it through the one public view
(:func:`tryg.index.results.public_view`), and the analysts see why a figure is withheld.

Pure: pandas, numpy and scipy in, a table out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import connected_components

from tryg.index import publication
from tryg.index._frames import Coded, coded_isin, factorize
from tryg.index.hierarchy import Hierarchy
from tryg.index.results import (
    N_WITHHELD,
    POOLED_WITHHELD,
    PREV_WITHHELD,
    REGISTER_METHODS,
    REST_WITHHELD,
    SECONDARY,
    register_measure_ids,
)
from tryg.index.spec import Spec

__all__ = ["N_WITHHELD", "POOLED_WITHHELD", "PREV_WITHHELD", "REST_WITHHELD", "SECONDARY",
           "protect"]

#: Rounds of "solve, audit, cut" before the remaining pinned cells' whole relations are hidden.
MAX_ROUNDS = 20


@dataclass
class _Cells:
    """The cells of one wave's sum problem (one per results row that has an ``n``) and its
    relations, each Σ coef · value = 0 over its cells, stored flat: relation r's cells are
    ``flat[start[r]:start[r + 1]]``."""

    rows: np.ndarray  # row numbers into the table
    value: np.ndarray  # n (a count or a sample size)
    lower: np.ndarray  # what a reader knows of a hidden cell's value
    upper: np.ndarray
    primary: np.ndarray  # hidden by the primary rules
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    flat: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    coef: np.ndarray = field(default_factory=lambda: np.zeros(0))
    owner: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    start: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    #: each entry's coef × value (its term of the relation's sum)
    term: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sizes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def add(self, cells: np.ndarray, coef: np.ndarray, sizes: np.ndarray) -> None:
        """Relations given flat: their cells, coefficients and sizes."""
        self.parts.append((cells.astype(np.int64), coef.astype(np.float64),
                           sizes.astype(np.int64)))

    def index(self) -> None:
        if self.parts:
            self.flat = np.concatenate([c for c, _, _ in self.parts])
            self.coef = np.concatenate([k for _, k, _ in self.parts])
            sizes = np.concatenate([z for _, _, z in self.parts])
            self.owner = np.repeat(np.arange(len(sizes)), sizes)
            self.start = np.concatenate([[0], np.cumsum(sizes)])
            self.sizes = sizes
            self.term = self.coef * self.value[self.flat]
        self.parts = []

    @property
    def count(self) -> int:
        return len(self.start) - 1

    def cells_of(self, r: int) -> np.ndarray:
        return self.flat[self.start[r]:self.start[r + 1]]

    def hidden_per_relation(self, hidden: np.ndarray) -> np.ndarray:
        return np.bincount(self.owner, weights=hidden[self.flat], minlength=self.count)


def protect(table: pd.DataFrame, spec: Spec, hier: Hierarchy, *,
            codes: Codes | None = None) -> pd.DataFrame:
    """``table`` (a conformed results table) with the disclosure rules applied: ``suppressed``
    and ``flags`` updated; no number is changed (the public view blanks them).

    ``codes``: the text columns ``area_code``, ``measure``, ``method`` and ``flags`` numbered
    already, each as ``(codes, distinct values)`` with code -1 for a missing value (what
    ``pd.factorize`` gives), for the rows of ``table`` in its order; the columns not given are
    numbered here."""
    if table.empty:
        return table
    pub = spec.publication
    t = table.reset_index(drop=True)
    coded = _coded(t, codes or {})
    method = coded["method"]
    n = pd.to_numeric(t["n"], errors="coerce").to_numpy(np.float64)
    flag_codes, flag_values = coded["flags"]
    flag_sets = [frozenset(str(f).split(";")) - {""} for f in flag_values]
    model_based = np.array(["model_based" in f for f in flag_sets], dtype=bool)[flag_codes]
    register = coded_isin(method, REGISTER_METHODS) | coded_isin(coded["measure"],
                                                        register_measure_ids(spec))
    method_is_model = coded_isin(method, ("model",))
    suppressed = t["suppressed"].to_numpy(dtype=bool).copy()
    with np.errstate(invalid="ignore"):
        # a model row that is not a small-area estimate (the felt-versus-recorded gap) is a
        # residual of the direct estimate: below min_n it would give that estimate back
        suppressed |= method_is_model & ~model_based & (n < pub.min_n)
    small = publication.small_count(pub, register, n)
    model_small = publication.model_n_hidden(pub, model_based, n)
    primary_n = suppressed | small | model_small
    keys = _Keys(t, hier, coded["area_code"], coded["measure"])

    hidden_n = primary_n.copy()
    # the cells of the sum problems: every row with a sample size or count, wave by wave
    with_n = keys.by_wave(np.flatnonzero(np.isfinite(n) & (keys.area >= 0) & (keys.wave >= 0)))
    for w, rows in enumerate(with_n):
        cells = _sum_cells(keys, w, rows, n, register, primary_n, pub.min_n, pub.small_count)
        if cells is not None:
            hidden_n[cells.rows[_solve(cells)]] = True

    secondary = hidden_n & ~primary_n
    # register rows: the rate gives the count back, so the whole row goes
    reg_secondary = secondary & register
    suppressed |= reg_secondary
    # hidden as a direct estimate (model-based rows: their direct estimate is never shown)
    hidden_est = suppressed | small | model_based
    extra = _linear_measures(keys, spec, hidden_est, n)
    suppressed |= extra
    hidden_est |= extra
    # hidden as a published figure (a model-based row's own estimate is shown)
    hidden_shown = suppressed | small
    prev, pooled, rest = _comparisons(keys, t, spec, hidden_est, hidden_shown, model_based)

    bits = (reg_secondary | extra) * 1 + (secondary & ~register) * 2 + prev * 4 + pooled * 8 \
        + rest * 16
    words = (SECONDARY, N_WITHHELD, PREV_WITHHELD, POOLED_WITHHELD, REST_WITHHELD)
    changed = np.flatnonzero(bits)
    combos, at = np.unique(np.column_stack([flag_codes[changed], bits[changed]]), axis=0,
                           return_inverse=True)
    texts = np.array([";".join(sorted(flag_sets[code] | {
        w for i, w in enumerate(words) if b & (1 << i)})) for code, b in combos.tolist()]
        + [""], dtype=object)
    out_flags = np.array(t["flags"].to_numpy(dtype=object), dtype=object)  # our own copy
    out_flags[changed] = texts[np.asarray(at).ravel()]
    t = t.copy(deep=False)
    t["suppressed"] = suppressed
    t["flags"] = pd.Series(out_flags, index=t.index, dtype=object)
    return t


Codes = Mapping[str, Coded]


def _coded(t: pd.DataFrame, codes: Codes) -> dict[str, Coded]:
    """The text columns protect() reads as (codes, distinct values): given, else numbered."""
    return {c: codes.get(c) or factorize(t[c].astype(str) if c == "flags" else t[c])
            for c in ("area_code", "measure", "method", "flags")}


class _Keys:
    """The table's keys as numbers: area (a row of the hierarchy, -1 unknown), measure and
    wave (positions), and each area's ancestors per wave."""

    def __init__(self, t: pd.DataFrame, hier: Hierarchy, area: Coded, measure: Coded) -> None:
        self.hier = hier
        wave = t["wave"].to_numpy(np.float64, na_value=np.nan)
        self.waves = sorted(int(w) for w in pd.unique(wave[np.isfinite(wave)]))
        self.wave = np.searchsorted(np.asarray(self.waves, dtype=np.float64), wave)
        self.wave[~np.isfinite(wave)] = -1
        # measures numbered in order of appearance (pd.factorize), missing ones -1
        self.measure = measure[0]
        self.measures = pd.Index(measure[1], dtype=object)
        self.codes, _ = hier.ancestor_rows(self.waves[0] if self.waves else 0)
        # the hierarchy's row of each distinct area code, then of each row
        row_of = pd.Index(self.codes).get_indexer(pd.Index(area[1], dtype=object))
        self.area = np.append(row_of, -1)[area[0]]
        depth = {lv: i for i, lv in enumerate(hier.levels)}
        level_of = np.array([depth[hier.level[c]] for c in self.codes] + [-1], dtype=np.int64)
        self.level = level_of[self.area]
        parent_depth = [depth.get(hier.parent_level(lv) or "", -1) for lv in hier.levels]
        self.parent_depth = np.array([*parent_depth, -1], dtype=np.int64)[self.level]
        self._by_wave: np.ndarray | None = None

    def by_wave(self, rows: np.ndarray) -> list[np.ndarray]:
        """``rows`` (ascending, each with a wave) split by wave: each wave's rows, ascending.
        Picked from all rows sorted by wave once (a stable sort by the wave's position,
        which numpy does by radix for small integers)."""
        if self._by_wave is None:
            dated = np.flatnonzero(self.wave >= 0)
            small = self.wave[dated].astype(np.min_scalar_type(len(self.waves)))
            self._by_wave = dated[np.argsort(small, kind="stable")]
        pick = np.zeros(len(self.wave), dtype=bool)
        pick[rows] = True
        ends = np.cumsum(np.bincount(self.wave[rows], minlength=len(self.waves)))
        return np.split(self._by_wave[pick[self._by_wave]], ends[:-1])

    def ancestors(self, w: int) -> np.ndarray:
        """Areas × levels: the row of each area's ancestor in wave ``w`` (-1: none), with a
        last row of -1 for unknown areas (so that ``ancestors(w)[self.area]`` works)."""
        _, rows = self.hier.ancestor_rows(self.waves[w])
        return np.vstack([rows, np.full((1, rows.shape[1]), -1, dtype=np.int64)])


# --- the sum problem ---------------------------------------------------------------------------

def _sum_cells(keys: _Keys, w: int, rows: np.ndarray, n: np.ndarray, register: np.ndarray,
               primary: np.ndarray, min_n: int, small_count: int) -> _Cells | None:
    """The cells and relations of wave ``w``: its ``rows`` (those with a sample size or count
    and a known area, ascending), the hierarchy's sums per measure (only those that hold
    exactly: a reader can use no other) and the equal sample sizes of one area's measures."""
    if len(rows) == 0 or not primary[rows].any():
        return None
    value = n[rows]
    prim = primary[rows]
    reg = register[rows]
    # bounds a reader knows: a primary hidden cell is below the threshold, a secondary one
    # at or above it (it would otherwise be shown as small)
    lower = np.where(reg, small_count + 1, min_n).astype(np.float64)
    upper = np.full(len(rows), np.inf)
    lower[prim] = 0.0
    upper[prim] = np.where(reg[prim], small_count, min_n - 1)
    cells = _Cells(rows, value, lower, upper, prim)
    area = keys.area[rows]
    measure = keys.measure[rows]
    level = keys.level[rows]
    anc = keys.ancestors(w)[area]  # cells × levels
    n_areas = len(keys.codes)
    # where each (measure, area) cell sits (-1: no cell): one slot per measure × area
    cell_of = np.full((len(keys.measures) + 1) * n_areas, -1, dtype=np.int64)
    slot = (measure.astype(np.int64) + 1) * n_areas + area  # a missing measure (-1): first
    cell_of[slot] = np.arange(len(rows))
    if (cell_of[slot] != np.arange(len(rows))).any():
        raise ValueError("the results table has a measure × area × wave more than once")
    levels = len(keys.hier.levels)
    for lv in range(levels - 1):
        parents = np.flatnonzero(level == lv)
        if len(parents) == 0:
            continue
        open_parent = np.ones(len(rows), dtype=bool)  # not summed at a nearer level yet
        for finer in range(lv + 1, levels):
            kids = np.flatnonzero((level == finer) & (anc[:, lv] >= 0))
            if len(kids) == 0:
                continue
            # the parent cell of each kid: same measure, the ancestor at lv
            parent_cell = cell_of[(measure[kids].astype(np.int64) + 1) * n_areas
                                  + anc[kids, lv]]
            ok = parent_cell >= 0
            kids, parent_cell = kids[ok], parent_cell[ok]
            ok = open_parent[parent_cell]
            kids, parent_cell = kids[ok], parent_cell[ok]
            if len(kids) == 0:
                continue
            total = np.bincount(parent_cell, weights=value[kids], minlength=len(rows))
            has = np.bincount(parent_cell, minlength=len(rows)) > 0
            holds = has & (np.abs(total - value) <= 1e-9 * np.maximum(1.0, np.abs(total)))
            if not holds.any():
                continue
            keep = holds[parent_cell]
            kids, parent_cell = kids[keep], parent_cell[keep]
            # stable; in the smallest integer type, which numpy sorts by radix
            order = np.argsort(parent_cell.astype(np.min_scalar_type(len(rows))), kind="stable")
            parents_held = np.flatnonzero(holds)
            sizes = np.bincount(parent_cell, minlength=len(rows))[parents_held]
            # each relation: its parent (+1), then its children (-1)
            flat = np.empty(len(kids) + len(parents_held), dtype=np.int64)
            coef = -np.ones(len(flat))
            heads = np.concatenate([[0], np.cumsum(sizes + 1)[:-1]])
            flat[heads] = parents_held
            coef[heads] = 1.0
            body = np.ones(len(flat), dtype=bool)
            body[heads] = False
            flat[body] = kids[order]
            cells.add(flat, coef, sizes + 1)
            open_parent &= ~holds
    # equal sample sizes (or counts) of one area's measures: one hidden, all hidden
    # (counts and sample sizes are told apart: equal by chance is no relation a reader knows)
    # the cells sorted by area, kind and value (``np.lexsort((value, reg, area))``, as one
    # integer key: the values' ranks within each area and kind)
    value_rank = pd.factorize(value, sort=True)[0]  # np.unique's inverse, by hashing
    order = np.argsort((area.astype(np.int64) * 2 + reg) * len(value) + value_rank,
                       kind="stable")
    same = ((area[order][1:] == area[order][:-1]) & (reg[order][1:] == reg[order][:-1])
            & (value[order][1:] == value[order][:-1]))
    pairs = np.column_stack([order[:-1][same], order[1:][same]])
    cells.add(pairs.ravel(), np.tile([1.0, -1.0], len(pairs)), np.full(len(pairs), 2))
    cells.index()
    return cells


def _solve(cells: _Cells) -> np.ndarray:
    """The hidden cells (primary and secondary): the cheapest set with no relation holding
    exactly one hidden cell and no hidden cell pinned by a relation's bounds.

    Lazy constraints: a relation with two or more primary cells is met whatever else is
    hidden, and one without any is met as long as none of its cells is chosen; so the
    programme starts with the relations that hold exactly one primary cell, and a relation is
    added when the solution of the round before breaks it (or the audit finds a cell it
    pins). Only the cells of the added relations are variables; the rest stay as they are.
    From the second round on only the parts of the programme that the added relations and
    cuts reach (its connected components: relations and cuts that share cells) are solved
    again, the others keep their solution: they are independent of what was added."""
    hidden = cells.primary.copy()
    active = np.zeros(cells.count, dtype=bool)
    cuts: list[np.ndarray] = []
    audit = _Audit(cells)
    for round_ in range(MAX_ROUNDS):
        broken = _broken(cells, hidden)
        pinned = audit(hidden)
        if not broken and not pinned:
            return hidden
        active[broken] = True
        cuts += pinned
        relations = np.flatnonzero(active)
        if round_ == 0:
            hidden = _milp_over(cells, relations, cuts, cells.primary)
            continue
        added = np.concatenate([*(cells.cells_of(r) for r in broken), *pinned])
        reached = _reached(cells, relations, cuts, added)
        relations = relations[reached[cells.flat[cells.start[relations]]]]
        hidden = _milp_over(cells, relations, [c for c in cuts if reached[c[0]]], hidden)
    # the safe fallback (not reached on any data seen): hide the remaining relations whole
    for r in _broken(cells, hidden):
        hidden[cells.cells_of(r)] = True
    for members in audit(hidden):
        hidden[members] = True
    return hidden


def _broken(cells: _Cells, hidden: np.ndarray) -> list[int]:
    """Relations with exactly one hidden cell."""
    if cells.count == 0:
        return []
    return np.flatnonzero(cells.hidden_per_relation(hidden) == 1).tolist()


def _reached(cells: _Cells, relations: np.ndarray, cuts: list[np.ndarray],
             seeds: np.ndarray) -> np.ndarray:
    """The cells connected to one of ``seeds`` through the relations and cuts given (two
    cells are connected when one relation or cut holds both)."""
    groups = [cells.flat[cells.start[r]:cells.start[r + 1]] for r in relations.tolist()]
    groups += cuts
    # each group's cells linked in a chain: one edge from each cell to the next
    tails = np.concatenate([g[:-1] for g in groups] + [np.zeros(0, dtype=np.int64)])
    heads = np.concatenate([g[1:] for g in groups] + [np.zeros(0, dtype=np.int64)])
    size = len(cells.rows)
    graph = sp.coo_matrix((np.ones(len(tails)), (tails, heads)), shape=(size, size))
    _, label = connected_components(graph, directed=False)
    return np.isin(label, label[seeds])


def _milp_over(cells: _Cells, active: np.ndarray, cuts: list[np.ndarray],
               base: np.ndarray) -> np.ndarray:
    """Solve: minimise Σ cost · s over s ∈ {0, 1} for the cells of the active relations and
    the cuts (the others keep their status in ``base``), s = 1 for a primary cell, every
    active relation with a hidden cell has a second one, every cut has a hidden cell.
    A relation or cut that shares no cell with another is solved without HiGHS
    (:func:`_alone`); only the rest goes to the programme below, and none at all when
    nothing is left.

    "No relation with exactly one hidden cell" as linear constraints with one auxiliary
    variable y per relation (it is 1 when the relation holds a hidden cell): s_j ≤ y for
    each of its cells, and Σ s ≥ 2 y; the size of the programme grows with the relations'
    cells, not their squares. Cost 1 + n: hide few cells, and small ones before large ones
    (τ-ARGUS's default information loss is the cell's value)."""
    hidden, active, cuts = _alone(cells, active, cuts, base)
    entries = np.flatnonzero(np.isin(cells.owner, active))
    used = np.unique(np.concatenate([cells.flat[entries], *cuts])) if (
        len(entries) or cuts) else np.zeros(0, dtype=np.int64)
    if len(used) == 0:
        return hidden
    where = np.full(len(cells.rows), -1)
    where[used] = np.arange(len(used))
    S, R = len(used), len(active)
    rel_of = np.full(cells.count, -1)
    rel_of[active] = np.arange(R)
    s_col = where[cells.flat[entries]]
    y_col = S + rel_of[cells.owner[entries]]
    E = len(entries)
    # rows 0..E-1: y - s_j >= 0; rows E..E+R-1: Σ s - 2 y >= 0; then the cuts: Σ s >= 1
    r_idx = [np.arange(E), np.arange(E), E + rel_of[cells.owner[entries]],
             E + np.arange(R)]
    c_idx = [y_col, s_col, s_col, S + np.arange(R)]
    vals = [np.ones(E), -np.ones(E), np.ones(E), np.full(R, -2.0)]
    row = E + R
    for members in cuts:
        r_idx.append(np.full(len(members), row))
        c_idx.append(where[members])
        vals.append(np.ones(len(members)))
        row += 1
    a = sp.csr_matrix((np.concatenate(vals), (np.concatenate(r_idx), np.concatenate(c_idx))),
                      shape=(row, S + R))
    lower = np.concatenate([np.zeros(E + R), np.ones(row - E - R)])
    cost = np.concatenate([1.0 + np.abs(cells.value[used]), np.zeros(R)])
    lb = np.concatenate([cells.primary[used].astype(np.float64), np.zeros(R)])
    res = milp(cost, constraints=[LinearConstraint(a, lower, np.inf)],
               integrality=np.concatenate([np.ones(S), np.zeros(R)]),
               bounds=Bounds(lb, np.ones(S + R)))
    if res.x is None:  # pragma: no cover - hiding every cell is always feasible
        hidden[used] = True
    else:
        hidden[used] = np.asarray(res.x[:S] > 0.5)
    return hidden


def _alone(cells: _Cells, active: np.ndarray, cuts: list[np.ndarray], base: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """The part of :func:`_milp_over`'s programme whose answer is known without a solver:
    the relations and cuts that share no cell with another relation or cut (each is a part
    of the programme on its own). Such a relation with exactly one primary cell gets its
    cheapest other cell hidden, such a cut without a primary cell its cheapest cell; any
    other is met as it is. Among cells of equal cost the last one (in the table's order) is
    taken: the cell HiGHS takes for such a part of the programme, so the outcome is the same
    whether the part is solved here or by the solver. Returns ``base`` with those cells
    hidden (the cells of these relations and cuts set to what the programme gives them:
    primary or chosen) and the relations and cuts left for the solver."""
    hidden = base.copy()
    entries = np.flatnonzero(np.isin(cells.owner, active))
    rel_cells = cells.flat[entries]
    cut_sizes = np.array([len(c) for c in cuts], dtype=np.int64)
    members = np.concatenate([rel_cells, *cuts]) if cuts else rel_cells
    # each relation or cut numbered: the relations first (in ``active`` order), then the cuts
    rel_of = np.full(cells.count, -1, dtype=np.int64)
    rel_of[active] = np.arange(len(active))
    group = np.concatenate([rel_of[cells.owner[entries]],
                            len(active) + np.repeat(np.arange(len(cuts)), cut_sizes)])
    groups = len(active) + len(cuts)
    shared = np.bincount(members, minlength=len(cells.rows))[members] > 1
    alone = np.bincount(group, weights=shared, minlength=groups) == 0
    if not alone.any():
        return hidden, active, cuts
    prim = cells.primary[members]
    n_prim = np.bincount(group, weights=prim, minlength=groups)
    is_cut = np.arange(groups) >= len(active)
    wanting = alone & np.where(is_cut, n_prim == 0, n_prim == 1)
    at = np.flatnonzero(wanting[group] & ~prim)  # the candidates
    cell, grp = members[at], group[at]
    cost = 1.0 + np.abs(cells.value[cell])
    # per group: the cheapest, of equal costs the last cell
    order = np.lexsort((-cell, cost, grp))
    first = np.ones(len(order), dtype=bool)
    first[1:] = grp[order][1:] != grp[order][:-1]
    in_alone = alone[group]
    hidden[members[in_alone]] = prim[in_alone]
    hidden[cell[order[first]]] = True
    keep = ~alone
    cuts = [c for c, k in zip(cuts, keep[len(active):].tolist(), strict=True) if k]
    return hidden, active[keep[:len(active)]], cuts


class _Audit:
    """:func:`_audit` round after round: a relation's outcome depends on its own cells only,
    so after the first audit only the relations holding a cell whose status has changed
    since are audited again (the others keep their outcome)."""

    def __init__(self, cells: _Cells) -> None:
        self.cells = cells
        self.seen: np.ndarray | None = None
        self.relations = np.zeros(0, dtype=np.int64)
        self.rests: list[np.ndarray] = []

    def __call__(self, hidden: np.ndarray) -> list[np.ndarray]:
        cells = self.cells
        if self.seen is None:
            self.relations, self.rests = _audit(cells, hidden)
        elif (changed := hidden != self.seen).any():
            touched = np.bincount(cells.owner, weights=changed[cells.flat],
                                  minlength=cells.count) > 0
            again, rests = _audit(cells, hidden, np.flatnonzero(touched[cells.owner]))
            kept = np.flatnonzero(~touched[self.relations])
            relations = np.concatenate([self.relations[kept], again])
            both = [*(self.rests[i] for i in kept.tolist()), *rests]
            order = np.argsort(relations, kind="stable")
            self.relations = relations[order]
            self.rests = [both[i] for i in order.tolist()]
        self.seen = hidden.copy()
        return list(self.rests)


def _audit(cells: _Cells, hidden: np.ndarray, entries: np.ndarray | None = None
           ) -> tuple[np.ndarray, list[np.ndarray]]:
    """Relations in which a reader could pin a hidden cell down from the published cells and
    the bounds he knows (a hidden count "< 5" lies in 0-4): each as the cells not yet hidden
    in it (a cut: one of them must be hidden too). Relations with fewer than two hidden cells
    are :func:`_broken`'s; two equal hidden cells pin nothing.

    For a relation Σ k_i x_i = 0 whose hidden cells H must satisfy Σ_H k_i x_i = b (b from
    the published cells), each hidden k_j x_j lies between b − Σ_{H∖j} max(k_i x_i) and
    b − Σ_{H∖j} min(k_i x_i), clipped to its own bounds; a range that holds one whole
    number pins the cell. All relations at once, on the flat arrays; ``entries``: only the
    relations of these entries of the flat arrays (each relation with all of its entries).
    Returns the relations that pin a cell (ascending) and for each the cells not hidden."""
    none: tuple[np.ndarray, list[np.ndarray]] = (np.zeros(0, dtype=np.int64), [])
    if cells.count == 0:
        return none
    if entries is None:
        flat, k, owner, term = cells.flat, cells.coef, cells.owner, cells.term
    else:
        flat, k = cells.flat[entries], cells.coef[entries]
        owner, term = cells.owner[entries], cells.term[entries]
    R = cells.count
    h = hidden[flat]
    counts = np.bincount(owner, weights=h, minlength=R)
    audited = (counts >= 2) & ~((cells.sizes == 2) & (counts == 2))
    if not audited.any():
        return none
    b = -np.bincount(owner, weights=np.where(h, 0.0, term), minlength=R)
    e = np.flatnonzero(h & audited[owner])  # the hidden entries of audited relations
    r, ke, ce = owner[e], k[e], flat[e]
    lo = np.where(ke > 0, ke * cells.lower[ce], ke * cells.upper[ce])
    hi = np.where(ke > 0, ke * cells.upper[ce], ke * cells.lower[ce])
    lo_fin, hi_fin = np.isfinite(lo), np.isfinite(hi)
    lo_f, hi_f = np.where(lo_fin, lo, 0.0), np.where(hi_fin, hi, 0.0)
    lo_sum = np.bincount(r, weights=lo_f, minlength=R)[r]
    hi_sum = np.bincount(r, weights=hi_f, minlength=R)[r]
    lo_inf = np.bincount(r, weights=~lo_fin, minlength=R)[r] - ~lo_fin
    hi_inf = np.bincount(r, weights=~hi_fin, minlength=R)[r] - ~hi_fin
    with np.errstate(invalid="ignore"):
        top = np.where(lo_inf > 0, np.inf, b[r] - (lo_sum - lo_f))
        bottom = np.where(hi_inf > 0, -np.inf, b[r] - (hi_sum - hi_f))
        top = np.minimum(top, hi) / np.abs(ke)
        bottom = np.maximum(bottom, lo) / np.abs(ke)
        pinned = (np.isfinite(top) & np.isfinite(bottom)
                  & (np.floor(top + 1e-9) <= np.ceil(bottom - 1e-9)))
    out = []
    relations = np.unique(r[pinned])
    for rel in relations.tolist():
        c = cells.cells_of(rel)
        rest = c[~hidden[c]]
        out.append(rest if len(rest) else c)
    return relations.astype(np.int64), out


# --- measures that are linear in one another -------------------------------------------------

def _linear_measures(keys: _Keys, spec: Spec, hidden: np.ndarray,
                     n: np.ndarray) -> np.ndarray:
    """Rows to withhold because a composite or a question's category shares would give a
    single hidden estimate back."""
    groups: list[tuple[list[str], str | None]] = []
    comp = spec.composite
    if comp is not None and comp.transform == "weighted_mean":
        groups.append(([comp.id, *(k for k, w in comp.weights if w > 0)], comp.id))
    by_item: dict[str, list[str]] = defaultdict(list)
    for m in spec.measures:
        if m.kind == "share" and m.item is not None:
            by_item[m.item].append(m.id)
    groups += [(ids, None) for ids in by_item.values() if len(ids) > 1]
    extra = np.zeros(len(hidden), dtype=bool)
    measure_names = list(keys.measures)
    # (area, wave) as one number, below (areas + 1) × (waves + 1): small enough to count the
    # rows of each by ``np.bincount`` of the numbers themselves (no numbering of them first)
    where = (keys.area.astype(np.int64) + 1) * (len(keys.waves) + 1) + keys.wave + 1
    for ids, first in groups:
        codes = [measure_names.index(m) for m in ids if m in measure_names]
        of = np.flatnonzero(np.isin(keys.measure, codes))
        if len(of) == 0:
            continue
        group = where[of]
        size = np.bincount(group)
        count = np.bincount(group, weights=hidden[of])
        for g in np.flatnonzero((count == 1) & (size >= 2)).tolist():
            r = of[group == g]
            h = hidden[r]
            is_first = (keys.measure[r] == measure_names.index(first)) if (
                first is not None and first in measure_names) else np.zeros(len(r), bool)
            if is_first.any() and not h[is_first].any():
                extra[r[is_first]] = True
                continue
            shown = r[~h]
            extra[shown[np.argmin(np.nan_to_num(n[shown], nan=np.inf))]] = True
    return extra


# --- comparisons -----------------------------------------------------------------------------

def _comparisons(keys: _Keys, t: pd.DataFrame, spec: Spec, hidden_direct: np.ndarray,
                 hidden: np.ndarray, model: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows whose comparison with the previous wave, the pooled earlier waves and the rest of
    the parent area must be withheld because the other side is hidden.

    ``hidden``: rows whose published figure is hidden; ``hidden_direct``: rows whose direct
    estimate is (these and the ``model`` rows). Changes since the previous wave, and the pooled
    and rest comparisons of model-based rows, are computed from published figures
    (:func:`tryg.index.comparisons.model_based`); the pooled and rest comparisons of the other
    rows from the survey answers, so there a model-based side counts as hidden."""
    size = len(t)
    shown = ~hidden
    W = len(keys.waves)
    n_areas = len(keys.codes) + 1  # the last: unknown areas
    area = np.where(keys.area >= 0, keys.area, n_areas - 1)
    # (measure, area) as one number (a missing measure: the first), the cells present
    # numbered in that order through a table of all of them
    cell = (keys.measure.astype(np.int64) + 1) * n_areas + area
    present = np.zeros((len(keys.measures) + 1) * n_areas, dtype=bool)
    present[cell] = True
    number = np.cumsum(present) - 1  # of a present cell
    cell_id = number[cell]
    n_cells = int(present.sum())
    ok = keys.wave >= 0
    in_grid = np.flatnonzero(ok)
    grid_cell, grid_wave = cell_id[in_grid], keys.wave[in_grid]

    def status(h: np.ndarray) -> np.ndarray:
        """Per wave × (measure, area): 0 no row, 1 shown, 2 hidden (a wave's row of cells
        contiguous: the steps below go wave by wave)."""
        grid = np.zeros((W + 1, n_cells), dtype=np.int8)
        grid[grid_wave, grid_cell] = np.where(h[in_grid], 2, 1)
        return grid

    grid_shown, grid_direct = status(hidden), status(hidden_direct)
    change_prev = t["change_prev"].to_numpy(np.float64)
    change_pooled = t["change_pooled"].to_numpy(np.float64)
    diff_rest = t["diff_parent_rest"].to_numpy(np.float64)
    # the previous wave in the data for this area and measure (published figures both)
    prev = np.zeros(size, dtype=bool)
    last = np.zeros(n_cells, dtype=np.int8)  # status of the latest earlier wave seen
    before = np.zeros((W + 1, n_cells), dtype=np.int8)
    for w in range(W):
        before[w] = last
        last = np.where(grid_shown[w] > 0, grid_shown[w], last)
    rows = np.flatnonzero(ok & shown & np.isfinite(change_prev))
    prev[rows] = before[keys.wave[rows], cell_id[rows]] == 2
    # the k pooled earlier waves
    pooled = np.zeros(size, dtype=bool)
    k = spec.comparisons.pooled_waves
    if k > 0:
        rows = np.flatnonzero(ok & shown & np.isfinite(change_pooled))
        wv = keys.wave[rows]
        start = np.maximum(wv - k, 0)
        for grid, of in ((grid_shown, model[rows]), (grid_direct, ~model[rows])):
            csum = np.zeros((W + 2, n_cells), dtype=np.int32)  # hidden waves before each
            np.cumsum(grid == 2, axis=0, dtype=np.int32, out=csum[1:])
            r = rows[of]
            pooled[r] = (csum[wv[of], cell_id[r]] - csum[start[of], cell_id[r]]) > 0
    # the rest of the parent area
    rest = np.zeros(size, dtype=bool)
    rows_rest = np.flatnonzero(ok & shown & np.isfinite(diff_rest) & (keys.parent_depth >= 0))
    if len(rows_rest):
        with_parent = keys.by_wave(np.flatnonzero(ok & (keys.parent_depth >= 0)
                                                  & (keys.area >= 0)))
        for w in np.unique(keys.wave[rows_rest]).tolist():
            anc = keys.ancestors(w)
            mine = with_parent[w]
            parent = anc[keys.area[mine], keys.parent_depth[mine]]
            # siblings: same measure, same level, same parent
            levels = len(keys.hier.levels) + 1
            group, _ = pd.factorize((keys.measure[mine].astype(np.int64) * levels
                                     + keys.level[mine]) * (n_areas + 1) + parent + 1)
            total = np.bincount(group)
            parent_key = (keys.measure[mine].astype(np.int64) + 1) * n_areas + np.where(
                parent >= 0, parent, n_areas - 1)
            found = present[parent_key]
            parent_status = np.where(found, grid_shown[w, np.where(found, number[parent_key],
                                                                   0)], 0)
            others = total[group] - 1
            # the rest of a model-based row is compared on published figures, of a direct
            # row on the answers (where a model-based sibling's direct estimate is hidden)
            in_shown = np.bincount(group, weights=hidden[mine])
            in_direct = np.bincount(group, weights=hidden_direct[mine])
            others_hidden = np.where(model[mine], in_shown[group] - hidden[mine],
                                     in_direct[group] - hidden_direct[mine])
            withheld = (parent < 0) | (parent_status != 1) | (others == 0) | (
                others_hidden == others)
            want = np.isfinite(diff_rest[mine]) & shown[mine]
            rest[mine[want & withheld]] = True
    return prev, pooled, rest
