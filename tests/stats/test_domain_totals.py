"""The one variance interface: its three back-ends give the same totals and covariances.

:func:`tryg.stats.domain_totals.totals_for` chooses the back-end from the design; the
statistics (means, area against the rest, pooled changes) are written once over
:class:`~tryg.stats.domain_totals.DomainTotals`, so their agreement across back-ends rests on
the interface's answers agreeing, which is checked here for every method.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_cell_moments import _values
from test_score_patterns import _design

from tryg.stats import estimators
from tryg.stats.domain_totals import (
    CellTotals,
    DomainTotals,
    PatternTotals,
    SparseTotals,
    totals_for,
)
from tryg.stats.errors import EstimationError
from tryg.stats.estimators import domains


def test_the_back_end_is_chosen_from_the_design() -> None:
    def chosen(kind: str, lonely: str = "adjust", cells: bool = True) -> DomainTotals:
        d = _design(kind, "rake" if lonely == "adjust" else "none", seed=40, lonely=lonely)
        values = {"y": np.asarray(d.data["y"], dtype=np.float64)}
        keys = [domains(d, ["area", "wave"]).codes] if cells else []
        return totals_for(d, values, keys)

    assert isinstance(chosen("elements"), CellTotals)
    assert isinstance(chosen("elements", cells=False), PatternTotals)  # no cells asked for
    assert isinstance(chosen("clusters"), PatternTotals)
    assert isinstance(chosen("clusters", lonely="average"), SparseTotals)


def test_cells_must_nest_in_the_domains() -> None:
    d = _design("elements", "none", seed=41)
    values = {"y": np.asarray(d.data["y"], dtype=np.float64)}
    by_parent = domains(d, ["parent"])
    cells = totals_for(d, values, [by_parent.codes])
    with pytest.raises(EstimationError, match="nest"):
        cells.totals(domains(d, ["area"]))


@pytest.mark.parametrize("calibration", ["none", "rake", "chained"])
def test_back_ends_answer_alike(calibration: str) -> None:
    d = _design("elements", calibration, seed=42)
    Y = _values(d, 43)
    values = {f"v{i}": Y[:, i] for i in range(Y.shape[1])}
    area = domains(d, ["area", "wave"])
    parent = domains(d, ["parent", "wave"])
    up = pd.MultiIndex.from_frame(parent.keys).get_indexer(
        pd.MultiIndex.from_arrays([area.keys["area"].map({"a": "P", "b": "P", "c": "Q",
                                                          "d": "Q"}), area.keys["wave"]]))
    assert (up >= 0).all()
    # the cells' back-end of other variables, given these: the same engine, new moments
    other = totals_for(d, {"w": Y[:, 0] * 2.0 + 1.0}, [area.codes, parent.codes])
    assert isinstance(other, CellTotals)
    other.totals(area)  # a family built for the other variables is shared, and fits these
    shared = other.with_values(values)
    assert shared.engine is other.engine and shared.names == list(values)
    backs: list[DomainTotals] = [totals_for(d, values, [area.codes, parent.codes]), shared,
                                 PatternTotals(d, values), SparseTotals(d, values)]
    assert isinstance(backs[0], CellTotals)
    k = np.random.default_rng(44).normal(size=(area.count, Y.shape[1]))

    def answers(t: DomainTotals) -> list[np.ndarray]:
        s = t.sums(area)
        return [*t.totals(area), t.centred_variance(area), *t.pair(area), *t.pair(parent),
                *t.nested(area, parent, up), t.combination_variance(area, k)[:, None],
                t.degrees_of_freedom(area), t.degrees_of_freedom(parent),
                s.n, s.sw2, s.nobs, s.ss]

    ref = answers(backs[3])
    assert all(np.isfinite(x).any() for x in ref)
    for t in backs[:3]:
        for got, want in zip(answers(t), ref, strict=True):
            scale = float(np.nanmax(np.abs(want)))
            np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10 * scale)


def test_means_without_the_engines_are_those_of_mean() -> None:
    """A design neither engine takes (lonely PSUs "average") goes through sparse
    linearisation; ``means`` then gives each variable's ``mean``."""
    d = _design("clusters", "none", seed=45, lonely="average")
    values = {name: np.asarray(d.data[name], dtype=np.float64) for name in ("y", "x")}
    got = estimators.means(d, values, by=["area", "wave"])
    for name in values:
        one = estimators.mean(d, name, by=["area", "wave"])
        mine = got[got["variable"] == name].drop(columns="variable").reset_index(drop=True)
        assert len(mine) == len(one) > 0
        pd.testing.assert_frame_equal(mine, one, check_dtype=False, check_column_type=False,
                                      rtol=1e-10)
