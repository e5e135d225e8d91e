"""Parity with R `survey` on random designs (needs Rscript with survey; see tests/conftest.py).

Twenty-five designs are drawn with numpy's Generator (fixed seeds, so failures are
reproducible): 2-5 strata or none; element sampling, one-stage or two-stage cluster sampling;
with or without fpc (population sizes or sampling fractions, some strata taken completely);
lonely PSUs under "adjust", "average", "certainty" and "remove"; random weights; missing values
in y (na_rm=True, R na.rm=TRUE); 2-6 domains, some strata without members of some domains; and
sometimes post-stratification, raking on two margins or linear calibration to margins counted
on a random "population". For each design the mean and total of y and the proportion of z in
{1, 2} (z = 8 and missing z outside the base) are compared overall and by domain, and the
coefficients of two design-based regressions (R's ``svyglm``): ``y ~ x + c1`` (gaussian) and
``ind ~ x + c2`` (quasibinomial, ind = z in {1, 2} on the proportion's base). All designs
go to R in one call of ``tests/golden/parity.R``, so R starts once.

Tolerances: estimates rtol 1e-9 (raking is iterated to 1e-13 on both sides), standard errors
rtol 1e-8 (logistic coefficients' SEs 2e-7: R's glm.fit returns the working weights of the
iteration before its last, whose coefficients differ by about the square root of the deviance
criterion, 1e-7) with an absolute floor of 1e-9 x |estimate| for SEs that are zero in exact
arithmetic (a domain whose answers are all equal), degrees of freedom exactly.

Known differences under lonely_psu="average", where R has nothing to average over and returns
NaN: (1) a domain whose strata with members are all lonely -- tryg gives SE 0 (NaN is accepted
too, should tryg follow R); (2) a PSU with a single SSU at stage 2 (the PSU is a call of
onestage on its own) -- R's SE is NaN, tryg lets that PSU contribute nothing; such draws are
not made.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tryg import stats
from tryg.stats import regression

SCRIPT = Path(__file__).resolve().parents[1] / "golden" / "parity.R"
N_DESIGNS = 25
RTOL_EST = 1e-9
RTOL_SE = 1e-8
RTOL_SE_LOGIT = 2e-7
ATOL_SE = 1e-9  # times |estimate|
LONELY = ("adjust", "average", "certainty", "remove")

pytestmark = pytest.mark.r


@dataclass
class Dataset:
    id: int
    data: pd.DataFrame
    strata: bool
    stages: int  # 0: elements, 1: one-stage clusters, 2: two-stage
    fpc: bool
    lonely: str
    calib: str  # none, poststrat, rake, linear
    targets: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        parts = [f"d{self.id:02d}", f"strata{self.data['stratum'].nunique() if self.strata else 0}",
                 ["elements", "clus1", "clus2"][self.stages], "fpc" if self.fpc else "nofpc",
                 self.lonely, self.calib]
        return "-".join(parts)


def _draw(seed: int) -> Dataset:
    rng = np.random.default_rng([20240611, seed])
    strata = bool(rng.random() < 0.75)
    n_strata = int(rng.integers(2, 6)) if strata else 1
    stages = int(rng.choice([0, 1, 2], p=[0.25, 0.45, 0.30]))
    with_fpc = bool(rng.random() < 0.5)
    fractions = with_fpc and bool(rng.random() < 0.3)
    lonely = str(rng.choice(["fail", *LONELY], p=[0.35, 0.25, 0.2, 0.1, 0.1]))
    calib = str(rng.choice(["none", "poststrat", "rake", "linear"], p=[0.4, 0.2, 0.2, 0.2]))
    # a lonely PSU needs strata (stage 1) or two stages with fpc (a PSU with one SSU); R gives
    # NaN for a lone SSU under "average" (its PSU is a call of onestage with no other stratum
    # to average over) where tryg gives no contribution, so that pair is not drawn
    lonely_stratum = lonely != "fail" and strata and bool(rng.random() < 0.8)
    lonely_ssu = lonely not in ("fail", "average") and stages == 2 and with_fpc

    rows: list[dict[str, float | int]] = []
    for h in range(n_strata):
        n_h = int(rng.integers(2, 12 if stages == 0 else 6))
        if lonely_stratum and h == 0:
            n_h = 1
        N_h = n_h + int(rng.integers(0, 25)) if rng.random() < 0.85 else n_h  # some censuses
        if n_h == 1 and N_h == 1 and rng.random() < 0.7:
            N_h = 1 + int(rng.integers(1, 10))
        base_w = float(rng.uniform(2, 40))
        effect_h = rng.normal(0, 5)
        for j in range(n_h):
            psu = j + 1  # PSU labels repeat across strata (nest=TRUE)
            effect_j = rng.normal(0, 3)
            if stages == 2:
                m_j = int(rng.integers(1 if lonely_ssu else 2, 4))
                M_j = m_j + int(rng.integers(0, 8)) if rng.random() < 0.85 else m_j
                ssus = [(k + 1, int(rng.integers(1, 4))) for k in range(m_j)]
            else:
                m_j = M_j = 1
                ssus = [(1, 1 if stages == 0 else int(rng.integers(1, 7)))]
            for ssu, size in ssus:
                for _ in range(size):
                    rows.append({
                        "stratum": h + 1, "psu1": psu, "psu2": ssu,
                        "fpc1": n_h / N_h if fractions else N_h,
                        "fpc2": m_j / M_j if fractions else M_j,
                        "w": base_w * float(rng.uniform(0.7, 1.3)),
                        "y": 50 + effect_h + effect_j + float(rng.normal(0, 10)),
                    })
    data = pd.DataFrame(rows)
    n = len(data)
    if stages == 0:
        data["psu1"] = np.arange(1, n + 1)
    data.loc[rng.random(n) < 0.1, "y"] = np.nan
    z = rng.choice([1.0, 2.0, 3.0, 4.0, 8.0], size=n, p=[0.3, 0.2, 0.2, 0.2, 0.1])
    z[rng.random(n) < 0.05] = np.nan
    data["z"] = z
    data["x"] = rng.uniform(1, 10, size=n)

    k = int(rng.integers(2, 7))
    levels = np.array([f"d{i}" for i in range(1, k + 1)])
    for _attempt in range(200):
        allowed = {
            h: (levels if rng.random() < 0.6
                else rng.choice(levels, size=int(rng.integers(1, k + 1)), replace=False))
            for h in range(1, n_strata + 1)
        }
        dom = np.array([rng.choice(allowed[h]) for h in data["stratum"]])
        in_base = ~np.isnan(z) & (z != 8)
        ok = all(
            (~np.isnan(data["y"].to_numpy()[dom == lev])).any() and in_base[dom == lev].any()
            for lev in np.unique(dom)
        )
        c1 = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
        c2 = rng.choice(["u", "v"], size=n)
        ok = ok and len(set(zip(c1, c2, strict=True))) == 6
        if ok:
            break
    else:  # pragma: no cover - the seeds below all succeed
        raise RuntimeError(f"seed {seed}: could not draw domains and cells")
    data["dom"], data["c1"], data["c2"] = dom, c1, c2
    data["ind"] = np.where(np.isnan(z) | (z == 8), np.nan, np.isin(z, [1.0, 2.0]).astype(float))
    data.insert(0, "id", seed)

    targets: dict[str, dict[str, float]] = {}
    if calib != "none":
        N_pop = round(float(data["w"].sum()) * float(rng.uniform(0.9, 1.1)))
        probs = rng.dirichlet(np.full(6, 4.0))
        counts = rng.multinomial(N_pop, probs).reshape(3, 2) + 1  # no empty population cell
        targets["c1"] = dict(zip(["a", "b", "c"], counts.sum(axis=1).astype(float), strict=True))
        targets["c2"] = dict(zip(["u", "v"], counts.sum(axis=0).astype(float), strict=True))
        targets["(Intercept)"] = {"": float(counts.sum())}
        targets["x"] = {"": float(counts.sum()) * float(rng.uniform(4.5, 6.5))}
    return Dataset(seed, data, strata, stages, with_fpc, lonely, calib, targets)


DATASETS = [_draw(seed) for seed in range(N_DESIGNS)]


def design_for(ds: Dataset) -> stats.Design:
    psu = {0: None, 1: "psu1", 2: ["psu1", "psu2"]}[ds.stages]
    fpc = None
    if ds.fpc:
        fpc = ["fpc1", "fpc2"] if ds.stages == 2 else "fpc1"
    d = stats.Design(ds.data, weights="w", strata="stratum" if ds.strata else None, psu=psu,
                     fpc=fpc, lonely_psu=ds.lonely)
    t = ds.targets
    if ds.calib == "poststrat":
        d = stats.poststratify(d, "c1", t["c1"])
    elif ds.calib == "rake":
        d = stats.rake(d, {"c1": t["c1"], "c2": t["c2"]}, epsilon=1e-13, maxit=200)
    elif ds.calib == "linear":
        totals = {"(Intercept)": t["(Intercept)"][""], "c1=b": t["c1"]["b"],
                  "c1=c": t["c1"]["c"], "x": t["x"][""]}
        d = stats.calibrate(d, totals)
    return d


def ours(ds: Dataset) -> pd.DataFrame:
    d = design_for(ds)
    frames = []
    for by in (None, "dom"):
        for stat, table in (
            ("mean", stats.mean(d, "y", by=by)),
            ("total", stats.total(d, "y", by=by)),
            ("proportion", stats.proportion(d, "z", [1, 2], exclude=[8], by=by)),
        ):
            out = table.assign(stat=stat, domain=table["dom"] if by else "")
            frames.append(out[["stat", "domain", "estimate", "se", "df"]])
    models: tuple[tuple[str, str, regression.Family], ...] = (
        ("lin", "y ~ x + c1", "gaussian"), ("logit", "ind ~ x + c2", "quasibinomial"))
    answered = ds.data.dropna(subset=["ind"])
    separated = (answered.groupby("c2")["ind"].nunique() < 2).any()
    for name, formula, family in models if (d.weights >= 0).all() else ():
        if name == "logit" and separated:
            continue  # a level of c2 with only 0s or only 1s: no finite estimate (R skips too)
        table = regression.glm(d, formula, family).table()
        frames.append(pd.DataFrame({
            "stat": [f"{name}{k}" for k in range(len(table))], "domain": "",
            "estimate": table["estimate"], "se": table["se"], "df": table["df"],
        }))
    return pd.concat(frames, ignore_index=True)


@dataclass
class RRun:
    results: pd.DataFrame


@pytest.fixture(scope="module")
def r_results(rscript: Path, tmp_path_factory: pytest.TempPathFactory) -> RRun:
    folder = tmp_path_factory.mktemp("parity")
    data = pd.concat([ds.data for ds in DATASETS], ignore_index=True)
    data.to_csv(folder / "data.csv", index=False, float_format="%.17g", na_rep="")
    spec = pd.DataFrame([
        {"id": ds.id, "strata": int(ds.strata), "stages": ds.stages, "fpc": int(ds.fpc),
         "lonely": ds.lonely, "calib": ds.calib, "by": 1}
        for ds in DATASETS
    ])
    spec.to_csv(folder / "spec.csv", index=False)
    targets = pd.DataFrame([
        {"id": ds.id, "margin": margin, "level": level, "total": total}
        for ds in DATASETS for margin, cells in ds.targets.items()
        for level, total in cells.items()
    ], columns=["id", "margin", "level", "total"])
    targets.to_csv(folder / "targets.csv", index=False, float_format="%.17g")
    result = subprocess.run(
        [str(rscript), str(SCRIPT), *(str(folder / f) for f in
                                      ("data.csv", "spec.csv", "targets.csv", "out.csv"))],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = pd.read_csv(folder / "out.csv", dtype={"stat": str, "domain": str},
                      keep_default_na=False, na_values={"estimate": [""], "se": [""]})
    return RRun(out)


def test_draws_cover_the_design_space() -> None:
    """The seeds must keep exercising every feature the module docstring promises."""
    assert {ds.stages for ds in DATASETS} == {0, 1, 2}
    assert {ds.calib for ds in DATASETS} == {"none", "poststrat", "rake", "linear"}
    assert {ds.lonely for ds in DATASETS} >= {"fail", "adjust", "average"}
    assert any(ds.fpc and ds.stages == 2 for ds in DATASETS)
    assert any(ds.fpc and (ds.data["fpc1"] <= 1).all() for ds in DATASETS)  # fractions
    assert any(not ds.strata for ds in DATASETS)
    assert any(ds.data.groupby("stratum")["psu1"].nunique().min() == 1 for ds in DATASETS)
    assert any(  # a PSU with a single SSU (lonely at stage 2)
        ds.stages == 2 and ds.data.groupby(["stratum", "psu1"])["psu2"].nunique().min() == 1
        for ds in DATASETS
    )
    assert any(  # a stratum sampled completely
        ds.fpc and (ds.data.groupby("stratum")["psu1"].nunique()
                    == ds.data.groupby("stratum")["fpc1"].first()).any()
        for ds in DATASETS
    )
    partial = [
        ds for ds in DATASETS
        if ds.data.groupby("stratum")["dom"].nunique().min() < ds.data["dom"].nunique()
    ]
    assert len(partial) >= 3  # domains missing from some strata
    lonely_average = [
        ds for ds in DATASETS
        if ds.lonely == "average" and ds.data.groupby("stratum")["psu1"].nunique().min() == 1
    ]
    assert {ds.calib == "none" for ds in lonely_average} == {True, False}


@pytest.mark.parametrize("ds", DATASETS, ids=[ds.label for ds in DATASETS])
def test_parity_with_r(ds: Dataset, r_results: RRun) -> None:
    theirs = r_results.results[r_results.results["id"] == ds.id]
    mine = ours(ds)
    merged = theirs.merge(mine, on=["stat", "domain"], how="outer", suffixes=("_r", "_py"),
                          indicator=True)
    unmatched = merged[merged["_merge"] != "both"]
    assert unmatched.empty, f"rows on one side only:\n{unmatched[['stat', 'domain', '_merge']]}"
    problems = []
    for _, row in merged.iterrows():
        where = f"{row['stat']} {row['domain'] or '(all)'}"
        est_r, est_p = row["estimate_r"], row["estimate_py"]
        if not np.isclose(est_p, est_r, rtol=RTOL_EST, atol=0):
            problems.append(f"{where}: estimate R {est_r!r} tryg {est_p!r}")
        se_r, se_p = row["se_r"], row["se_py"]
        if np.isnan(se_r) and ds.lonely == "average" and np.isnan(se_p):
            continue  # known: every stratum of the domain is lonely (see module docstring)
        rtol_se = RTOL_SE_LOGIT if row["stat"].startswith("logit") else RTOL_SE
        if not np.isclose(se_p, se_r, rtol=rtol_se, atol=ATOL_SE * abs(est_r)):
            problems.append(f"{where}: se R {se_r!r} tryg {se_p!r} "
                            f"(rel. diff {abs(se_p - se_r) / abs(se_r):.2e})")
        if row["df_r"] != row["df_py"]:
            problems.append(f"{where}: df R {row['df_r']} tryg {row['df_py']}")
    assert not problems, f"{ds.label}:\n" + "\n".join(problems)
