"""The calibration of a design as small dense blocks, for the fast variance engine.

A calibration couples the rows only through its columns (the cells of the margins), and those
columns fall apart into independent groups: the cells that share a row, or whose rows share a
first-stage stratum, belong together (e.g. the sex and age cells of one wave × kommune); no
row, unit or stratum links two groups. Inside such a *superblock* every matrix the variance
needs (the projection's pseudo-inverse, the coupling between calibration steps, and the
residual moment matrix ``G`` of :mod:`tryg.stats.variance`) is a small dense matrix. Holding
them as stacks of ``s × s`` arrays turns the calibration part of a variance into batched dense
products instead of sparse products with one column per estimate
(see :mod:`tryg.stats.score_patterns`).

Computed once per design (cached on it), from :func:`tryg.stats.variance._calibration_cache`.
``None`` when the engine cannot take the design: lonely-PSU "average", or superblocks too
large to hold densely; the sparse path of :mod:`tryg.stats.variance` is used then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeGuard

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from tryg.stats.design import Design, FloatArray, IntArray
from tryg.stats.variance import _calibration_cache

Sparse = Any  # scipy.sparse matrices are not generic types

#: Largest dense stack (superblocks × size²) the engine builds; beyond, the sparse path runs.
MAX_STACK = 20_000_000
MAX_BLOCK = 600


@dataclass(frozen=True)
class Step:
    """One calibration step in block layout: ``X`` with ``lam / psw`` folded into its rows."""

    Xw: Sparse  # n × P_k (csr): X_k with each row scaled by lam / psw
    local: IntArray  # position of every column of X_k inside its superblock's step-k part
    offset: int  # where step k's part starts in the superblock layout
    size: int  # padded size of step k's part
    minv: FloatArray  # n_sb × size × size
    cross: dict[int, FloatArray]  # m < k: n_sb × size_k × size_m


@dataclass(frozen=True)
class Component:
    """A variance component's calibration moments in block layout."""

    U: Sparse  # J × P (csr): unit totals of psw·X (all steps side by side)
    ug: Sparse  # groups × P (csr)
    G: FloatArray  # n_sb × size × size
    sb_unit: IntArray  # superblock of every unit (-1: none)
    sb_group: IntArray  # superblock of every group (-1: none)


@dataclass(frozen=True)
class Blocks:
    n_sb: int
    size: int  # total layout size (all steps)
    sb_row: IntArray  # superblock of every row (-1: its stratum has no calibration cell)
    local: IntArray  # layout position of every column of the stacked calibration matrix
    steps: tuple[Step, ...]
    components: tuple[Component, ...]


def supported(design: object) -> TypeGuard[Design]:
    """Whether the fast engine handles ``design`` (a linearised design it can block)."""
    if not isinstance(design, Design):
        return False
    if any(c.average_lonely is not None for c in design.components):
        return False
    return not design.calibration or blocks(design) is not None


def blocks(design: Design) -> Blocks | None:
    """The design's calibration in dense superblocks (cached); ``None`` if not blockable."""
    if not design.cache.blocks_known:
        design.cache.blocks = _build(design) if design.calibration else None
        design.cache.blocks_known = True
    return design.cache.blocks


def _group_first(values: IntArray, labels: IntArray, size: int) -> IntArray:
    """For each label 0..size-1 the value at one of its rows (-1 where a label has none)."""
    out = np.full(size, -1, dtype=np.int64)
    out[labels] = values
    return out


def _build(design: Design) -> Blocks | None:
    cache = _calibration_cache(design)
    assert cache is not None
    steps = cache["steps"]
    Xs: list[Sparse] = cache["X"]
    sizes = [X.shape[1] for X in Xs]
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    P = int(starts[-1])
    stratum = design.stages[0].stratum
    n_str = int(stratum.max()) + 1
    # bipartite graph: calibration columns (0..P-1) and first-stage strata (P..P+n_str-1)
    W = sp.hstack(Xs).tocoo()
    # each (column, stratum) edge once (hashed): rows repeat them many times over
    edge = pd.unique(W.col.astype(np.int64) * n_str + stratum[W.row])
    graph = sp.csr_matrix(
        (np.ones(len(edge)), (edge // n_str, P + edge % n_str)), shape=(P + n_str, P + n_str)
    )
    _, label = connected_components(graph, directed=False)
    used = np.unique(label[:P])
    relabel = np.full(int(label.max()) + 1, -1, dtype=np.int64)
    relabel[used] = np.arange(len(used))
    sb_col = relabel[label[:P]]
    n_sb = len(used)
    sb_row = relabel[label[P + stratum]]
    # rows whose stratum holds no calibration cell belong to no superblock
    has_cell = np.zeros(n_str, dtype=bool)
    has_cell[stratum[W.row]] = True
    sb_row = np.where(has_cell[stratum], sb_row, -1)

    local = np.empty(P, dtype=np.int64)
    step_sizes = []
    for k in range(len(Xs)):
        cols = np.arange(starts[k], starts[k + 1])
        order = np.lexsort((cols, sb_col[cols]))
        counts = np.bincount(sb_col[cols], minlength=n_sb)
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        pos = np.empty(len(cols), dtype=np.int64)
        pos[order] = np.arange(len(cols)) - first[sb_col[cols][order]]
        local[cols] = pos
        step_sizes.append(int(counts.max()) if len(counts) else 0)
    offsets = np.concatenate([[0], np.cumsum(step_sizes)]).astype(np.int64)
    size = int(offsets[-1])
    if size > MAX_BLOCK or n_sb * size * size > MAX_STACK:
        return None
    layout = local.copy()
    for k in range(len(Xs)):
        layout[starts[k]:starts[k + 1]] += offsets[k]

    def dense(M: Sparse, rows: IntArray, cols: IntArray, shape: tuple[int, int]) -> FloatArray:
        """Stack of the superblocks of sparse ``M`` (rows/cols: global → stack positions)."""
        M = sp.coo_matrix(M)
        r_sb, c_sb = sb_col[rows[M.row]], sb_col[cols[M.col]]
        if (r_sb != c_sb).any():
            raise _NotBlockableError
        out = np.zeros((n_sb, *shape))
        np.add.at(out, (r_sb, local[rows[M.row]], local[cols[M.col]]), M.data)
        return out

    try:
        step_list = []
        for k, (X, step) in enumerate(zip(Xs, steps, strict=True)):
            ids = np.arange(starts[k], starts[k + 1])
            cross = {
                m: dense(cache["cross"][(k, m)], ids, np.arange(starts[m], starts[m + 1]),
                         (step_sizes[k], step_sizes[m]))
                for m in range(k)
            }
            step_list.append(Step(
                Xw=(sp.diags(step.lam / step.psw) @ X).tocsr(),
                local=local[ids], offset=int(offsets[k]), size=step_sizes[k],
                minv=dense(cache["minv"][k], ids, ids, (step_sizes[k], step_sizes[k])),
                cross=cross,
            ))
        comps = []
        for comp, (U, ug, G) in zip(design.components, cache["units"], strict=True):
            Gd = np.zeros((n_sb, size, size))
            Gc = sp.coo_matrix(G)
            r_sb, c_sb = sb_col[Gc.row], sb_col[Gc.col]
            if (r_sb != c_sb).any():
                raise _NotBlockableError
            np.add.at(Gd, (r_sb, layout[Gc.row], layout[Gc.col]), Gc.data)
            sb_unit = _group_first(sb_row, comp.unit, comp.n_units)
            sb_group = _group_first(sb_unit, comp.group, comp.n_groups)
            comps.append(Component(U=sp.csr_matrix(U), ug=sp.csr_matrix(ug), G=Gd,
                                   sb_unit=sb_unit, sb_group=sb_group))
    except _NotBlockableError:
        return None
    return Blocks(n_sb=n_sb, size=size, sb_row=sb_row, local=layout, steps=tuple(step_list),
                  components=tuple(comps))


class _NotBlockableError(Exception):
    """A matrix couples two superblocks (not expected; the sparse path is used then)."""
