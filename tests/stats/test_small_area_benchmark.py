"""Benchmarking small-area estimates to a parent's direct estimate (:func:`benchmark`)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from tryg.stats.small_area import benchmark, benchmark_groups


def _case(seed: int, m: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    e = rng.uniform(0.6, 0.98, m)
    mse = rng.uniform(0.0004, 0.004, m)
    w = rng.lognormal(8, 0.8, m)
    adjust = rng.random(m) < 0.6
    adjust[0] = True
    return e, mse, w, adjust


@pytest.mark.parametrize("seed", range(10))
def test_the_weighted_mean_equals_the_target_and_direct_estimates_stay(seed: int) -> None:
    e, mse, w, adjust = _case(seed)
    target = float(np.dot(w, e) / w.sum()) - 0.03
    out = benchmark(e, mse, w, target, adjust=adjust, lower=0.0, upper=1.0)
    assert abs(float(np.dot(w, out.estimate) / w.sum()) - target) <= 1e-12
    assert np.array_equal(out.estimate[~adjust], e[~adjust])
    assert np.array_equal(out.mse[~adjust], mse[~adjust])
    assert ((out.estimate >= 0) & (out.estimate <= 1)).all()
    # the MSE grows by the squared move (Datta et al. 2011's posterior-risk identity)
    np.testing.assert_allclose(out.mse[adjust], mse[adjust] + (out.estimate - e)[adjust] ** 2)


def test_without_bounds_the_move_is_proportional_to_the_mse() -> None:
    e, mse, w, adjust = _case(3)
    target = 0.7
    out = benchmark(e, mse, w, target, adjust=adjust)
    gap = target * w.sum() - float(np.dot(w, e))
    lam = gap / float(np.dot(w[adjust], mse[adjust]))
    np.testing.assert_allclose(out.estimate[adjust], e[adjust] + lam * mse[adjust], rtol=1e-13)
    assert out.shift == pytest.approx(lam, rel=1e-12)


def test_equal_mse_is_difference_benchmarking() -> None:
    e = np.array([0.2, 0.4, 0.5, 0.9])
    w = np.array([1.0, 2.0, 3.0, 4.0])
    out = benchmark(e, np.full(4, 0.01), w, 0.5)
    shift = out.estimate - e
    np.testing.assert_allclose(shift, shift[0], atol=1e-15)
    assert float(np.dot(w, out.estimate)) / 10 == pytest.approx(0.5, abs=1e-15)


@pytest.mark.parametrize("seed", range(6))
def test_with_bounds_it_is_the_constrained_least_squares_solution(seed: int) -> None:
    """An independent solver (SLSQP on the same quadratic programme) finds the same."""
    e, mse, w, adjust = _case(seed, m=8)
    e[adjust] = np.where(np.arange(8)[adjust] % 2 == 0, 0.99, e[adjust])  # near the bound
    now = float(np.dot(w, e) / w.sum())
    reach = float(np.dot(w, np.where(adjust, 1.0, e)) / w.sum())  # every adjusted one at 1
    target = now + 0.6 * (reach - now)
    out = benchmark(e, mse, w, target, adjust=adjust, lower=0.0, upper=1.0)
    idx = np.flatnonzero(adjust)
    fixed = float(np.dot(w[~adjust], e[~adjust]))

    share = w / w.sum()  # scaled for the solver; the same minimiser
    scale = mse[idx] / mse[idx].mean()

    def loss(b: np.ndarray) -> float:
        return float(np.sum(share[idx] / scale * (b - e[idx]) ** 2))

    res = minimize(loss, np.clip(e[idx], 0, 1), method="SLSQP", bounds=[(0, 1)] * len(idx),
                   constraints=[{"type": "eq",
                                 "fun": lambda b: float(np.dot(share[idx], b))
                                 + fixed / w.sum() - target}],
                   options={"ftol": 1e-15, "maxiter": 500})
    assert res.success
    np.testing.assert_allclose(out.estimate[idx], res.x, atol=2e-6)
    assert (out.estimate[idx] <= 1.0).all()
    assert (out.estimate[idx] == 1.0).any()  # the bound is met: the case tests it


def test_already_benchmarked_estimates_do_not_move() -> None:
    e = np.array([0.3, 0.5, 0.7])
    w = np.array([1.0, 1.0, 2.0])
    out = benchmark(e, np.full(3, 0.01), w, float(np.dot(w, e) / 4))
    np.testing.assert_allclose(out.estimate, e, atol=1e-15)
    assert out.shift == pytest.approx(0.0, abs=1e-12)


def test_a_target_out_of_reach_is_an_error() -> None:
    with pytest.raises(ValueError, match="cannot be met"):
        benchmark([0.9, 0.95], [0.01, 0.01], [1.0, 1.0], 0.1, adjust=[True, False],
                  lower=0.0, upper=1.0)
    with pytest.raises(ValueError, match="no area can be adjusted"):
        benchmark([0.9, 0.95], [0.01, 0.01], [1.0, 1.0], 0.9, adjust=[False, False])
    with pytest.raises(ValueError, match="one entry per area"):
        benchmark([0.9, 0.95], [0.01], [1.0, 1.0], 0.9)


def test_many_parents_at_once_are_each_benchmarked_as_on_their_own() -> None:
    """benchmark_groups gives every parent what benchmark gives it alone (to rounding), in
    any order of the areas; a parent whose target is out of reach keeps its estimates and
    says why, the others are benchmarked all the same."""
    cases = [_case(seed, m=5 + seed) for seed in range(6)]
    targets = [float(np.dot(w, e) / w.sum()) + (0.02 if k % 2 else -0.03)
               for k, (e, _, w, _) in enumerate(cases)]
    targets[4] = 0.01  # out of reach: the direct estimates alone exceed it
    cases[4][3][:] = [True, False, False, False, False, False, False, False, False]
    group = np.concatenate([np.full(len(c[0]), k) for k, c in enumerate(cases)])
    shuffle = np.random.default_rng(7).permutation(len(group))
    e, mse, w, adjust = (np.concatenate([c[i] for c in cases])[shuffle] for i in range(4))
    out = benchmark_groups(e, mse, w, group[shuffle], targets, adjust=adjust, lower=0.0,
                           upper=1.0)
    for k, (ek, mk, wk, ak) in enumerate(cases):
        mine = np.flatnonzero(group[shuffle] == k)
        order = np.argsort(shuffle[mine])  # back to the case's own order
        if k == 4:
            assert "cannot be met" in out.problem[k] and np.isnan(out.shift[k])
            np.testing.assert_array_equal(out.estimate[mine][order], ek)
            np.testing.assert_array_equal(out.mse[mine][order], mk)
            continue
        alone = benchmark(ek, mk, wk, targets[k], adjust=ak, lower=0.0, upper=1.0)
        assert out.problem[k] == ""
        np.testing.assert_allclose(out.estimate[mine][order], alone.estimate, rtol=1e-13)
        np.testing.assert_allclose(out.mse[mine][order], alone.mse, rtol=1e-12)
        assert out.shift[k] == pytest.approx(alone.shift, rel=1e-10)


@pytest.mark.parametrize("seed", range(4))
def test_among_many_bounds_the_shift_solves_the_benchmark(seed: int) -> None:
    """A parent with hundreds of children, many of them pushed to a bound: the estimates are
    ``clip(e + λ mse, 0, 1)`` for the λ returned, and they meet the benchmark (the segment
    between the level's breakpoints that holds the target is found among hundreds)."""
    rng = np.random.default_rng(seed)
    m = 400
    e = rng.uniform(0.0, 1.0, m)
    mse = rng.uniform(0.001, 0.3, m)
    w = rng.lognormal(6, 1.0, m)
    adjust = rng.random(m) < 0.8
    now = float(np.dot(w, e) / w.sum())
    reach = float(np.dot(w, np.where(adjust, 1.0, e)) / w.sum())
    target = now + [0.2, 0.5, 0.8, 0.95][seed] * (reach - now)
    res = benchmark_groups(e, mse, w, np.zeros(m, dtype=np.int64), [target], adjust=adjust,
                           lower=0.0, upper=1.0)
    assert res.problem == [""]
    lam = float(res.shift[0])
    np.testing.assert_allclose(res.estimate[adjust], np.clip(e + lam * mse, 0, 1)[adjust],
                               atol=1e-12)
    assert 10 < int((res.estimate[adjust] == 1.0).sum()) < int(adjust.sum())
    assert abs(float(np.dot(w, res.estimate) / w.sum()) - target) <= 1e-12
