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
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    RESULTS_DIR,
    machine,
    markdown_table,
    peak_rss_mib,
    rss_mib,
    seconds,
    timed,
)

from tryg import stats  # noqa: E402

R_SCRIPT = Path(__file__).resolve().parent / "r" / "stats_domains.R"
CODES = [1, 2, 3]  # "feels safe" on the 1–7 scale
DONT_KNOW = 8
EPSILON = 1e-10  # raking convergence, relative to the total weight (same rule in R)
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


@dataclass(frozen=True)
class Job:
    data: pd.DataFrame  # wave, stratum, wstratum, area, sex, age, w, q1, wss, was
    pop_sex: pd.DataFrame  # wave, stratum, sex, N
    pop_age: pd.DataFrame  # wave, stratum, age, N


def _largest_remainder(total: int, shares: np.ndarray, minimum: int = 0) -> np.ndarray:
    """Split ``total`` into integers proportional to ``shares``, each at least ``minimum``."""
    rest = total - minimum * len(shares)
    exact = rest * shares / shares.sum()
    out = np.floor(exact).astype(np.int64)
    out[np.argsort(out - exact)[: rest - out.sum()]] += 1
    return out + minimum


def _draw(rng: np.random.Generator, group: np.ndarray, probs: list[np.ndarray]) -> np.ndarray:
    """For each row, a category drawn from the probabilities of its group (0-based)."""
    offsets = np.cumsum([0] + [len(p) for p in probs])
    cum = np.concatenate([g + np.cumsum(p) / p.sum() for g, p in enumerate(probs)])
    cum[offsets[1:] - 1] = np.arange(len(probs)) + 1.0  # exact upper end of each group
    pos = np.searchsorted(cum, group + rng.random(len(group)), side="right")
    return np.minimum(pos, offsets[group + 1] - 1) - offsets[group]


def generate(size: Size, seed: int) -> Job:
    """A synthetic national survey: deterministic for a seed, every raking cell occupied."""
    rng = np.random.default_rng(seed)
    H = size.strata
    pop = np.clip(np.exp(rng.normal(np.log(30_000), 0.9, H)), 1_500, 650_000).round()
    n_areas = _largest_remainder(size.areas, pop**0.8, minimum=1)
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
        ages = np.stack([_largest_remainder(int(n), s) for n, s in zip(N, age_share, strict=True)])
        pop_age.append(pd.DataFrame({"wave": wave, "stratum": np.repeat(np.arange(1, H + 1), 5),
                                     "age": np.tile(np.arange(1, 6), H), "N": ages.ravel()}))
        n_h = _largest_remainder(size.per_wave, pop.astype(np.float64), size.min_stratum)
        h = np.repeat(np.arange(H), n_h)
        cell_p = [np.outer(RESPONSE_SEX * [1 - female[g], female[g]],
                           RESPONSE_AGE * age_share[g]).ravel() for g in range(H)]
        cell = _draw(rng, h, cell_p)
        sex, age = cell // 5 + 1, cell % 5 + 1
        area = area_first[h] + _draw(rng, h, area_share)
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
