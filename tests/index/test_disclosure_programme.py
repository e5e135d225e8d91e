"""The secondary-suppression programme (``tryg.index.disclosure._milp_over``) against brute
force on small random problems: its answer meets every relation and cut and costs no more
than the cheapest answer found by trying every choice of cells. Relations and cuts that share
no cell with another are answered without the solver (``_alone``); the random problems mix
those with ones that share cells, so both ways are checked against the same reference."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tryg.index.disclosure import _Cells, _milp_over


@st.composite
def problems(draw: st.DrawFn) -> tuple[_Cells, list[np.ndarray]]:
    size = draw(st.integers(2, 9))
    value = np.array(draw(st.lists(st.integers(0, 30), min_size=size, max_size=size)),
                     dtype=np.float64)
    primary = np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size)))
    cells = _Cells(rows=np.arange(size), value=value, lower=np.zeros(size),
                   upper=value.copy(), primary=primary)
    relations = draw(st.lists(st.lists(st.integers(0, size - 1), min_size=2, max_size=4,
                                       unique=True), min_size=1, max_size=4))
    flat = np.array([c for r in relations for c in r], dtype=np.int64)
    cells.add(flat, np.ones(len(flat)), np.array([len(r) for r in relations]))
    cells.index()
    cuts = [np.array(c, dtype=np.int64) for c in draw(st.lists(
        st.lists(st.integers(0, size - 1), min_size=1, max_size=3, unique=True), max_size=2))]
    return cells, cuts


def _meets(cells: _Cells, cuts: list[np.ndarray], hidden: np.ndarray) -> bool:
    per_relation = [int(hidden[cells.cells_of(r)].sum()) for r in range(cells.count)]
    return (all(k != 1 for k in per_relation) and all(hidden[c].any() for c in cuts)
            and bool(hidden[cells.primary].all()))


def _cost(cells: _Cells, hidden: np.ndarray) -> float:
    return float((1.0 + np.abs(cells.value[hidden])).sum())


@settings(max_examples=300, deadline=None)
@given(problems())
def test_the_answer_is_as_cheap_as_the_best_by_brute_force(
        problem: tuple[_Cells, list[np.ndarray]]) -> None:
    cells, cuts = problem
    hidden = _milp_over(cells, np.arange(cells.count), cuts, cells.primary.copy())
    assert _meets(cells, cuts, hidden)
    used = np.unique(np.concatenate([cells.flat, *cuts]))
    best = np.inf
    for choice in itertools.product((False, True), repeat=len(used)):
        trial = cells.primary.copy()
        trial[used] = np.array(choice) | cells.primary[used]
        if _meets(cells, cuts, trial):
            best = min(best, _cost(cells, trial))
    assert _cost(cells, hidden) <= best + 1e-9
    # the cells of no relation and no cut keep their status
    outside = np.setdiff1d(np.arange(len(cells.rows)), used)
    assert (hidden[outside] == cells.primary[outside]).all()
