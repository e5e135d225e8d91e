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
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from tryg.index.hierarchy import Hierarchy
from tryg.index.spec import Spec

#: The whole row is withheld to protect another figure (its own numbers are not small).
SECONDARY = "secondary"
#: Only the row's sample size is withheld (it would give a hidden sample size back).
N_WITHHELD = "n_withheld"
#: Comparisons withheld because one of their sides is hidden.
PREV_WITHHELD = "prev_withheld"
POOLED_WITHHELD = "pooled_withheld"
REST_WITHHELD = "rest_withheld"

FLAGS = (SECONDARY, N_WITHHELD, PREV_WITHHELD, POOLED_WITHHELD, REST_WITHHELD)

#: Rounds of "solve, audit, cut" before the remaining pinned cells' whole relations are hidden.
MAX_ROUNDS = 20

_REGISTER_METHODS = ("register", "register_eb")


@dataclass
class _Cells:
    """The cells of one wave's sum problem: one per results row that has an ``n``."""

    rows: np.ndarray  # row numbers into the table
    value: np.ndarray  # n (a count or a sample size)
    lower: np.ndarray  # what a reader knows of a hidden cell's value
    upper: np.ndarray
    primary: np.ndarray  # hidden by the primary rules
    relations: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    # each relation: cell positions and coefficients, sum(coef * value) == 0


def protect(table: pd.DataFrame, spec: Spec, hier: Hierarchy) -> pd.DataFrame:
    """``table`` (a conformed results table) with the disclosure rules applied: ``suppressed``
    and ``flags`` updated; no number is changed (the public view blanks them)."""
    if table.empty:
        return table
    pub = spec.publication
    t = table.reset_index(drop=True)
    method = t["method"].to_numpy(dtype=object)
    n = pd.to_numeric(t["n"], errors="coerce").to_numpy(np.float64)
    flags = [set(f.split(";")) - {""} for f in t["flags"].astype(str)]
    model_based = np.array(["model_based" in f for f in flags], dtype=bool)
    register = np.isin(method, _REGISTER_METHODS) | t["measure"].isin(
        _register_ids(spec)).to_numpy()
    suppressed = t["suppressed"].to_numpy(dtype=bool).copy()
    with np.errstate(invalid="ignore"):
        # a model row that is not a small-area estimate (the felt-versus-recorded gap) is a
        # residual of the direct estimate: below min_n it would give that estimate back
        suppressed |= (method == "model") & ~model_based & (n < pub.min_n)
        small = register & (n <= pub.small_count)
        model_small = model_based & (n < pub.min_n)
    primary_n = suppressed | small | model_small
    wave = t["wave"].to_numpy(np.float64)

    hidden_n = primary_n.copy()
    for w in np.unique(wave[np.isfinite(wave)]):
        cells = _sum_cells(t, spec, hier, int(w), n, register, suppressed, small, model_small)
        if cells is None:
            continue
        chosen = _solve(cells)
        hidden_n[cells.rows[chosen]] = True

    secondary = hidden_n & ~primary_n
    new_flags: dict[int, set[str]] = defaultdict(set)
    # register rows: the rate gives the count back, so the whole row goes
    reg_secondary = secondary & register
    for row in np.flatnonzero(reg_secondary).tolist():
        new_flags[row].add(SECONDARY)
    for row in np.flatnonzero(secondary & ~register).tolist():
        new_flags[row].add(N_WITHHELD)
    suppressed |= reg_secondary

    # hidden as a direct estimate (model-based rows: their direct estimate is never shown)
    hidden_est = suppressed | small | model_based
    extra = _linear_measures(t, spec, hidden_est, n)
    for row in np.flatnonzero(extra).tolist():
        new_flags[row].add(SECONDARY)
    suppressed |= extra
    hidden_est |= extra
    # hidden as a published figure (a model-based row's own estimate is shown)
    hidden_shown = suppressed | small

    for row, words in _comparisons(t, spec, hier, hidden_est, hidden_shown,
                                   model_based).items():
        new_flags[row] |= words

    out_flags = np.asarray(t["flags"].to_numpy(dtype=object), dtype=object).copy()
    for row, words in new_flags.items():
        out_flags[row] = ";".join(sorted(flags[row] | words))
    t = t.copy(deep=False)
    t["suppressed"] = suppressed
    t["flags"] = pd.Series(out_flags, index=t.index, dtype=object)
    return t


def _register_ids(spec: Spec) -> set[str]:
    ids = {m.id for m in spec.register} | {f"{m.id}_eb" for m in spec.register}
    return ids | {s.id for s in spec.subindices if s.source == "register"}


# --- the sum problem ---------------------------------------------------------------------------

def _sum_cells(t: pd.DataFrame, spec: Spec, hier: Hierarchy, wave: int, n: np.ndarray,
               register: np.ndarray, suppressed: np.ndarray, small: np.ndarray,
               model_small: np.ndarray) -> _Cells | None:
    """The cells and relations of one wave: every row with a sample size or count, the
    hierarchy's sums per measure (only those that hold exactly: a reader can use no other) and
    the equal sample sizes of one area's measures."""
    pub = spec.publication
    rows = np.flatnonzero((t["wave"].to_numpy(np.float64) == wave) & np.isfinite(n))
    if len(rows) == 0:
        return None
    value = n[rows]
    primary = (suppressed | small | model_small)[rows]
    if not primary.any():
        return None
    reg = register[rows]
    # bounds a reader knows: a primary hidden cell is below the threshold, a secondary one
    # at or above it (it would otherwise be shown as small)
    lower = np.where(reg, pub.small_count + 1, pub.min_n).astype(np.float64)
    upper = np.full(len(rows), np.inf)
    lower[primary] = 0.0
    upper[primary] = np.where(reg[primary], pub.small_count, pub.min_n - 1)
    cells = _Cells(rows, value, lower, upper, primary)

    areas = t["area_code"].to_numpy(dtype=object)[rows]
    measures = t["measure"].to_numpy(dtype=object)[rows]
    anc = hier.ancestors(wave)
    levels = list(hier.levels)
    pos: dict[tuple[object, object], int] = {
        (m, a): i for i, (m, a) in enumerate(zip(measures.tolist(), areas.tolist(),
                                                   strict=True))}
    for m in pd.unique(measures):
        of_m = np.flatnonzero(measures == m)
        m_areas = areas[of_m]
        known = pd.Index(m_areas).isin(anc.index)
        by_level: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(0, dtype=np.int64))
        lv_of = anc.reindex(m_areas[known])
        own_level = np.array([hier.level.get(a) for a in m_areas], dtype=object)
        for lv in levels:
            by_level[lv] = of_m[known & (own_level == lv)]
        for i, lv in enumerate(levels[:-1]):
            parents = by_level[lv]
            if len(parents) == 0:
                continue
            parent_value = dict(zip(areas[parents], value[parents], strict=True))
            for finer in levels[i + 1:]:
                kids = by_level[finer]
                if len(kids) == 0:
                    continue
                their_parent = lv_of.loc[areas[kids], lv].to_numpy(dtype=object)
                groups: dict[object, list[int]] = defaultdict(list)
                for k, p in zip(kids.tolist(), their_parent.tolist(), strict=True):
                    if p is not None and p == p:
                        groups[p].append(k)
                done = []
                for p, members in groups.items():
                    if p not in parent_value:
                        continue
                    total = float(value[members].sum())
                    if abs(total - parent_value[p]) <= 1e-9 * max(1.0, abs(total)):
                        parent_pos = pos[(m, p)]
                        cells.relations.append((
                            np.array([parent_pos, *members], dtype=np.int64),
                            np.array([1.0] + [-1.0] * len(members)),
                        ))
                        done.append(p)
                # an area summed at the nearest finer level needs no coarser-grained sum
                for p in done:
                    parent_value.pop(p, None)
    # equal sample sizes (or counts) of one area's measures: one hidden, all hidden
    # (counts and sample sizes are told apart: equal by chance is no relation a reader knows)
    frame = pd.DataFrame({"a": areas, "v": value, "r": reg, "i": np.arange(len(rows))})
    for _, g in frame.groupby(["a", "r", "v"], sort=False):
        for a, b in itertools_pairs(g["i"].to_numpy(np.int64)):
            cells.relations.append((np.array([a, b]), np.array([1.0, -1.0])))
    return cells


def itertools_pairs(members: np.ndarray) -> Iterable[tuple[int, int]]:
    """Consecutive pairs: a chain of equalities ties the whole group."""
    return zip(members[:-1].tolist(), members[1:].tolist(), strict=True)


def _solve(cells: _Cells) -> np.ndarray:
    """The hidden cells (primary and secondary): the cheapest set with no relation holding
    exactly one hidden cell and no hidden cell pinned by a relation's bounds."""
    size = len(cells.rows)
    # only the cells connected to a primary one through relations can matter
    touched = _component_of_primary(cells)
    if not touched.any():
        return cells.primary.copy()
    local = np.flatnonzero(touched)
    where = np.full(size, -1)
    where[local] = np.arange(len(local))
    rels = [(where[c], k) for c, k in cells.relations if touched[c].all()]
    cost = 1.0 + np.abs(cells.value[local])
    lb = cells.primary[local].astype(np.float64)
    cuts: list[np.ndarray] = []
    hidden = cells.primary[local].copy()
    for _ in range(MAX_ROUNDS):
        hidden = _milp(len(local), rels, cuts, cost, lb)
        pinned = _audit(cells.value[local], cells.lower[local], cells.upper[local], hidden, rels)
        if not pinned:
            break
        for members in pinned:
            cuts.append(members)
    else:  # pragma: no cover - the cuts converge in a few rounds; this is the safe fallback
        for members in _audit(cells.value[local], cells.lower[local], cells.upper[local],
                              hidden, rels):
            hidden[members] = True
    out = cells.primary.copy()
    out[local[hidden]] = True
    return out


def _component_of_primary(cells: _Cells) -> np.ndarray:
    """Cells linked to a primary hidden cell through a chain of relations."""
    size = len(cells.rows)
    if not cells.relations:
        return cells.primary.copy()
    heads, tails = [], []
    for c, _ in cells.relations:
        heads.append(np.repeat(c[0], len(c) - 1))
        tails.append(c[1:])
    h, tl = np.concatenate(heads), np.concatenate(tails)
    graph = sp.coo_matrix((np.ones(len(h)), (h, tl)), shape=(size, size))
    _, label = sp.csgraph.connected_components(graph, directed=False)
    return np.isin(label, np.unique(label[cells.primary]))


def _milp(size: int, rels: list[tuple[np.ndarray, np.ndarray]], cuts: list[np.ndarray],
          cost: np.ndarray, lb: np.ndarray) -> np.ndarray:
    """Solve: minimise cost·s over s ∈ {0,1}, s ≥ lb, every relation with a hidden cell has a
    second one (Σ_{k≠j} s_k ≥ s_j for each of its cells j), every cut has a hidden cell."""
    r_idx: list[np.ndarray] = []
    c_idx: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    row = 0
    for c, _ in rels:
        k = len(c)
        # one row per cell j: sum of all cells - 2 s_j >= 0
        r_idx.append(np.repeat(np.arange(row, row + k), k))
        c_idx.append(np.tile(c, k))
        block = np.ones((k, k))
        np.fill_diagonal(block, -1.0)
        vals.append(block.ravel())
        row += k
    n_rel_rows = row
    for members in cuts:
        r_idx.append(np.full(len(members), row))
        c_idx.append(members)
        vals.append(np.ones(len(members)))
        row += 1
    constraints = []
    if row:
        a = sp.csr_matrix((np.concatenate(vals), (np.concatenate(r_idx), np.concatenate(c_idx))),
                          shape=(row, size))
        lower = np.concatenate([np.zeros(n_rel_rows), np.ones(row - n_rel_rows)])
        constraints.append(LinearConstraint(a, lower, np.inf))
    res = milp(cost, constraints=constraints, integrality=np.ones(size),
               bounds=Bounds(lb, np.ones(size)))
    if res.x is None:  # pragma: no cover - hiding every cell is always feasible
        return np.ones(size, dtype=bool)
    return np.asarray(res.x > 0.5)


def _audit(value: np.ndarray, lower: np.ndarray, upper: np.ndarray, hidden: np.ndarray,
           rels: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    """Relations in which a reader could pin a hidden cell down from the published cells and
    the bounds: each as the cells not yet hidden in it (a cut: one of them must be hidden)."""
    out = []
    for c, k in rels:
        h = hidden[c]
        if h.sum() < 2:
            if h.sum() == 1:
                out.append(c[~h])
            continue
        cs, ks = c[h], k[h]
        # sum(ks * x) = b, with b known to the reader
        b = -float(np.dot(k[~h], value[c[~h]]))
        lo = np.where(ks > 0, ks * lower[cs], ks * upper[cs])
        hi = np.where(ks > 0, ks * upper[cs], ks * lower[cs])
        lo_sum, lo_inf = _sum_finite(lo)
        hi_sum, hi_inf = _sum_finite(hi)
        for j in range(len(cs)):
            # the range of ks[j] * x_j given the others' ranges (an infinite bound of another
            # cell leaves this side open)
            others_lo_open = lo_inf - (not np.isfinite(lo[j])) > 0
            others_hi_open = hi_inf - (not np.isfinite(hi[j])) > 0
            top = np.inf if others_lo_open else b - (lo_sum - _finite(lo[j]))
            bottom = -np.inf if others_hi_open else b - (hi_sum - _finite(hi[j]))
            top = min(top, hi[j])
            bottom = max(bottom, lo[j])
            if np.isfinite(top) and np.isfinite(bottom) and (
                    np.floor(top / abs(ks[j]) + 1e-9) <= np.ceil(bottom / abs(ks[j]) - 1e-9)):
                rest = c[~h]
                out.append(rest if len(rest) else c)
                break
    return out


def _sum_finite(x: np.ndarray) -> tuple[float, int]:
    """The sum of the finite values and the number of infinite ones."""
    finite = np.isfinite(x)
    return float(x[finite].sum()), int((~finite).sum())


def _finite(x: float) -> float:
    return float(x) if np.isfinite(x) else 0.0


# --- measures that are linear in one another -------------------------------------------------

def _linear_measures(t: pd.DataFrame, spec: Spec, hidden: np.ndarray,
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
    extra = np.zeros(len(t), dtype=bool)
    if not groups:
        return extra
    measure = t["measure"].to_numpy(dtype=object)
    key = pd.MultiIndex.from_arrays([t["area_code"].to_numpy(dtype=object),
                                     t["wave"].to_numpy(np.float64)])
    for ids, first in groups:
        of = np.flatnonzero(np.isin(measure, ids))
        if len(of) == 0:
            continue
        for _, rows in pd.Series(of).groupby(key[of], sort=False):
            r = rows.to_numpy(np.int64)
            h = hidden[r] | extra[r]
            if h.sum() != 1 or len(r) < 2:
                continue
            if first is not None and first in measure[r] and not h[measure[r] == first].any():
                extra[r[measure[r] == first]] = True
                continue
            shown = r[~h]
            extra[shown[np.argmin(np.nan_to_num(n[shown], nan=np.inf))]] = True
    return extra


# --- comparisons -----------------------------------------------------------------------------

def _comparisons(t: pd.DataFrame, spec: Spec, hier: Hierarchy, hidden_direct: np.ndarray,
                 hidden: np.ndarray, model: np.ndarray) -> dict[int, set[str]]:
    """Flags withholding each comparison one of whose sides is hidden: ``hidden`` are the
    rows whose published figure is hidden, ``hidden_direct`` those whose direct estimate is
    (also the ``model`` rows). Changes since the previous wave, and the pooled and rest
    comparisons of model-based rows, are computed from published figures; the pooled and
    rest comparisons of the other rows from the survey answers (module docstring)."""
    out: dict[int, set[str]] = defaultdict(set)
    waves = sorted(int(w) for w in t["wave"].dropna().unique())
    wave_pos = {w: i for i, w in enumerate(waves)}
    area = t["area_code"].to_numpy(dtype=object)
    measure = t["measure"].to_numpy(dtype=object)
    wave = t["wave"].to_numpy(np.float64)
    at: dict[tuple[object, object, int], int] = {
        (a, m, int(w)): i for i, (a, m, w) in enumerate(zip(area, measure, wave, strict=True))
        if w == w
    }
    change_prev = t["change_prev"].to_numpy(np.float64)
    change_pooled = t["change_pooled"].to_numpy(np.float64)
    diff_rest = t["diff_parent_rest"].to_numpy(np.float64)
    k = spec.comparisons.pooled_waves
    by_area_measure: dict[tuple[object, object], list[int]] = defaultdict(list)
    for (a, m, w) in at:
        by_area_measure[(a, m)].append(w)
    for (a, m), ws in by_area_measure.items():
        ws.sort()
        for j, w in enumerate(ws):
            i = at[(a, m, w)]
            if hidden[i]:
                continue
            if j > 0 and np.isfinite(change_prev[i]) and hidden[at[(a, m, ws[j - 1])]]:
                out[i].add(PREV_WITHHELD)
            if np.isfinite(change_pooled[i]) and k > 0:
                p = wave_pos[w]
                earlier = [at.get((a, m, v)) for v in waves[max(0, p - k):p]]
                side = hidden if model[i] else hidden_direct
                if any(e is None or side[e] for e in earlier):
                    out[i].add(POOLED_WITHHELD)
    # the rest of the parent area
    rows_rest = np.flatnonzero(np.isfinite(diff_rest) & ~hidden)
    if len(rows_rest):
        for w in np.unique(wave[rows_rest]):
            anc = hier.ancestors(int(w))
            of_w = rows_rest[wave[rows_rest] == w]
            siblings: dict[tuple[object, object], list[int]] = defaultdict(list)
            parent_of: dict[int, object] = {}
            for i in of_w.tolist():
                plv = hier.parent_level(hier.level.get(area[i], ""))
                if plv is None or area[i] not in anc.index:
                    continue
                parent_of[i] = anc.at[area[i], plv]
            # every row of the wave at the same level with the same parent is a sibling
            all_w = np.flatnonzero(wave == w)
            for i in all_w.tolist():
                lv = hier.level.get(area[i])
                plv = hier.parent_level(lv) if lv else None
                if plv is None or area[i] not in anc.index:
                    continue
                siblings[(anc.at[area[i], plv], measure[i])].append(i)
            for i, parent in parent_of.items():
                parent_row = at.get((parent, measure[i], int(w)))
                rest = [s for s in siblings[(parent, measure[i])] if s != i]
                side = hidden if model[i] else hidden_direct
                if (parent_row is None or hidden[parent_row] or not rest
                        or all(side[s] for s in rest)):
                    out[i].add(REST_WITHHELD)
    return out
