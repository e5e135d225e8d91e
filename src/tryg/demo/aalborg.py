"""Synthetic survey answers for Aalborg Kommune's parishes, calibrated to the published figure.

``tryg demo --from DIR`` builds a demo on real Danish data: DAGI boundaries, Statistics
Denmark's reported crimes (STRAF11) and population (FOLK1A). No survey microdata are public,
so the answers are made here, and are SYNTHETIC: drawn from a model, not given by anyone.

What is real and what is assumed:

* **Calibrated to**: the published share of Aalborg's citizens who feel safe in their
  neighbourhood (Politiets Tryghedsindeks: 87 % in 2014, 89 % in 2015; see
  :data:`PUBLISHED_TRYGGE`). The model's intercept is solved, wave by wave, so that the
  population-weighted true share of *trygge* (codes 1–3 of "tryg_nabolag") equals the
  published figure; waves after 2015, for which no Aalborg figure is published, keep the last
  published one (89 %). A survey estimate then differs from it only by sampling error.
* **Real**: the parish codes (DAGI sogne inside kommune 0851) and the kommune's population per
  year (FOLK1A, yearly average, all ages), passed in by the caller.
* **Assumed** (not published per parish or, in the files named in the README, per age):
  the share of residents aged 15+ (:data:`ADULT_SHARE`), their split by sex × age group
  (:data:`AGE_SHARES`, :data:`FEMALE_SHARES`; the same in every parish), the parishes' sizes
  (drawn, see :func:`parish_shares`), the parish effects, and the answers' dependence on sex
  and age (that of the fictional demo, :mod:`tryg.demo.truth`). The sex × age margins the
  survey is calibrated to are therefore this model's own population (kommune total from
  FOLK1A × the assumed shares), written as a separate, labelled file: they are not Statistics
  Denmark's figures.

The design mirrors :mod:`tryg.demo.survey`: per wave, a stratified sample with stratum =
parish, ``n_h`` proportional to ``sqrt(N_h)`` (at least 10), nonresponse by sex × age group
(young men answer least), design weights ``N_h / n_h`` not adjusted for nonresponse (the
spec's calibration on sex × age removes the bias), 3 % "don't know" and 2 % missing answers.

Pure: numpy and pandas in, tables out; the CLI writes the files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tryg.demo.geography import AGE_GROUPS, SEXES, FloatArray, IntArray
from tryg.demo.survey import MIN_INVITED, RESPONSE_RATES, _answers, _invite, _respond
from tryg.demo.truth import AGE_EFFECT, ITEM_LOADING, ITEMS, SEX_EFFECT, _bisect, cutpoints

KOMMUNE_CODE = "0851"
KOMMUNE_NAME = "Aalborg"
#: Published share of *trygge* in Aalborg Kommune (Politiets Tryghedsindeks; domain notes).
PUBLISHED_TRYGGE: dict[int, float] = {2014: 0.87, 2015: 0.89}
#: Survey waves: the register (STRAF11, to 2019Q3) covers each wave's window Q4-Q3.
WAVES: tuple[int, ...] = (2014, 2015, 2016, 2017, 2018, 2019)
#: Respondents per wave (about what a city of Aalborg's size gets in the national survey's
#: oversampled big-city sample; a choice, not a published number).
RESPONDENTS = 1500
#: ASSUMED share of residents aged 15+ (Denmark's is about 0.83; not read from data here).
ADULT_SHARE = 0.84
#: ASSUMED age structure of residents 15+ (a university city: more 15-39-year-olds).
AGE_SHARES = np.array([0.19, 0.27, 0.22, 0.19, 0.13])
#: ASSUMED share of women per age group.
FEMALE_SHARES = np.array([0.49, 0.48, 0.49, 0.50, 0.56])
#: SD of the parish effects on the logit scale (as the fictional demo's neighbourhoods).
PARISH_SD = 0.35

STATEMENT = (
    "SYNTHETIC survey answers made by tryg demo --from: not real respondents. Calibrated to "
    "the published share of Aalborg's citizens who feel safe in their neighbourhood (87 % in "
    "2014, 89 % in 2015; later waves keep 89 %). Parish sizes, age structure and sex x age "
    "margins are assumptions, not Statistics Denmark figures."
)
#: The wave's producer, shown on the (Danish) pages' data notice: Danish (one text per wave).
PRODUCER = "tryg demo --from (SYNTETISKE svar, kalibreret til Aalborgs offentliggjorte tal)"


@dataclass(frozen=True)
class SyntheticSurvey:
    """The synthetic answers and what they were drawn from.

    ``responses``: ``SurveyInput.responses`` columns (area_code = parish code, stratum =
    parish, weight = design weight, sex, age_group, questionnaire) and one column per item.
    ``margins``: the assumed population 15+ by sex × age group of the kommune per wave year
    (area_code, year, sex, age_group, population), for calibration. ``truth``: the true
    kommune-level share of *trygge* per wave (equal to the published targets).
    ``parishes``: the ASSUMED residents 15+ of every parish per wave year (area_code, year,
    population; the same drawn sizes as the sample's strata), the weights that benchmark the
    model-based parish estimates to the kommune's.
    """

    responses: pd.DataFrame
    margins: pd.DataFrame
    truth: pd.DataFrame
    parishes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["area_code", "year", "population"]))


def _logistic(x: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def target(wave: int) -> float:
    """The published share for ``wave``, or the latest published before it."""
    known = [y for y in sorted(PUBLISHED_TRYGGE) if y <= wave]
    return PUBLISHED_TRYGGE[known[-1] if known else min(PUBLISHED_TRYGGE)]


def cell_shares() -> FloatArray:
    """Assumed shares of residents 15+ by (sex, age group); they sum to 1."""
    female = AGE_SHARES * FEMALE_SHARES
    return np.asarray(np.stack([AGE_SHARES - female, female]), dtype=np.float64)


def parish_shares(rng: np.random.Generator, n: int) -> FloatArray:
    """Synthetic population shares of ``n`` parishes (lognormal sizes; parish populations
    are not in the data)."""
    sizes = rng.lognormal(0.0, 0.8, n)
    return np.asarray(sizes / sizes.sum(), dtype=np.float64)


def generate_survey(parishes: Sequence[str], population: Mapping[int, float], *,
                    seed: int = 1, respondents: int = RESPONDENTS,
                    waves: Sequence[int] = WAVES) -> SyntheticSurvey:
    """Synthetic answers for ``parishes`` (codes), one sample per wave.

    ``population``: the kommune's residents (all ages) per year, at least for every wave.
    The same arguments always give the same tables.
    """
    codes = sorted(str(p) for p in parishes)
    if len(codes) < 2:
        raise ValueError("give at least two parishes")
    missing = [w for w in waves if w not in population]
    if missing:
        raise ValueError(f"no population for wave year(s) {missing}")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 851]))
    n = len(codes)
    shares = parish_shares(rng, n)
    area = rng.normal(0.0, PARISH_SD, n)
    own = {item: rng.normal(0.0, sd, n) for item, (_, sd) in ITEM_LOADING.items()}
    cells = cell_shares()
    effects = SEX_EFFECT[:, None] + AGE_EFFECT[None, :]
    cut = float(cutpoints("tryg_nabolag")[2])  # P(Y <= 3): the share of "trygge"
    frames, margins, truth, sizes = [], [], [], []
    for wave in waves:
        adults = float(population[wave]) * ADULT_SHARE
        pop = np.round(adults * shares[:, None, None] * cells[None, :, :])  # parish, sex, age
        weights = pop / pop.sum()

        def gap(alpha: float, goal: float = target(wave), w: FloatArray = weights) -> float:
            eta = alpha + area[:, None, None] + effects[None, :, :]
            return float((_logistic(cut - eta) * w).sum()) - goal

        alpha = _bisect(gap, -8.0, 8.0)
        base = alpha + area[:, None, None] + effects[None, :, :]
        frames.append(_draw_wave(rng, wave, codes, pop, base, own, respondents))
        for s, sex in enumerate(SEXES):
            for g, age in enumerate(AGE_GROUPS):
                margins.append((KOMMUNE_CODE, wave, sex, age, float(pop[:, s, g].sum())))
        truth.append((KOMMUNE_CODE, wave, "tryghed_trygge", gap(alpha) + target(wave)))
        sizes += [(c, wave, float(v)) for c, v in zip(codes, pop.sum(axis=(1, 2)), strict=True)]
    responses = pd.concat(frames, ignore_index=True)
    margin_frame = pd.DataFrame(margins, columns=["area_code", "year", "sex", "age_group",
                                                  "population"])
    truth_frame = pd.DataFrame(truth, columns=["area_code", "wave", "measure", "value"])
    parish_frame = pd.DataFrame(sizes, columns=["area_code", "year", "population"])
    return SyntheticSurvey(responses, margin_frame, truth_frame, parish_frame)


def _draw_wave(rng: np.random.Generator, wave: int, codes: list[str], pop: FloatArray,
               base: FloatArray, own: Mapping[str, FloatArray], respondents: int
               ) -> pd.DataFrame:
    """One wave's sample: invite, respond, answer (as :func:`tryg.demo.survey.draw_survey`)."""
    big_n = pop.sum(axis=(1, 2))
    rate = float((pop * RESPONSE_RATES).sum() / pop.sum())
    alloc = np.sqrt(big_n)
    n_h = np.round(respondents / rate * alloc / alloc.sum())
    n_h = np.minimum(np.maximum(n_h, MIN_INVITED), big_n).astype(np.int64)
    counts = _invite(rng, pop, n_h)
    n_cells = len(SEXES) * len(AGE_GROUPS)
    stratum: IntArray = np.repeat(np.arange(len(n_h)), n_h)
    cell: IntArray = np.concatenate([np.repeat(np.arange(n_cells), row) for row in counts])
    answered = _respond(rng, stratum, cell)
    stratum, cell = stratum[answered], cell[answered]
    order = rng.permutation(stratum.size)
    stratum, cell = stratum[order], cell[order]
    sex, age = np.divmod(cell, len(AGE_GROUPS))
    eta = base[stratum, sex, age]
    cumulative = {
        item: _logistic(cutpoints(item)[None, :]
                        - (load * eta + own[item][stratum])[:, None])
        for item, (load, _) in ITEM_LOADING.items()
    }
    answers = _answers(rng, cumulative)
    parish = np.array(codes, dtype=object)[stratum]
    frame = pd.DataFrame({
        "respondent_id": [f"{wave}-S{i:05d}" for i in range(1, stratum.size + 1)],
        "wave": wave,
        "area_code": parish,
        "stratum": parish,
        "weight": big_n[stratum] / n_h[stratum],
        "sex": np.array(SEXES, dtype=object)[sex],
        "age_group": np.array(AGE_GROUPS, dtype=object)[age],
        "questionnaire": "synthetic-1",
    })
    return pd.concat([frame, pd.DataFrame(answers, columns=list(ITEMS))], axis=1)
