"""Benchmark: design-based logistic regression by domain, tryg against R `survey` and `svy`.

On the national demo (``generate(seed, "national")``: ~300,000 respondents in 10 waves,
22,000 wave x neighbourhood strata), the design is stratified by wave x neighbourhood and raked
per wave to the population's sex and age margins. A logistic (quasibinomial) model of "feels
unsafe" (``tryg_nabolag`` 5-7; 8 = don't know is missing) on the four neighbourhood-problem
items, trust in the police, sex, age group and wave (12 coefficients) is fitted in each of the
98 districts (the level above the neighbourhoods), with linearised SEs that account for the
raking.

* tryg: ``regression.glm_by`` on all 98 districts.
* svy: ``sample.glm.fit(..., where=district == d)`` on the raked sample, per district (all 98
  unless ``--svy-domains``).
* R: ``svyglm`` on ``subset()`` of the raked design per district (what ``svyby(..., svyglm)``
  does), on ``--r-domains`` randomly chosen districts, started first and run alongside; its
  time per district is scaled linearly to 98 (each fit works on the whole calibrated design:
  ``subset()`` of a calibrated design keeps every row, so a district costs about the same
  whatever its size). See bench/r/stats_regression.R for the R formulation.

Coefficients and SEs are compared with tryg's (max relative difference, asserted <= 1e-6).
Times are wall-clock and CPU seconds (the machine is shared, so CPU is the steadier number).

Usage: ``.venv/bin/python bench/stats_regression.py [--seed N] [--r-domains K]
[--svy-domains K] [--r-timeout S] [--out FILE]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, ratio, seconds
from tryg import stats
from tryg.demo.model import generate
from tryg.stats import regression

T = TypeVar("T")
R_SCRIPT = Path(__file__).resolve().parent / "r" / "stats_regression.R"
FORMULA = ("unsafe ~ problem_trusler + problem_koersel + problem_narko + problem_uro"
           " + tillid_politi + sex + age_group + wave")
PROBLEMS = ["problem_trusler", "problem_koersel", "problem_narko", "problem_uro"]
TOLERANCE = 1e-6


def prepare(seed: int) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    data = generate(seed, "national")
    sv = data.survey.responses.copy()
    t = sv["tryg_nabolag"]
    sv["unsafe"] = np.where(t.isna() | (t == 8), np.nan, (t >= 5).astype(float))
    for col in [*PROBLEMS, "tillid_politi"]:
        sv[col] = sv[col].where(sv[col] != 8)
    sv["wstratum"] = sv["wave"].astype(str) + "|" + sv["stratum"].astype(str)
    sv["district"] = sv["area_code"].str[:7]
    pop = data.population.table
    cells = pop[(pop["area_code"] == "9999") & pop["sex"].notna()
                & pop["year"].isin(sv["wave"].unique())]
    by_sex = cells.groupby(["year", "sex"])["population"].sum()
    by_age = cells.groupby(["year", "age_group"])["population"].sum()
    return sv, by_sex, by_age


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def clocked(fn: Callable[[], T]) -> tuple[T, float, float]:
    """``fn()``, its wall-clock seconds and this process's CPU seconds (all threads)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def run_tryg(sv: pd.DataFrame, by_sex: pd.Series, by_age: pd.Series
             ) -> tuple[pd.DataFrame, list[regression.GLMFit], dict[str, tuple[float, float]]]:
    def design() -> stats.Design:
        d = stats.Design(sv, weights="weight", strata="wstratum", lonely_psu="adjust")
        raked = stats.rake(d, {("wave", "sex"): by_sex, ("wave", "age_group"): by_age},
                           epsilon=1e-13, maxit=200)
        assert isinstance(raked, stats.Design)
        return raked

    raked, w1, c1 = clocked(design)
    (keys, fits), w2, c2 = clocked(
        lambda: regression.glm_by(raked, FORMULA, "district", "quasibinomial"))
    return keys, fits, {"design+rake": (w1, c1), "glm_by": (w2, c2)}


def start_r(sv: pd.DataFrame, by_sex: pd.Series, by_age: pd.Series, districts: list[str],
            tmp: Path) -> subprocess.Popen[bytes]:
    cols = ["wstratum", "weight", "district", "unsafe", *PROBLEMS, "tillid_politi", "sex",
            "age_group", "wave"]
    out = sv[cols].assign(ws=sv["wave"].astype(str) + "|" + sv["sex"],
                          wa=sv["wave"].astype(str) + "|" + sv["age_group"])
    out.to_csv(tmp / "data.csv", index=False, float_format="%.17g")
    pd.DataFrame({"ws": [f"{w}|{s}" for w, s in by_sex.index], "Freq": by_sex.to_numpy()}
                 ).to_csv(tmp / "ws.csv", index=False)
    pd.DataFrame({"wa": [f"{w}|{a}" for w, a in by_age.index], "Freq": by_age.to_numpy()}
                 ).to_csv(tmp / "wa.csv", index=False)
    (tmp / "districts.txt").write_text("\n".join(districts) + "\n")
    script = shutil.copy(R_SCRIPT, tmp)
    with open(tmp / "r.stdout", "wb") as so, open(tmp / "r.stderr", "wb") as se:
        return subprocess.Popen(["Rscript", str(script), *(str(tmp / f) for f in (
            "data.csv", "ws.csv", "wa.csv", "districts.txt", "out.csv"))], stdout=so, stderr=se)


def finish_r(proc: subprocess.Popen[bytes], tmp: Path, timeout: float
             ) -> tuple[pd.DataFrame, dict[str, tuple[float, float]], str, float]:
    """Wait for R (stopping it after ``timeout``); its results, timings, status, CPU seconds."""
    status = "finished"
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()
        proc.wait()
        status = f"stopped after {timeout:.0f} s"
    r_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, None) and status == "finished":
        raise RuntimeError(f"Rscript failed:\n{(tmp / 'r.stderr').read_text()[-3000:]}")
    times = {}
    for line in (tmp / "r.stdout").read_text().splitlines():
        if line.startswith("timing "):
            _, step, wall, cpu = line.split()
            times[step] = (float(wall), float(cpu))
    res = (pd.read_csv(tmp / "out.csv", dtype={"district": str})
           if (tmp / "out.csv").exists() else pd.DataFrame())
    return res, times, status, r_cpu.ru_utime + r_cpu.ru_stime


def run_svy(sv: pd.DataFrame, by_sex: pd.Series, by_age: pd.Series, districts: list[str]
            ) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, tuple[float, float]]]:
    import polars as pl
    import svy

    cols = ["wstratum", "weight", "district", "unsafe", *PROBLEMS, "tillid_politi", "sex",
            "age_group", "wave"]
    df = pl.from_pandas(sv[cols].assign(
        ws=sv["wave"].astype(str) + "|" + sv["sex"],
        wa=sv["wave"].astype(str) + "|" + sv["age_group"]).reset_index(drop=True))
    controls: dict[str, dict[str | int | float | bool, int | float]] = {
        "ws": {f"{w}|{s}": float(v) for (w, s), v in zip(by_sex.index, by_sex, strict=True)},
        "wa": {f"{w}|{a}": float(v) for (w, a), v in zip(by_age.index, by_age, strict=True)},
    }
    x: list[str | svy.Cat] = [*PROBLEMS, "tillid_politi", svy.Cat("sex"), svy.Cat("age_group"),
                              "wave"]

    def design() -> svy.Sample:
        sample = svy.Sample(df, svy.Design(stratum="wstratum", wgt="weight"))
        return sample.weighting.rake(controls=controls, tol=1e-13, max_iter=200)

    def fits() -> dict[str, tuple[np.ndarray, np.ndarray]]:
        out = {}
        for d in districts:
            fit = sample.glm.fit("unsafe", x=x, family="binomial",
                                 where=svy.col("district") == d, tol=1e-12)
            out[d] = (np.array([c.est for c in fit.coefs]), np.array([c.se for c in fit.coefs]))
        return out

    sample: svy.Sample
    sample, w1, c1 = clocked(design)
    res, w2, c2 = clocked(fits)
    return res, {"design+rake": (w1, c1), "glm": (w2, c2)}


def worst(fits: dict[str, regression.GLMFit], other: dict[str, tuple[np.ndarray, np.ndarray]]
          ) -> tuple[float, float]:
    wb = ws = 0.0
    for d, (b, se) in other.items():
        fit = fits[d]
        assert len(b) == len(fit.coefficients), (d, b, fit.names)
        wb = max(wb, float(np.max(np.abs(fit.coefficients - b) / np.abs(b))))
        ws = max(ws, float(np.max(np.abs(fit.se - se) / se)))
    return wb, ws


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--r-domains", type=int, default=5)
    parser.add_argument("--svy-domains", type=int, default=98)
    parser.add_argument("--r-timeout", type=float, default=3600.0)
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parent / "results" /
                        "stats_regression.md")
    args = parser.parse_args()
    load_start = os.getloadavg()
    sv, by_sex, by_age = prepare(args.seed)
    all_districts = sorted(sv["district"].unique().tolist())
    rng = np.random.default_rng(args.seed)
    r_chosen = sorted(rng.choice(all_districts, size=args.r_domains, replace=False).tolist())
    svy_chosen = (all_districts if args.svy_domains >= len(all_districts) else
                  sorted(rng.choice(all_districts, size=args.svy_domains,
                                    replace=False).tolist()))
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        proc = start_r(sv, by_sex, by_age, r_chosen, tmp)  # R first: it takes longest
        keys, fit_list, t_py = run_tryg(sv, by_sex, by_age)
        print(f"tryg: {t_py}", flush=True)
        svy_res, t_svy = run_svy(sv, by_sex, by_age, svy_chosen)
        print(f"svy: {t_svy}", flush=True)
        r_res, t_r, r_status, r_cpu_total = finish_r(proc, tmp, args.r_timeout)
        print(f"R ({r_status}): {t_r}", flush=True)
    load_end = os.getloadavg()
    fits = dict(zip(keys["district"], fit_list, strict=True))
    n_dom = len(fit_list)
    r_done = sorted(r_res["district"].unique().tolist()) if len(r_res) else []
    if not r_done:
        raise RuntimeError("R did not finish a single district")
    assert r_res["converged"].all(), r_res[~r_res["converged"]]
    r_fits = {str(d): (g.sort_values("position")["estimate"].to_numpy(np.float64),
                  g.sort_values("position")["se"].to_numpy(np.float64))
              for d, g in r_res.groupby("district")}
    r_b, r_se = worst(fits, r_fits)
    svy_b, svy_se = worst(fits, svy_res)
    print(f"max rel diff: R coef {r_b:.1e} se {r_se:.1e}; svy coef {svy_b:.1e} se {svy_se:.1e}")

    py_wall = sum(w for w, _ in t_py.values())
    py_cpu = sum(c for _, c in t_py.values())
    per_d = [t_r[f"svyglm:{d}"] for d in r_done]
    r_fit_wall = sum(w for w, _ in per_d)
    r_fit_cpu = sum(c for _, c in per_d)
    r_setup_wall = t_r["design"][0] + t_r["rake"][0]
    r_setup_cpu = t_r["design"][1] + t_r["rake"][1]
    r_wall = r_setup_wall + r_fit_wall * n_dom / len(r_done)
    r_cpu = r_setup_cpu + r_fit_cpu * n_dom / len(r_done)
    svy_fit_wall, svy_fit_cpu = t_svy["glm"]
    svy_wall = t_svy["design+rake"][0] + svy_fit_wall * n_dom / len(svy_chosen)
    svy_cpu = t_svy["design+rake"][1] + svy_fit_cpu * n_dom / len(svy_chosen)
    info = machine(packages=("numpy", "pandas", "scipy", "formulaic", "polars", "svy"))
    svy_scaled = len(svy_chosen) < n_dom
    rows = [
        ["tryg: design + rake", seconds(t_py["design+rake"][0]),
         seconds(t_py["design+rake"][1]), ""],
        [f"tryg: `glm_by`, {n_dom} districts", seconds(t_py["glm_by"][0]),
         seconds(t_py["glm_by"][1]), ""],
        ["**tryg total**", f"**{seconds(py_wall)}**", f"**{seconds(py_cpu)}**", "1"],
        ["svy: sample + rake", seconds(t_svy["design+rake"][0]),
         seconds(t_svy["design+rake"][1]), ""],
        [f"svy: `glm.fit(where=)`, {len(svy_chosen)} districts", seconds(svy_fit_wall),
         seconds(svy_fit_cpu), ""],
        [f"**svy total{', scaled to ' + str(n_dom) + ' districts' if svy_scaled else ''}**",
         f"**{seconds(svy_wall)}**", f"**{seconds(svy_cpu)}**",
         f"{ratio(svy_wall, py_wall)} / {ratio(svy_cpu, py_cpu)}"],
        ["R: svydesign + rake", seconds(r_setup_wall), seconds(r_setup_cpu), ""],
        [f"R: svyglm, {plural(len(r_done), 'district')} (measured)", seconds(r_fit_wall),
         seconds(r_fit_cpu), ""],
        [f"**R total, svyglm scaled to {n_dom} districts**", f"**{seconds(r_wall)}**",
         f"**{seconds(r_cpu)}**", f"**{ratio(r_wall, py_wall)} / {ratio(r_cpu, py_cpu)}**"],
    ]
    iters = r_res.groupby("district")["iterations"].first()
    lines = [
        "# bench/stats_regression.py", "",
        *(f"- {k}: {v}" for k, v in info.items()),
        f"- load average (1, 5, 15 min) at the start {', '.join(f'{x:.1f}' for x in load_start)}"
        f", at the end {', '.join(f'{x:.1f}' for x in load_end)} (2 cores shared by several "
        "engineers: wall times are inflated and noisy, CPU seconds are the steadier measure)",
        "",
        f"Data: national demo seed {args.seed}, {len(sv):,} respondents, "
        f"{sv['wstratum'].nunique():,} wave × neighbourhood strata, raked per wave to sex and "
        f"age; model `{FORMULA}` (quasibinomial, {len(fit_list[0].names)} coefficients) in "
        f"each of {n_dom} districts (about {len(sv) // n_dom:,} respondents each), linearised "
        "SEs with the raking. One run each, no warm-up. R ran alongside tryg and svy (started "
        "first), so all three shared the machine with each other as well.", "",
        markdown_table(["what", "wall s", "CPU s", "time / tryg's (wall / CPU)"], rows), "",
        f"R was run on {plural(len(r_chosen), 'randomly chosen district')} "
        f"({', '.join(r_chosen)}; R "
        f"{r_status}, {len(r_done)} done, {', '.join(map(str, iters.tolist()))} IRLS "
        f"iterations) and its svyglm time scaled linearly to {n_dom} districts: every fit "
        "works on the whole calibrated design (`subset()` of a calibrated design keeps all "
        f"rows, as `svyby` does), so a district costs about the same whatever its size. R's CPU "
        f"time of the whole run, as the OS counts it: {r_cpu_total:.1f} s. "
        f"svy: {plural(len(svy_chosen), 'district')}"
        f"{' (time scaled to ' + str(n_dom) + ')' if svy_scaled else ''}.", "",
        f"Agreement with tryg (max relative difference over all coefficients and SEs of the "
        f"districts compared): R ({plural(len(r_done), 'district')}) coefficients {r_b:.1e}, SEs "
        f"{r_se:.1e}; svy ({len(svy_chosen)} districts) coefficients {svy_b:.1e}, SEs "
        f"{svy_se:.1e}. Asserted <= {TOLERANCE:g}.", "",
        "R formulation (bench/r/stats_regression.R): `svydesign(ids = ~1, strata = ~wstratum, "
        "weights = ~weight, check.strata = FALSE)`, `rake()` to wave × sex and wave × age, "
        "then per district `svyglm(f, subset(raked, district == d), family = quasibinomial(), "
        "start = 0)` and `coef()`/`SE()`. `check.strata = FALSE` instead of `nest = TRUE` "
        "(the same design: every respondent is its own PSU) avoids a factor of 299,872 PSU "
        "levels that survey's per-stratum code copies once per stratum (quadratic: the first "
        "run of this bench did not finish 2 districts in 16 CPU minutes); `coef()`/`SE()` "
        "instead of `summary()` skips a dispersion estimate the table does not need; `start = "
        "0` because svyglm's default start diverges on this model (coefficients of 1e16).",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    assert max(r_b, r_se, svy_b, svy_se) <= TOLERANCE, "tryg, R and svy disagree"


if __name__ == "__main__":
    main()
