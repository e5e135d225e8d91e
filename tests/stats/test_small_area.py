"""Tests for the Fay–Herriot EBLUP against R's sae and emdi, plus properties and input checks.

References (see shared/data/stats-anchors/SOURCES.md):

* ``milk15_*_sae_reference.csv``: ``sae::mseFH(yi ~ as.factor(MajorArea), SD^2)`` on the first
  15 milk areas.  sae stops Fisher scoring at relative change 1e-4, so the comparison uses
  ``tol=1e-4`` and then agrees to rounding error; the converged default differs by ~4e-6.
* ``eusilcA15_*_emdi_reference.csv``: ``emdi::fh(Mean ~ cash + self_empl, ...)``.  emdi finds
  sigma2_u with its own optimiser, which stops ~1e-7 (relative) short of the optimum; given
  emdi's sigma2_u, our EBLUP and MSE formulas reproduce emdi's to rounding error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import norm

from tryg.stats.small_area import _scoring_step, fay_herriot

RTOL = 1e-6


def _anchors(shared_data: Path) -> Path:
    return shared_data / "stats-anchors"


def _milk(shared_data: Path, rows: int = 15) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sae milk data and the dummy coding of R's ``as.factor(MajorArea)`` (level 1 = base)."""
    milk = pd.read_csv(_anchors(shared_data) / "sae_milk.csv").iloc[:rows]
    levels = pd.Categorical(milk["MajorArea"], categories=sorted(milk["MajorArea"].unique()))
    dummies = pd.get_dummies(levels, prefix="MajorArea", drop_first=True, dtype=float)
    dummies.index = milk.index
    return milk, dummies


def _max_rel(a: object, b: object) -> float:
    return float(np.max(np.abs(np.asarray(a, dtype=float) / np.asarray(b, dtype=float) - 1.0)))


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_milk_matches_sae_msefh(shared_data: Path, method: str) -> None:
    milk, X = _milk(shared_data)
    ref = pd.read_csv(_anchors(shared_data) / f"milk15_fh_{method.lower()}_sae_reference.csv")
    fit = fay_herriot(milk["yi"], milk["SD"] ** 2, X, method, tol=1e-4)  # sae's PRECISION
    assert fit.converged
    assert fit.method == method
    assert _max_rel(fit.sigma2_u, ref["variance"].iloc[0]) < 1e-12
    assert _max_rel(fit.estimates["eblup"], ref["EBLUP"]) < 1e-12
    assert _max_rel(fit.estimates["mse"], ref["MSE"]) < 1e-12
    assert list(fit.beta.index) == ["(Intercept)", "MajorArea_2", "MajorArea_3"]
    # Area 15 is alone in MajorArea 3, so its own dummy fits it exactly: EBLUP = direct.
    assert fit.estimates["eblup"].iloc[14] == pytest.approx(1.176, rel=1e-12)


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_milk_converged_default_is_close_to_sae(shared_data: Path, method: str) -> None:
    """The default tol iterates past sae's stopping point; the difference is sae's, ~4e-6."""
    milk, X = _milk(shared_data)
    ref = pd.read_csv(_anchors(shared_data) / f"milk15_fh_{method.lower()}_sae_reference.csv")
    fit = fay_herriot(milk["yi"], milk["SD"] ** 2, X, method)
    assert fit.converged
    assert _max_rel(fit.sigma2_u, ref["variance"].iloc[0]) < 1e-5
    assert _max_rel(fit.estimates["eblup"], ref["EBLUP"]) < 1e-6
    assert _max_rel(fit.estimates["mse"], ref["MSE"]) < 1e-5


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_eusilc_matches_emdi_fh(shared_data: Path, method: str) -> None:
    data = pd.read_csv(_anchors(shared_data) / "eusilcA15_fh_input.csv")
    ref = pd.read_csv(_anchors(shared_data) / f"eusilcA15_fh_{method.lower()}_emdi_reference.csv")
    fit = fay_herriot(
        data["Mean"], data["Var_Mean"], data[["cash", "self_empl"]], method, area=data["Domain"]
    )
    assert fit.converged
    est = fit.estimates
    assert list(est["area"]) == list(ref["Domain"])
    assert _max_rel(fit.sigma2_u, ref["variance"].iloc[0]) < RTOL
    assert _max_rel(est["eblup"], ref["FH"]) < RTOL
    assert _max_rel(est["mse"], ref["MSE"]) < RTOL
    beta = fit.beta.to_numpy()
    resid = data["Mean"] - (beta[0] + beta[1] * data["cash"] + beta[2] * data["self_empl"])
    sd = np.sqrt(fit.sigma2_u + data["Var_Mean"])
    assert fit.loglik == pytest.approx(float(np.sum(norm.logpdf(resid, scale=sd))), rel=1e-12)
    # Ours is a fixed point of Fisher scoring; emdi's value is not (it stops early), which is
    # the whole of the remaining difference.
    y, psi = data["Mean"].to_numpy(), data["Var_Mean"].to_numpy()
    X = np.column_stack([np.ones(len(data)), data[["cash", "self_empl"]].to_numpy()])
    reml = method == "REML"
    assert abs(_scoring_step(fit.sigma2_u, y, psi, X, reml)) < 1e-9 * fit.sigma2_u
    emdi = float(ref["variance"].iloc[0])
    after_one_step = emdi + _scoring_step(emdi, y, psi, X, reml)
    assert abs(after_one_step - fit.sigma2_u) < 0.1 * abs(emdi - fit.sigma2_u)


def test_eusilc_sae_tolerance_reproduces_sae_path(shared_data: Path) -> None:
    """With sae's tol the iteration stops early, as sae would (4 steps), still within 1e-6."""
    data = pd.read_csv(_anchors(shared_data) / "eusilcA15_fh_input.csv")
    fit = fay_herriot(data["Mean"], data["Var_Mean"], data[["cash", "self_empl"]], tol=1e-4)
    assert fit.iterations == 4
    assert fit.converged


def test_out_of_sample_areas_get_synthetic_estimates(shared_data: Path) -> None:
    milk, X = _milk(shared_data, rows=20)  # areas 16-20 are in MajorArea 3 and 4
    milk = milk[milk["MajorArea"] <= 3]
    X = X.loc[milk.index, ["MajorArea_2", "MajorArea_3"]]
    direct = milk["yi"].to_numpy().copy()
    direct[15:] = np.nan  # areas 16.. have no sample
    ref = pd.read_csv(_anchors(shared_data) / "milk15_fh_reml_sae_reference.csv")
    fit = fay_herriot(direct, milk["SD"] ** 2, X.to_numpy(), tol=1e-4)
    est = fit.estimates
    insample = est.iloc[:15]
    out = est.iloc[15:]
    assert len(out) > 0
    # The in-sample fit is unaffected by the extra areas.
    assert _max_rel(insample["eblup"], ref["EBLUP"]) < 1e-12
    assert _max_rel(insample["mse"], ref["MSE"]) < 1e-12
    assert (insample["method"] == "model").all()
    assert (out["method"] == "synthetic").all()
    assert (out["gamma"] == 0).all()
    # All out-of-sample areas are in MajorArea 3: synthetic = beta_0 + beta_3,
    # MSE = x'V(beta)x + sigma2_u.
    b = fit.beta.to_numpy()
    np.testing.assert_allclose(out["eblup"], b[0] + b[2], rtol=1e-12)
    x = np.array([1.0, 0.0, 1.0])
    Vi = 1.0 / (fit.sigma2_u + (milk["SD"].to_numpy()[:15]) ** 2)
    Xin = np.column_stack([np.ones(15), X.to_numpy()[:15]])
    var_beta = np.linalg.inv((Xin.T * Vi) @ Xin)
    np.testing.assert_allclose(out["mse"], x @ var_beta @ x + fit.sigma2_u, rtol=1e-10)
    np.testing.assert_allclose(fit.beta_se, np.sqrt(np.diag(var_beta)), rtol=1e-10)
    z = 1.959963984540054
    np.testing.assert_allclose(est["ci_high"] - est["eblup"], z * np.sqrt(est["mse"]), rtol=1e-12)
    np.testing.assert_allclose(est["eblup"] - est["ci_low"], z * est["se"], rtol=1e-12)


def test_nan_variance_also_marks_out_of_sample() -> None:
    x = np.arange(8.0)
    direct = np.array([1.0, 2.5, 2.9, 4.2, 4.8, 6.3, 7.1, 8.0])
    psi = np.array([0.5, 0.4, np.nan, 0.6, 0.5, 0.3, 0.4, 0.5])
    fit = fay_herriot(direct, psi, x, level=0.90)
    est = fit.estimates
    assert list(est["method"]) == ["model"] * 2 + ["synthetic"] + ["model"] * 5
    assert np.isnan(est["direct_variance"].iloc[2])
    half_width = 1.6448536269514722 * est["se"]
    np.testing.assert_allclose(est["ci_high"] - est["ci_low"], 2 * half_width, rtol=1e-12)


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_sigma2_truncated_at_zero_when_sampling_variance_dominates(method: str) -> None:
    """Direct estimates that scatter less around the line than psi allows: sigma2_u = 0."""
    x = np.linspace(0.0, 1.0, 12)
    wiggle = 0.01 * np.array([1, -1, 2, -2, 1, 0, -1, 2, -2, 1, -1, 0])
    direct = 1.0 + 2.0 * x + wiggle
    psi = np.full(12, 1.0)
    fit = fay_herriot(direct, psi, x.reshape(-1, 1), method)
    assert fit.sigma2_u == 0.0
    assert fit.converged
    est = fit.estimates
    assert (est["gamma"] == 0).all()
    synthetic = fit.beta.iloc[0] + fit.beta.iloc[1] * x
    np.testing.assert_allclose(est["eblup"], synthetic, rtol=1e-12)
    # At sigma2_u = 0, beta is the weighted least squares fit and g1 = 0.
    ols = np.polynomial.polynomial.polyfit(x, direct, 1)
    np.testing.assert_allclose(fit.beta, ols, rtol=1e-10)
    assert (est["mse"] > 0).all()
    assert (est["mse"] < psi).all()


def test_series_input_uses_index_as_area() -> None:
    idx = pd.Index([f"K{i}" for i in range(6)], name="kommune")
    direct = pd.Series([1.0, 2.0, 2.5, 4.0, 3.5, 6.0], index=idx)
    X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]}, index=idx)
    fit = fay_herriot(direct, pd.Series(0.3, index=idx), X)
    assert list(fit.estimates["area"]) == list(idx)
    assert list(fit.beta.index) == ["(Intercept)", "x"]
    with pytest.raises(ValueError, match="different indexes"):
        fay_herriot(direct, np.full(6, 0.3), X.set_axis(list(range(6))))


def _loglik(A: float, y: np.ndarray, psi: np.ndarray, X: np.ndarray, reml: bool) -> float:
    """(Restricted) log-likelihood up to a constant, coded from the matrix formulas."""
    V = np.diag(A + psi)
    Vi = np.linalg.inv(V)
    M = X.T @ Vi @ X
    P = Vi - Vi @ X @ np.linalg.inv(M) @ X.T @ Vi
    value = -0.5 * (np.linalg.slogdet(V)[1] + y @ P @ y)
    return float(value - 0.5 * np.linalg.slogdet(M)[1] if reml else value)


@pytest.mark.parametrize(
    ("method", "x", "y", "psi", "expected"),
    [
        # Scoring from median(psi) overshoots below 0 although the maximum is interior.
        (
            "REML",
            [0.7, -1.2, 0.5, 0.7, 2.1, -1.7, -0.5],
            [7.84, 1.6, -5.45, 5.94, 10.67, -0.91, 0.17],
            [27.949, 0.241, 85.539, 22.749, 120.913, 0.05, 0.797],
            1.7377179,
        ),
        (
            "ML",
            [0.7, -1.2, 0.5, 0.7, 2.1, -1.7, -0.5],
            [7.84, 1.6, -5.45, 5.94, 10.67, -0.91, 0.17],
            [27.949, 0.241, 85.539, 22.749, 120.913, 0.05, 0.797],
            0.6208822,
        ),
        # Two local maxima; scoring climbs to the lower one (3.68), the boundary 0 is higher.
        (
            "REML",
            [0.1, 1.0, 0.5, 0.7, -0.1, -1.2, -1.4, 2.0],
            [0.3, 3.5, 0.0, -4.8, 1.8, 0.7, -3.2, 9.2],
            [0.04, 9.79, 0.44, 4.34, 2.55, 0.05, 7.74, 20.5],
            0.0,
        ),
        # Scoring stops on the boundary, but an interior maximum is higher.
        (
            "REML",
            [0.2, 0.2, 0.1, -1.3, -2.8, 1.0, 0.0, 0.7],
            [1.9, 2.2, 3.6, -0.8, -5.8, 0.9, -1.2, -0.5],
            [0.06, 0.14, 24.94, 16.01, 44.84, 0.43, 2.05, 33.1],
            1.2989217,
        ),
    ],
)
def test_hard_likelihoods_reach_the_global_maximum(
    method: str, x: list[float], y: list[float], psi: list[float], expected: float
) -> None:
    """Very unequal psi_i with few areas: Fisher scoring alone fails; the fit must not."""
    fit = fay_herriot(np.array(y), np.array(psi), np.array(x), method)
    assert fit.converged
    assert fit.sigma2_u == pytest.approx(expected, rel=1e-6, abs=1e-12)
    Y, PSI = np.array(y), np.array(psi)
    X = np.column_stack([np.ones(len(x)), x])
    reml = method == "REML"
    grid = np.concatenate([[0.0], np.geomspace(1e-6, 1e4, 2000)])
    best_on_grid = max(_loglik(float(a), Y, PSI, X, reml) for a in grid)
    assert _loglik(fit.sigma2_u, Y, PSI, X, reml) >= best_on_grid - 1e-12


_X3 = np.column_stack([np.arange(6.0), np.arange(6.0) ** 2])
_Y = np.array([1.0, 2.0, 2.5, 4.0, 3.5, 6.0])
_V = np.full(6, 0.3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"variance": np.full(5, 0.3)}, "direct has 6 areas but variance has 5"),
        ({"covariates": _X3[:5]}, "covariates has 5 rows"),
        ({"variance": np.array([0.3, 0.3, 0.0, 0.3, 0.3, 0.3])}, "positive.*position 2"),
        ({"variance": np.array([0.3, -1.0, 0.3, 0.3, 0.3, 0.3])}, "positive.*position 1"),
        ({"direct": np.array([1.0, np.nan, np.nan, np.nan, 3.5, 6.0])}, "at least 4 in-sample"),
        ({"covariates": np.where(np.eye(6, 2, k=-3) > 0, np.nan, _X3)}, "non-finite.*row 3"),
        ({"covariates": np.where(np.eye(6, 2) > 0, np.inf, _X3)}, "non-finite.*row 0"),
        ({"direct": np.array([1.0, np.inf, 2.5, 4.0, 3.5, 6.0])}, "direct is infinite"),
        ({"covariates": np.column_stack([np.ones(6), np.ones(6)])}, "collinear"),
        ({"method": "FH"}, "method must be"),
        ({"level": 1.5}, "level"),
        ({"area": ["a", "b"]}, "area has shape"),
    ],
)
def test_bad_input_raises_clear_errors(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"direct": _Y, "variance": _V, "covariates": _X3, **kwargs}
    with pytest.raises(ValueError, match=match):
        fay_herriot(**args)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(
    m=st.integers(min_value=4, max_value=25),
    method=st.sampled_from(["REML", "ML"]),
    data=st.data(),
)
def test_eblup_lies_between_direct_and_synthetic(m: int, method: str, data: st.DataObject) -> None:
    elements = st.floats(-100.0, 100.0, allow_nan=False)
    direct = data.draw(arrays(np.float64, m, elements=elements))
    psi = data.draw(arrays(np.float64, m, elements=st.floats(0.01, 100.0)))
    jitter = data.draw(arrays(np.float64, m, elements=st.floats(-0.4, 0.4)))
    x = np.arange(m, dtype=float) + jitter  # never constant, so never collinear with 1
    fit = fay_herriot(direct, psi, x, method)
    est = fit.estimates
    synthetic = fit.beta.iloc[0] + fit.beta.iloc[1] * x
    lo = np.minimum(direct, synthetic)
    hi = np.maximum(direct, synthetic)
    slack = 1e-9 * (1.0 + np.abs(direct) + np.abs(synthetic))
    assert fit.sigma2_u >= 0.0
    assert np.all(est["eblup"] >= lo - slack)
    assert np.all(est["eblup"] <= hi + slack)
    assert np.all((est["gamma"] >= 0) & (est["gamma"] <= 1))
    assert np.all(est["mse"] > 0)
