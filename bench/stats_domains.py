"""Benchmark: a national job, "feels safe" per area × wave after raking, tryg against svy and R.

The job (sizes of the Danish safety survey): 10 waves × 30,000 respondents, 98 strata (the
kommuner), 2,200 areas nested in the strata, weights raked per wave × stratum to sex and to
age margins, then the share answering 1–3 on q1 (8 = "don't know" left out of the base) with
its linearised SE in every area × wave (about 22,000 domains). One design holds all waves:
its strata are wave × stratum (column ``wstratum``), every respondent is its own PSU.

Run from the repository root: ``.venv/bin/python bench/stats_domains.py`` (``--quick`` for a
smoke run in seconds). The table is printed and written to bench/results/stats_domains.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import pickle
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    RESULTS_DIR,
    agreement,
    agrees,
    draw,
    format_agreement,
    largest_remainder,
    machine,
    markdown_table,
    peak_rss_mib,
    ratio,
    seconds,
    timed,
)
from tryg import stats
from tryg.stats.calibration import Margins

R_SCRIPT = Path(__file__).resolve().parent / "r" / "stats_domains.R"
KEYS = ["area", "wave"]  # the domains
CODES = [1, 2, 3]  # "feels safe" on the 1–7 scale
DONT_KNOW = 8
# Raking stops when no cell changes by more than EPSILON × the total weight in a round (tryg's
# and R's rule). Relative to the national total, the default 1e-10 leaves the weights of the
# smallest strata ~1.5e-7 (relative) short of convergence, so estimates would differ from svy's
# (which stops on each margin cell's relative error) by ~2e-8; 1e-13 costs 3 more rounds.
EPSILON = 1e-13
AGE_SHARES = np.array([0.19, 0.24, 0.24, 0.22, 0.11])  # 18–29, 30–44, 45–59, 60–74, 75+
RESPONSE_AGE = np.array([0.6, 0.8, 1.0, 1.3, 1.1])  # relative response propensity
RESPONSE_SEX = np.array([0.9, 1.1])  # men, women


@dataclass(frozen=True)
class Size:
    waves: int
    per_wave: int
    strata: int
    areas: int
    min_stratum: int  # respondents per stratum and wave before the proportional share


FULL = Size(waves=10, per_wave=30_000, strata=98, areas=2_200, min_stratum=100)
BIG = Size(waves=10, per_wave=300_000, strata=98, areas=10_000, min_stratum=1_000)
QUICK = Size(waves=2, per_wave=3_000, strata=12, areas=120, min_stratum=100)
QUICK_BIG = Size(waves=2, per_wave=30_000, strata=12, areas=600, min_stratum=1_000)


@dataclass(frozen=True)
class Job:
    data: pd.DataFrame  # wave, stratum, wstratum, area, sex, age, w, q1, wss, was
    pop_sex: pd.DataFrame  # wave, stratum, sex, N
    pop_age: pd.DataFrame  # wave, stratum, age, N


def generate(size: Size, seed: int) -> Job:
    """A synthetic national survey: deterministic for a seed, every raking cell occupied."""
    rng = np.random.default_rng(seed)
    H = size.strata
    pop = np.clip(np.exp(rng.normal(np.log(30_000), 0.9, H)), 1_500, 650_000).round()
    n_areas = largest_remainder(size.areas, pop**0.8, minimum=1)
    area_share = [np.exp(rng.normal(0, 0.5, k)) for k in n_areas]
    area_first = np.concatenate([[0], np.cumsum(n_areas)[:-1]])
    female = rng.beta(500, 490, H)
    age_share = np.stack([rng.dirichlet(AGE_SHARES * 300) for _ in range(H)])
    area_logit = rng.normal(1.0, 0.6, size.areas)
    age_effect = np.array([0.3, 0.1, 0.0, -0.2, -0.5])

    frames, pop_sex, pop_age = [], [], []
    for wave in range(1, size.waves + 1):
        N = np.round(pop * (1 + 0.004 * wave)).astype(np.int64)
        women = np.round(N * female).astype(np.int64)
        pop_sex.append(pd.DataFrame({"wave": wave, "stratum": np.repeat(np.arange(1, H + 1), 2),
                                     "sex": np.tile([1, 2], H),
                                     "N": np.column_stack([N - women, women]).ravel()}))
        ages = np.stack([largest_remainder(int(n), s) for n, s in zip(N, age_share, strict=True)])
        pop_age.append(pd.DataFrame({"wave": wave, "stratum": np.repeat(np.arange(1, H + 1), 5),
                                     "age": np.tile(np.arange(1, 6), H), "N": ages.ravel()}))
        n_h = largest_remainder(size.per_wave, pop.astype(np.float64), size.min_stratum)
        h = np.repeat(np.arange(H), n_h)
        cell_p = [np.outer(RESPONSE_SEX * [1 - female[g], female[g]],
                           RESPONSE_AGE * age_share[g]).ravel() for g in range(H)]
        cell = draw(rng, h, cell_p)
        sex, age = cell // 5 + 1, cell % 5 + 1
        area = area_first[h] + draw(rng, h, area_share)
        w = (N / n_h)[h] * np.exp(rng.normal(0, 0.15, len(h)))
        logit = area_logit[area] + age_effect[age - 1] - 0.3 * (sex == 2) + 0.02 * wave
        safe = rng.random(len(h)) < 1 / (1 + np.exp(-logit))
        q1 = np.where(safe, rng.integers(1, 4, len(h)), rng.integers(4, 8, len(h)))
        q1[rng.random(len(h)) < 0.03] = DONT_KNOW
        frames.append(pd.DataFrame({"wave": wave, "stratum": h + 1, "area": area + 1, "sex": sex,
                                    "age": age, "w": w, "q1": q1}))
    data = pd.concat(frames, ignore_index=True)
    for col in ("wave", "stratum", "area", "sex", "age", "q1"):
        data[col] = data[col].astype(np.int32)
    data["wstratum"] = (data["wave"] * 1000 + data["stratum"]).astype(np.int32)
    data["wss"] = (data["wstratum"] * 10 + data["sex"]).astype(np.int32)  # raking cells, for
    data["was"] = (data["wstratum"] * 10 + data["age"]).astype(np.int32)  # svy and R
    return Job(data, pd.concat(pop_sex, ignore_index=True), pd.concat(pop_age, ignore_index=True))


# -- tryg ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrygRun:
    result: pd.DataFrame
    times: dict[str, float]  # design, rake, proportion, total
    rounds: int  # raking rounds


def run_tryg(job: Job) -> TrygRun:
    """The whole job once: design, raking, proportion per area × wave; seconds per step."""
    design, t_design = timed(lambda: stats.Design(job.data, weights="w", strata="wstratum"))
    margins: Margins = {("wave", "stratum", "sex"): job.pop_sex,
                        ("wave", "stratum", "age"): job.pop_age}
    raked, t_rake = timed(lambda: stats.rake(design, margins, epsilon=EPSILON, maxit=100))
    res, t_prop = timed(lambda: stats.proportion(raked, "q1", codes=CODES, exclude=[DONT_KNOW],
                                                 by=KEYS))
    times = {"design": t_design, "rake": t_rake, "proportion": t_prop}
    times["total"] = sum(times.values())
    report = raked.calibration[-1].report
    assert isinstance(report, stats.RakeReport)
    return TrygRun(res, times, report.iterations)


def best_of(job: Job, repeats: int) -> TrygRun:
    """One warm-up run, then the fastest of ``repeats`` runs for every step and for the total."""
    first = run_tryg(job)
    runs = []
    for _ in range(repeats):
        gc.collect()
        runs.append(run_tryg(job).times)
    return TrygRun(first.result, {k: min(r[k] for r in runs) for k in runs[0]}, first.rounds)


# -- svy -------------------------------------------------------------------------------------------
def run_svy(job: Job) -> tuple[pd.DataFrame, dict[str, float]]:
    """svy wave by wave: Sample, rake to the wave's margins, mean of the 0/1 answer by area.

    svy cannot do the one 10-wave design: its domain SE after raking builds a dense
    respondents × domains matrix (24 GB were not enough). Waves are separate samples here, which
    gives the same numbers: strata, raking cells and domains all nest within a wave.
    """
    import polars as pl
    import svy

    data = job.data.assign(y=np.where(job.data["q1"] == DONT_KNOW, np.nan,
                                      job.data["q1"].isin(CODES).astype(np.float64)))
    waves = []
    for wave, part in data.groupby("wave"):
        ps = job.pop_sex[job.pop_sex["wave"] == wave]
        pa = job.pop_age[job.pop_age["wave"] == wave]
        controls = {
            "wss": dict(zip((ps["wave"] * 1000 + ps["stratum"]) * 10 + ps["sex"],
                            ps["N"].astype(float), strict=True)),
            "was": dict(zip((pa["wave"] * 1000 + pa["stratum"]) * 10 + pa["age"],
                            pa["N"].astype(float), strict=True)),
        }
        waves.append((pl.from_pandas(part), controls))
    times = {"sample+rake": 0.0, "mean": 0.0}
    out = []

    def rake(frame: pl.DataFrame, controls: Any) -> svy.Sample:
        sample = svy.Sample(frame, svy.Design(stratum="wstratum", wgt="w"))
        return sample.weighting.rake(controls=controls, tol=EPSILON, max_iter=100)

    def mean(sample: svy.Sample) -> pl.DataFrame:
        est = sample.estimation.mean("y", by=("area", "wave"), drop_nulls=True)
        assert isinstance(est, svy.Estimate)
        return est.to_polars()

    for frame, controls in waves:
        raked, t_rake = timed(partial(rake, frame, controls))
        est, t_mean = timed(partial(mean, raked))
        times["sample+rake"] += t_rake
        times["mean"] += t_mean
        out.append(est.to_pandas())
    times["total"] = times["sample+rake"] + times["mean"]
    res = pd.concat(out, ignore_index=True).rename(columns={"est": "estimate"})
    return res, times


# -- R ---------------------------------------------------------------------------------------------
def run_r(job: Job, areas: np.ndarray) -> tuple[pd.DataFrame, dict[str, float]]:
    """R `survey` through Rscript: design and raking on everyone, svyby on ``areas`` only."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        job.data.to_csv(d / "data.csv", index=False)
        pd.DataFrame({"wss": (job.pop_sex["wave"] * 1000 + job.pop_sex["stratum"]) * 10
                      + job.pop_sex["sex"], "Freq": job.pop_sex["N"]}).to_csv(
                          d / "wss.csv", index=False)
        pd.DataFrame({"was": (job.pop_age["wave"] * 1000 + job.pop_age["stratum"]) * 10
                      + job.pop_age["age"], "Freq": job.pop_age["N"]}).to_csv(
                          d / "was.csv", index=False)
        (d / "areas.txt").write_text("\n".join(map(str, areas)) + "\n")
        script = shutil.copy(R_SCRIPT, d)  # R reads its script as it goes: keep it unchanged
        run = subprocess.run(
            ["Rscript", str(script), *(str(d / f) for f in
                                         ("data.csv", "wss.csv", "was.csv", "areas.txt",
                                          "out.csv")), f"{EPSILON:g}"],
            capture_output=True, text=True, check=False)
        if run.returncode != 0:
            raise RuntimeError(f"Rscript failed:\n{run.stderr[-3000:]}")
        res = pd.read_csv(d / "out.csv")
    times = {line.split()[1]: float(line.split()[2])
             for line in run.stdout.splitlines() if line.startswith("timing ")}
    return res, times


# -- comparison, 10× run, report ---------------------------------------------------------------
@dataclass(frozen=True)
class BigRun:
    rows: int
    domains: int
    seconds: float
    loaded_mib: float  # peak RSS once the data is loaded, before tryg runs
    peak_mib: float  # peak RSS of the whole child process


def child_big(path: str) -> None:
    """In a subprocess: load the 10× job, run tryg once, print seconds and memory as JSON."""
    with open(path, "rb") as f:
        job = Job(**pickle.load(f))
    loaded = peak_rss_mib()
    run = run_tryg(job)
    print(json.dumps(asdict(BigRun(len(job.data), len(run.result), run.times["total"], loaded,
                                   peak_rss_mib()))))


def run_big(size: Size, seed: int) -> BigRun:
    """tryg alone on a bigger job, in a fresh process so that its peak memory is its own."""
    job = generate(size, seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "job.pkl"
        with open(path, "wb") as f:
            pickle.dump(dict(vars(job)), f, protocol=pickle.HIGHEST_PROTOCOL)
        del job
        gc.collect()
        run = subprocess.run([sys.executable, __file__, "--child-big", str(path)],
                             capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"10× run failed:\n{run.stderr[-3000:]}")
    return BigRun(**json.loads(run.stdout.strip().splitlines()[-1]))


def r_areas(n_areas: int, wanted: int) -> np.ndarray:
    """``wanted`` areas spread evenly over all strata (areas are numbered stratum by stratum)."""
    return np.unique(np.linspace(1, n_areas, min(wanted, n_areas)).round().astype(np.int64))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=20240601)
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke run in seconds")
    p.add_argument("--skip-r", action="store_true")
    p.add_argument("--skip-svy", action="store_true")
    p.add_argument("--r-areas", type=int, default=50, help="areas R estimates (default 50)")
    p.add_argument("--big", action=argparse.BooleanOptionalAction, default=True,
                   help="tryg alone at 10× size in a subprocess, for time and peak memory")
    p.add_argument("--repeats", type=int, default=3, help="timed tryg runs after a warm-up")
    p.add_argument("--out", type=Path, default=None,
                   help="report file (default bench/results/stats_domains.md; none with --quick)")
    p.add_argument("--child-big", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child_big:
        child_big(args.child_big)
        return
    size, big = (QUICK, QUICK_BIG) if args.quick else (FULL, BIG)
    out_path = args.out or (None if args.quick else RESULTS_DIR / "stats_domains.md")
    tol = 1e-8

    job, t_gen = timed(lambda: generate(size, args.seed))
    print(f"data: {len(job.data):,} respondents generated in {t_gen:.2f} s", flush=True)
    tryg_run = best_of(job, args.repeats)
    ref, tt, iters = tryg_run.result, tryg_run.times, tryg_run.rounds
    D = len(ref)
    ref = ref[ref["n"] > 0]  # svy and R leave out domains where everyone said "don't know"
    print(f"tryg: {tt}", flush=True)
    how = f"best of {args.repeats} after a warm-up"
    rows = [
        ["tryg", f"`Design` (strata = wave × stratum), {how}", seconds(tt["design"]), "", ""],
        ["tryg", f"`rake` to 2 margins, ε = {EPSILON:g}, {iters} rounds", seconds(tt["rake"]),
         "", ""],
        ["tryg", f"`proportion` by area × wave ({D:,} domains)", seconds(tt["proportion"]), "",
         ""],
        ["**tryg**", "**total**", f"**{seconds(tt['total'])}**", "1", "reference"],
    ]
    checks: list[str] = []

    if not args.skip_svy:
        res, ts = run_svy(job)
        agree = agreement(ref, res, KEYS)
        print(f"svy: {ts}; {agree}", flush=True)
        rows += [
            ["svy", f"`Sample` + `weighting.rake`, {size.waves} waves one by one, single run",
             seconds(ts["sample+rake"]), ratio(ts["sample+rake"], tt["design"] + tt["rake"]),
             ""],
            ["svy", "`estimation.mean` of the 0/1 answer by area × wave, `drop_nulls`",
             seconds(ts["mean"]), ratio(ts["mean"], tt["proportion"]), ""],
            ["**svy**", "**total**", f"**{seconds(ts['total'])}**",
             f"**{ratio(ts['total'], tt['total'])}**", format_agreement(agree, tol)],
        ]
        checks.append(f"- at least 100× faster than svy: {ts['total'] / tt['total']:,.0f}× "
                      f"({'met' if ts['total'] >= 100 * tt['total'] else 'NOT met'})")
        checks.append("- same numbers as svy: " + ("met" if agrees(agree, tol) else "NOT met"))
    if not args.skip_r:
        areas = r_areas(size.areas, args.r_areas)
        res, tr = run_r(job, areas)
        agree = agreement(ref, res, KEYS, areas)
        print(f"R: {tr}; {agree}", flush=True)
        checks.append("- same numbers as R on the domains it estimated: "
                      + ("met" if agrees(agree, tol) else "NOT met"))
        per_domain = tr["svyby"] / len(res)
        total_r = tr["design"] + tr["rake"] + per_domain * D
        rows += [
            ["R survey", "`svydesign` (CSV reading not counted)", seconds(tr["design"]),
             ratio(tr["design"], tt["design"]), ""],
            ["R survey", f"`rake`, epsilon = {EPSILON:g}", seconds(tr["rake"]),
             ratio(tr["rake"], tt["rake"]), ""],
            ["R survey", f"`svyby(~y, ~area+wave, subset(d, q1 != 8), svymean)` on {len(areas)} "
             f"areas ({len(res):,} domains), measured", seconds(tr["svyby"]), "",
             format_agreement(agree, tol)],
            ["R survey", f"the same `svyby`, extrapolated linearly to {D:,} domains",
             seconds(per_domain * D), ratio(per_domain * D, tt["proportion"]), ""],
            ["**R survey**", "**total (extrapolated)**", f"**{seconds(total_r)}**",
             f"**{ratio(total_r, tt['total'])}**", ""],
        ]
    if args.big:
        info = run_big(big, args.seed)
        peak = info.peak_mib
        print(f"10×: {info}", flush=True)
        rows.append(["tryg 10×", f"whole job, {info.rows:,} respondents, {big.areas:,} areas "
                     f"({info.domains:,} domains), single run in a subprocess",
                     seconds(info.seconds), "", f"peak RSS {peak:,.0f} MiB, of which "
                     f"{info.loaded_mib:,.0f} MiB before tryg ran (Python, libraries, data)"])
        checks.append(f"- peak memory at 10× below 2 GiB: {peak:,.0f} MiB "
                      f"({'met' if peak < 2048 else 'NOT met'})")
    table = markdown_table(["tool", "what was timed", "seconds", "vs tryg", "agreement with tryg"],
                           rows)
    notes = [f"- tryg also lists {D - len(ref)} domain(s) where everyone answered \"don't know\" "
             "(n = 0, estimate NaN); svy and R leave them out, so they are not compared."
             ] if len(ref) < D else []
    report = _report(job, size, args, table, [*checks, "", "Notes:", *notes], iters)
    print("\n" + report)
    if out_path is not None:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(report)
        print(f"written to {out_path}")


def _report(job: Job, size: Size, args: argparse.Namespace, table: str, checks: list[str],
            iters: int) -> str:
    info = machine(with_r=not args.skip_r)
    d = job.data
    lines = [
        "# Benchmark: proportion per area × wave after raking (bench/stats_domains.py)",
        "",
        f"Job{' (--quick)' if args.quick else ''}: {size.waves} waves × {size.per_wave:,} "
        f"respondents = {len(d):,}, {size.strata} strata ({d['wstratum'].nunique():,} design "
        f"strata wave × stratum, one PSU per respondent), {d['area'].nunique():,} areas; weights "
        f"raked per wave × stratum to sex ({len(job.pop_sex):,} cells) and age "
        f"({len(job.pop_age):,} cells), {iters} rounds to ε = {EPSILON:g} of the total weight; "
        f"share answering 1–3 on q1 (8 = \"don't know\" left out) with its linearised SE in "
        f"every area × wave. Seed {args.seed}.",
        "",
        table,
        "",
        "Targets: identical numbers (abs Δ ≤ 1e-8), ≥ 100× faster than svy, < 2 GiB at 10×.",
        *checks,
        "- Times are wall-clock seconds, data already in memory (pandas for tryg, polars for svy)."
        " tryg: fastest of each step over the timed runs; everything else: a single run.",
        "- svy runs wave by wave: on the one 10-wave design its domain SE after raking builds a "
        "dense respondents × domains matrix and ran out of this machine's 24 GiB. Strata, raking "
        "cells and domains all nest within waves, so the numbers are the same. svy's raking "
        f"stops when every margin cell is within tol = {EPSILON:g} (relative) of its target.",
        f"- Raking ε = {EPSILON:g} for all three tools. tryg's rule is the relative change of "
        "each joint cell; R's is relative to the national total weight, which at a looser ε "
        "leaves the smallest strata short of convergence (~1.5e-7 at 1e-10).",
        "- Peak memory of the 10× run: VmHWM of the child process, which only loads the data "
        "(pickled by the parent) and runs tryg once. Its `ru_maxrss` would be useless here: Linux "
        "carries the parent's resident size at the fork over into the child.",
        "- R: `svydesign(ids=~1, strata=~wstratum, weights=~w)`, `rake(d, list(~wss, ~was), ...,"
        f" control=list(maxit=100, epsilon={EPSILON:g}))` (wss, was: wave × stratum × sex and "
        "× age cells), on every respondent; `svyby` only for areas spread evenly over the strata, "
        "its time scaled by (all domains / measured domains): each domain costs R the same, a "
        "pass over all respondents with 10 sweeps of raking residuals.",
        "",
        "Machine:",
        *(f"- {k}: {v}" for k, v in info.items()),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
