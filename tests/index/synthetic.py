"""A small hand-built municipality for index tests: 8 neighbourhoods in 2 districts, one
vulnerable housing area (second parent of N0 until 2020 and of N5), 3 waves."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tryg.index.inputs import Areas, PopulationInput, RegisterInput, SurveyInput


def make(
    seed: int = 1, n_per_wave: int = 1500, waves: tuple[int, ...] = (2019, 2020, 2021)
) -> tuple[SurveyInput, RegisterInput, PopulationInput, Areas]:
    rng = np.random.default_rng(seed)
    areas = pd.DataFrame(
        {
            "code": ["K", "D1", "D2"] + [f"N{i}" for i in range(8)] + ["B1"],
            "name": ["Demo Kommune", "Øst", "Vest"]
            + [f"Nabolag {i}" for i in range(8)]
            + ["Boligområde"],
            "level": ["kommune", "bydel", "bydel"] + ["nabolag"] * 8 + ["boligomraade"],
        }
    )
    link_rows = [("D1", "K", np.nan, np.nan), ("D2", "K", np.nan, np.nan),
                 ("B1", "K", np.nan, np.nan)]
    for i in range(8):
        link_rows.append((f"N{i}", "D1" if i < 4 else "D2", np.nan, np.nan))
    link_rows += [("N0", "B1", np.nan, 2020), ("N5", "B1", np.nan, np.nan)]
    links = pd.DataFrame(link_rows, columns=["code", "parent", "valid_from", "valid_to"])
    sexes = ["m", "k"]
    ages = ["15-24", "25-39", "40-54", "55-69", "70+"]
    pop_rows = []
    for w in waves:
        for i in range(8):
            for s in sexes:
                for a in ages:
                    pop_rows.append((f"N{i}", w, s, a, float(rng.integers(200, 800))))
    pop = pd.DataFrame(pop_rows, columns=["area_code", "year", "sex", "age_group", "population"])
    kom = (
        pop.groupby(["year", "sex", "age_group"], as_index=False)["population"]
        .sum()
        .assign(area_code="K")
    )
    pop = pd.concat([pop, kom], ignore_index=True)
    rows = []
    for w in waves:
        area = rng.integers(0, 8, n_per_wave)
        p_safe = 0.89 - 0.15 * (area == 5)
        for j in range(n_per_wave):
            safe = rng.random() < p_safe[j]
            q1 = rng.integers(1, 4) if safe else rng.integers(4, 8)
            rows.append(
                dict(
                    respondent_id=f"r{j}",
                    wave=w,
                    area_code=f"N{area[j]}",
                    weight=float(rng.uniform(20, 40)),
                    sex=sexes[rng.integers(0, 2)],
                    age_group=ages[rng.integers(0, 5)],
                    questionnaire="v1",
                    tryg_nabolag=float(q1) if rng.random() > 0.03 else 8.0,
                    tillid_politi=float(rng.integers(1, 8)),
                    **{
                        k: float(rng.integers(1, 6))
                        for k in [
                            "problem_trusler",
                            "problem_koersel",
                            "problem_narko",
                            "problem_uro",
                            "utryg_trusler",
                            "utryg_narko",
                            "utryg_uro",
                        ]
                    },
                )
            )
    sv = pd.DataFrame(rows)
    sv.index = sv.index + 2
    sv.attrs["source"] = "survey.csv"
    reg = []
    for i in range(8):
        for y in range(waves[0] - 1, waves[-1] + 1):
            for q in range(1, 5):
                c = rng.poisson(60)
                reg.append((f"N{i}", f"{y}Q{q}", "Penal Code, total", c))
                reg.append((f"N{i}", f"{y}Q{q}", "Crimes of violence, total", rng.poisson(8)))
    register = pd.DataFrame(reg, columns=["area_code", "quarter", "offence", "count"])
    return SurveyInput(sv), RegisterInput(register), PopulationInput(pop), Areas(areas, links)
