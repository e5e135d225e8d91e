"""Smoothed sampling variances of direct shares for the Fay–Herriot model."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from tryg.stats.small_area import fay_herriot, pooled_design_effect, smoothed_share_variances


def test_pooled_design_effect_is_the_ratio_of_sums() -> None:
    p = np.array([0.9, 0.8, 0.5, 1.0, 0.0, np.nan])
    n = np.array([40.0, 100.0, 60.0, 30.0, 30.0, 50.0])
    v = 1.3 * p * (1 - p) / n
    v[3] = v[4] = 0.0  # all answers alike: no information on the design effect
    assert pooled_design_effect(p, v, n) == pytest.approx(1.3, rel=1e-12)
    v2 = v.copy()
    v2[0] *= 2.0  # one area's ratio 2.6: the areas are pooled by their binomial variances
    b = p[:3] * (1 - p[:3]) / n[:3]
    assert pooled_design_effect(p, v2, n) == pytest.approx(1.3 * (b.sum() + b[0]) / b.sum())


def test_pooled_design_effect_needs_an_area() -> None:
    with pytest.raises(ValueError, match="design effect cannot be estimated"):
        pooled_design_effect([1.0, 0.0], [0.0, 0.0], [10.0, 10.0])
    with pytest.raises(ValueError, match="one entry per area"):
        pooled_design_effect([0.5], [0.1, 0.1], [10.0])


def _areas(seed: int, m: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """m areas: a covariate, true shares near 0.9 (logit-normal area effects), 25–80 answers,
    and the direct shares (binomial)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=m)
    p = 1.0 / (1.0 + np.exp(-(2.2 + 0.4 * x + rng.normal(scale=0.5, size=m))))
    n = rng.integers(25, 81, size=m).astype(float)
    return x, p, n, rng.binomial(n.astype(int), p) / n


def test_the_variances_are_the_binomial_ones_at_the_first_eblups() -> None:
    x, _, n, direct = _areas(1)
    direct[0] = 1.0  # all answers alike: a direct variance of 0, still a positive psi
    n_in = n.copy()
    n_in[1] = np.nan  # no sample
    psi = smoothed_share_variances(direct, n_in, x, design_effect=1.2)
    assert np.isnan(psi[1]) and (psi[np.arange(40) != 1] > 0).all()
    # the steps of the docstring, done by hand
    ok = np.arange(40) != 1
    X = np.column_stack([np.ones(40), x])
    coef = np.linalg.lstsq(X[ok] * np.sqrt(n[ok])[:, None], direct[ok] * np.sqrt(n[ok]),
                           rcond=None)[0]
    syn = np.clip(X @ coef, 0.5 / n, 1 - 0.5 / n)
    first = fay_herriot(np.where(ok, direct, np.nan),
                        np.where(ok, syn * (1 - syn) * 1.2 / n, np.nan), x)
    eb = np.clip(first.estimates["eblup"].to_numpy(), 0.5 / n, 1 - 0.5 / n)
    np.testing.assert_allclose(psi[ok], (eb * (1 - eb) * 1.2 / n)[ok], rtol=1e-12)


def test_smoothed_variances_give_intervals_that_cover() -> None:
    """On simulated shares near 0.9 with 25–80 answers (2,000 intervals), the FH intervals
    with the direct variances ``p(1-p)/n`` cover less than with the smoothed ones (an area
    whose answers happen to lie near 1 claims a tiny variance). Measured: 87.2 % and 90.8 %;
    neither reaches 95 % here, as the simulated shares are logit-normal, not the linear
    model's normal."""
    hits: dict[str, list[bool]] = {"direct": [], "smoothed": []}
    z = norm.ppf(0.975)
    for seed in range(50):
        x, p, n, direct = _areas(seed)
        raw = direct * (1 - direct) / n
        inputs = {"direct": np.where(raw > 0, raw, np.nan),
                  "smoothed": smoothed_share_variances(direct, n, x)}
        for kind, psi in inputs.items():
            est = fay_herriot(direct, psi, x).estimates
            half = z * est["se"].to_numpy()
            eb = est["eblup"].to_numpy()
            cover = (eb - half <= p) & (p <= eb + half)
            hits[kind] += cover[np.isfinite(psi)].tolist()
    direct_cov, smoothed_cov = np.mean(hits["direct"]), np.mean(hits["smoothed"])
    assert smoothed_cov >= direct_cov + 0.02, (direct_cov, smoothed_cov)
    assert direct_cov < 0.9


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="design_effect"):
        smoothed_share_variances([0.5, 0.6, 0.7], [10.0, 10.0, 10.0], [1.0, 2.0, 3.0],
                                 design_effect=0.0)
    with pytest.raises(ValueError, match="n has 2"):
        smoothed_share_variances([0.5, 0.6, 0.7], [10.0, 10.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="at least 2 areas"):
        smoothed_share_variances([0.5, np.nan, np.nan], [10.0, 10.0, 10.0], [1.0, 2.0, 3.0])
