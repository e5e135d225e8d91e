"""The demo survey: a stratified sample with nonresponse, answered from the true model.

Design, per wave: stratum = neighbourhood; ``n_h`` residents 15+ are invited by simple random
sampling without replacement within the stratum, ``n_h`` proportional to ``sqrt(N_h)`` (1.6
times more in vulnerable housing areas) so that small areas are oversampled, at least
:data:`MIN_INVITED`. The weight is the design weight ``N_h / n_h``. Whether an invited person
answers depends only on sex × age group (:data:`RESPONSE_RATES`: young men answer least); the
weights are *not* adjusted for it, so calibration on sex × age (the spec's ``[calibration]``)
is what removes the bias. In the rare stratum with fewer than two respondents, nonrespondents
are re-contacted (in invitation order) until two have answered, so every stratum can give a
variance.

Answers: every item's answer is drawn from the ordered-logit cell probabilities of
:class:`~tryg.demo.truth.TrueModel` by a uniform draw. To make one person's answers agree
(as real answers do) each answer reuses the person's own shared uniform with probability
:data:`SHARED`, else a fresh one, so every item's marginal distribution is exactly the true
model's. Then, completely at random, 3 % of answers become "don't know" (code 8) and 2 %
missing (NaN).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tryg.demo.geography import AGE_GROUPS, SEXES, BoolArray, FloatArray, Geography, IntArray
from tryg.demo.truth import ITEMS, TrueModel

#: Response probability by sex (mand, kvinde) × age group.
RESPONSE_RATES = np.array([[0.22, 0.32, 0.50, 0.65, 0.62], [0.26, 0.38, 0.52, 0.66, 0.58]])
MIN_INVITED = 10
VULNERABLE_OVERSAMPLE = 1.6
SHARED = 0.7
DONT_KNOW = 0.03
MISSING = 0.02
DONT_KNOW_CODE = 8.0


def questionnaire_label(wave: int, first_wave: int, method_break: int | None) -> str:
    """The version label: the first wave's year, or the break year from the break on."""
    if method_break is not None and wave >= method_break:
        return str(method_break)
    return str(first_wave)


def _invite(rng: np.random.Generator, pop: FloatArray, n_h: IntArray) -> IntArray:
    """Cell (sex × age, flattened) of every invited person, stratum by stratum (SRSWOR)."""
    cells = pop.reshape(len(n_h), -1).astype(np.int64)
    return np.stack([rng.multivariate_hypergeometric(c, int(k)) for c, k in
                     zip(cells, n_h, strict=True)]).astype(np.int64)


def _respond(rng: np.random.Generator, stratum: IntArray, cell: IntArray) -> BoolArray:
    """Who answers; then the re-contact rule for strata with fewer than two answers."""
    answered: BoolArray = rng.random(stratum.size) < RESPONSE_RATES.ravel()[cell]
    per = np.bincount(stratum, weights=answered, minlength=int(stratum.max()) + 1)
    for h in np.flatnonzero(per < 2):
        rows = np.flatnonzero((stratum == h) & ~answered)
        answered[rows[: 2 - int(per[h])]] = True
    return answered


def _answers(rng: np.random.Generator, cumulative: dict[str, FloatArray]) -> FloatArray:
    """Answer codes (respondent × item), with "don't know" and missing answers."""
    m = next(iter(cumulative.values())).shape[0]
    shared = rng.random(m)
    out = np.empty((m, len(ITEMS)))
    for j, item in enumerate(ITEMS):
        u = np.where(rng.random(m) < SHARED, shared, rng.random(m))
        out[:, j] = 1.0 + (u[:, None] > cumulative[item]).sum(axis=1)
    v = rng.random((m, len(ITEMS)))
    out[v < DONT_KNOW] = DONT_KNOW_CODE
    out[(v >= DONT_KNOW) & (v < DONT_KNOW + MISSING)] = np.nan
    return out


def draw_survey(rng: np.random.Generator, geo: Geography, truth: TrueModel,
                method_break: int | None) -> pd.DataFrame:
    """``SurveyInput.responses`` for every wave: one row per respondent."""
    size = geo.size
    frames = []
    n_cells = len(SEXES) * len(AGE_GROUPS)
    cum_all = {item: truth.cumulative(item) for item in ITEMS}
    for t, wave in enumerate(size.waves):
        pop = geo.population[:, t + 1]
        big_n = pop.sum(axis=(1, 2))
        rate = float((pop * RESPONSE_RATES).sum() / pop.sum())
        alloc = np.sqrt(big_n) * np.where(geo.vulnerable, VULNERABLE_OVERSAMPLE, 1.0)
        n_h = np.round(size.respondents / rate * alloc / alloc.sum())
        n_h = np.minimum(np.maximum(n_h, MIN_INVITED), big_n).astype(np.int64)
        counts = _invite(rng, pop, n_h)
        stratum = np.repeat(np.arange(len(n_h)), n_h)
        cell = np.concatenate([np.repeat(np.arange(n_cells), row) for row in counts])
        answered = _respond(rng, stratum, cell)
        stratum, cell = stratum[answered], cell[answered]
        order = rng.permutation(stratum.size)
        stratum, cell = stratum[order], cell[order]
        sex, age = np.divmod(cell, len(AGE_GROUPS))
        cum = {item: c[stratum, t, sex, age] for item, c in cum_all.items()}
        answers = _answers(rng, cum)
        codes = np.array(geo.nb_codes, dtype=object)[stratum]
        frame = pd.DataFrame({
            "respondent_id": [f"{wave}-{i:06d}" for i in range(1, stratum.size + 1)],
            "wave": wave,
            "area_code": codes,
            "stratum": codes,
            "weight": big_n[stratum] / n_h[stratum],
            "sex": np.array(SEXES, dtype=object)[sex],
            "age_group": np.array(AGE_GROUPS, dtype=object)[age],
            "questionnaire": questionnaire_label(wave, size.first_wave, method_break),
        })
        frames.append(pd.concat([frame, pd.DataFrame(answers, columns=list(ITEMS))], axis=1))
    survey = pd.concat(frames, ignore_index=True)
    text = ["respondent_id", "area_code", "stratum", "sex", "age_group", "questionnaire"]
    return survey.astype({**dict.fromkeys(text, str), "wave": "int64", "weight": "float64"})
