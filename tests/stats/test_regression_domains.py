"""The regression's batched fits (all domains at once) against one domain at a time.

``glm_by`` / ``fit_domains`` fit every domain in one pass: rows with the same covariates and
response merged, stacked Newton steps, one covariance computation for all domains. Each
domain's fit must be the one ``glm(subset=...)`` gives for it alone, on a calibrated design
with clusters, including a domain where a column is aliased (no row of a category) and one
with no rows; starting the iterations from :func:`regression.newton_from_zero`'s coefficients
must not change the fits.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd
import pytest
from formulaic import model_matrix

from tryg import stats
from tryg.stats import Design
from tryg.stats import regression as reg

FORMULA = "y ~ x + C(c)"


def _design() -> Design:
    rng = np.random.default_rng(11)
    n_psu = 80
    psu = np.repeat(np.arange(n_psu), rng.integers(3, 9, n_psu))
    n = len(psu)
    x = rng.normal(size=n)
    c = rng.choice(["a", "b", "c"], n)
    domain = rng.integers(0, 5, n)
    c[domain == 3] = np.where(c[domain == 3] == "c", "a", c[domain == 3])  # no "c" there
    eta = -0.3 + 0.8 * x + np.where(c == "b", 0.5, 0.0)
    df = pd.DataFrame({
        "stratum": psu % 6, "psu": psu, "w": rng.uniform(1, 4, n), "x": x, "c": c,
        "y": (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float), "domain": domain,
        "sex": rng.choice(["f", "m"], n),
    })
    d = Design(df, weights="w", strata="stratum", psu="psu")
    sex: dict[Hashable, float] = {"f": 1300.0, "m": 1200.0}
    out = stats.rake(d, {"sex": sex}, epsilon=1e-12)
    assert isinstance(out, Design)
    return out


def _codes(design: Design) -> np.ndarray:
    codes = design.data["domain"].to_numpy().astype(np.int64)
    return np.where(codes == 4, -1, codes)  # domain 4: no rows (5 domains numbered)


def test_batched_fits_equal_one_domain_at_a_time() -> None:
    design = _design()
    frame = reg.model_frame(design.data, FORMULA)
    codes = _codes(design)
    fits = reg.fit_domains(design, frame, codes, 5, "quasibinomial")
    assert fits[4].n == 0 and np.isnan(fits[4].coefficients).all()
    assert np.isnan(fits[3].coefficients[frame.names.index("C(c)[T.c]")])
    for d in range(4):
        one = reg.glm(design, FORMULA, "quasibinomial", subset=codes == d)
        np.testing.assert_allclose(fits[d].coefficients, one.coefficients, rtol=1e-10)
        np.testing.assert_allclose(fits[d].vcov, one.vcov, rtol=1e-8)
        assert fits[d].df_residual == one.df_residual and fits[d].n == one.n
        np.testing.assert_array_equal(fits[d].rows, one.rows)
        ours, alone = fits[d].influence, one.influence
        assert ours is not None and alone is not None
        np.testing.assert_allclose(ours, alone, rtol=1e-8, atol=1e-10 * np.abs(alone).max())


def test_starting_from_newton_changes_nothing() -> None:
    design = _design()
    frame = reg.model_frame(design.data, FORMULA)
    codes = _codes(design)
    check = reg.newton_from_zero(frame, np.asarray(design.weights), codes, 5, steps=30,
                                 largest=12.0)
    assert list(check.settled) == [True, True, True, True, False]
    assert list(check.full_rank) == [True, True, True, False, False]
    start = np.where(check.settled[:, None], check.coefficients, np.nan)
    plain = reg.fit_domains(design, frame, codes, 5, "quasibinomial")
    started = reg.fit_domains(design, frame, codes, 5, "quasibinomial", start=start)
    for a, b in zip(plain[:4], started[:4], strict=True):
        np.testing.assert_allclose(b.coefficients, a.coefficients, rtol=1e-10)
        np.testing.assert_allclose(b.vcov, a.vcov, rtol=1e-8)
    # settled to 1e-8: the fits' coefficients (domain 3 has an aliased column, NaN in both)
    np.testing.assert_allclose(check.coefficients[:4], [f.coefficients for f in plain[:4]],
                               rtol=1e-6)


def test_effects_of_domains_are_those_of_margins() -> None:
    """:func:`regression.fit_domain_effects`' effect of a 0/1 column in each domain is what
    :func:`regression.margins` gives on the domain's own fit; a domain whose fit drops one of
    the columns, or has no rows, has none."""
    design = _design()
    formula = FORMULA + " + C(sex)"
    frame = reg.model_frame(design.data, formula)
    codes = _codes(design)
    sex = frame.names.index("C(sex)[T.m]")
    found = reg.fit_domain_effects(design, frame, codes, 5, [sex], "quasibinomial")
    assert np.isnan(found.effects[4]).all()  # no rows
    dropped = reg.fit_domain_effects(design, frame, codes, 5, [frame.names.index("C(c)[T.c]")],
                                     "quasibinomial")
    assert np.isnan(dropped.effects[3]).all() and np.isfinite(dropped.effects[:3]).all()
    for d in range(4):
        one = reg.glm(design, formula, "quasibinomial", subset=codes == d)
        want = reg.margins(design, one, "sex", levels=["f", "m"]).table.iloc[1]
        assert found.effects[d, 0] == pytest.approx(want["effect"], rel=1e-9)
        assert np.sqrt(found.vcov[d, 0, 0]) == pytest.approx(want["effect_se"], rel=1e-8)


def test_a_frame_of_column_names_is_built_on_the_distinct_rows() -> None:
    """A formula of column names only is coded on the data's distinct rows and spread to
    every row: the frame is the one formulaic builds on all rows (missing values, a category
    seen only in incomplete rows, a numeric column of fractions)."""
    rng = np.random.default_rng(5)
    n = 3000
    data = pd.DataFrame({
        "y": rng.integers(0, 2, n).astype(float),
        "p": rng.integers(0, 2, n).astype(float),
        "x": rng.choice([0.5, 1.25, -2.0], n),
        "g": rng.choice(["a", "b", "c"], n),
    })
    data.loc[rng.random(n) < 0.1, "p"] = np.nan
    data.loc[rng.random(n) < 0.05, "g"] = None
    data.loc[data["p"].isna() & (data["g"] == "c"), "g"] = "d"  # "d": only incomplete rows
    frame = reg.model_frame(data, "y ~ p + x + g")
    full = model_matrix("y ~ p + x + g", data, na_action="ignore")
    X = np.asarray(full.rhs, np.float64)
    assert frame.names == tuple(full.rhs.columns)
    complete = data.notna().all(axis=1).to_numpy()
    np.testing.assert_array_equal(frame.complete, complete)
    np.testing.assert_array_equal(frame.X, X)
    np.testing.assert_array_equal(frame.y, np.asarray(full.lhs, np.float64)[:, 0])
    expected = np.full(n, -1)
    expected[complete] = reg._distinct_rows(X[complete], frame.y[complete])
    np.testing.assert_array_equal(frame.distinct, expected)


def test_domain_rows_without_some_domains_are_those_of_the_other_domains() -> None:
    design = _design()
    frame = reg.model_frame(design.data, FORMULA)
    codes = _codes(design)
    w = np.asarray(design.weights)
    drop = np.array([False, True, False, False, False])
    got = reg.domain_rows(frame, w, codes, 5).without(drop)
    want = reg.domain_rows(frame, w, np.where(codes == 1, -1, codes), 5)
    for name in ("rows", "counts", "weight", "merged", "X", "y", "w", "distinct", "bounds"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
