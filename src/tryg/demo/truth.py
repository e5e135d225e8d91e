"""The known true model behind the demo survey, and the true values it implies.

Every answer is drawn from an ordered-logit model: for item j, neighbourhood a, wave t and
calibration cell c (sex × age group), ``P(Y <= k) = logistic(cut[j, k] - eta[j, a, t, c])``.
Higher ``eta`` means less safe (every item in the Danish spec has its safe end at 1). For
"tryg_nabolag"::

    eta = alpha + district[d(a)] + area[a] + V * vulnerable[a] + fear[a]
          + wave[t] + slope[a] * (t - mean t) + sex[c] + age[c] (+ shift after a method break)

where ``alpha`` and ``V`` are solved so that, averaged over waves, the kommune's true share of
*trygge* (codes 1–3) is 0.89 and that of the vulnerable neighbourhoods pooled is 0.72 (the
published Aalborg 2015 and "særligt udsatte boligområder" figures). ``fear`` is positive in
about one neighbourhood in ten where fear runs ahead of crime: it raises insecurity but not
the crime rate (see :mod:`tryg.demo.register`), which exercises the gap measure. The other
items load on the same latent insecurity: ``eta_j = load_j * eta + own_j[a]``.

The true value that a calibrated design-based estimator targets, for area A and wave t, is
the finite-population expectation ``sum_{a in A, c} N[a, t, c] * p[j, a, t, c] / sum N``: the
population-weighted (wave-year population, residents 15+) average of the cell probabilities
over the neighbourhoods that belong to A in that year. "Don't know" and missing answers are
drawn completely at random, so they change the base of an estimate but not its target.
Measures: the spec's shares ("tryghed_trygge" ... "tillid_ikke_tillid"), ``mean:<item>``
(expected answer on the item's scale), the item sub-indices "nabolagsproblemer" and
"oplevet_tryghed" (the mean over their items of ``100 * (K - mean) / (K - 1)``: because
"don't know" and missing answers are independent, equally likely for every item and
independent of the answers, that is exactly what the respondent's mean score over the items
they answered targets) and the register rates (see the register module).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from tryg.demo.geography import FloatArray, Geography, IntArray

#: Items, their number of categories and the baseline cumulative shares P(Y <= k) at eta = 0.
ITEM_BASE: dict[str, tuple[float, ...]] = {
    "tryg_nabolag": (0.45, 0.75, 0.89, 0.93, 0.96, 0.985),
    "tillid_politi": (0.40, 0.68, 0.83, 0.90, 0.94, 0.97),
    "problem_trusler": (0.55, 0.80, 0.92, 0.98),
    "problem_koersel": (0.25, 0.55, 0.80, 0.94),
    "problem_narko": (0.65, 0.83, 0.92, 0.97),
    "problem_uro": (0.50, 0.78, 0.91, 0.97),
    "utryg_trusler": (0.35, 0.60, 0.80, 0.92),
    "utryg_narko": (0.35, 0.58, 0.78, 0.90),
    "utryg_uro": (0.40, 0.66, 0.84, 0.94),
}
ITEMS = tuple(ITEM_BASE)
#: How strongly each item follows the latent insecurity, and the SD of its own area effect.
ITEM_LOADING = {"tryg_nabolag": (1.0, 0.0), "tillid_politi": (0.5, 0.3),
                "problem_trusler": (0.9, 0.25), "problem_koersel": (0.4, 0.45),
                "problem_narko": (1.0, 0.35), "problem_uro": (0.9, 0.3),
                "utryg_trusler": (0.8, 0.2), "utryg_narko": (0.8, 0.2), "utryg_uro": (0.8, 0.2)}
#: The spec's share measures: id → (item, lowest code, highest code).
SHARE_MEASURES = {
    "tryghed_trygge": ("tryg_nabolag", 1, 3), "tryghed_hverken": ("tryg_nabolag", 4, 4),
    "tryghed_utrygge": ("tryg_nabolag", 5, 7), "tillid_tillid": ("tillid_politi", 1, 3),
    "tillid_hverken": ("tillid_politi", 4, 4), "tillid_ikke_tillid": ("tillid_politi", 5, 7),
}
#: The spec's item sub-indices: the respondent's mean item score on 0-100 (safe end = 100).
SUBINDICES = {
    "nabolagsproblemer": ("problem_trusler", "problem_koersel", "problem_narko", "problem_uro"),
    "oplevet_tryghed": ("tryg_nabolag", "utryg_trusler", "utryg_narko", "utryg_uro"),
}
SEX_EFFECT = np.array([0.0, 0.4])  # mand, kvinde: women feel less safe
#: Young people feel least safe and answer least often (see the survey module), so an
#: uncalibrated estimate overstates safety by about one percentage point.
AGE_EFFECT = np.array([0.6, 0.2, -0.10, -0.3, -0.1])
TARGET_OVERALL = 0.89
TARGET_VULNERABLE = 0.72
BREAK_SHIFT = 0.3


#: A true value's parts per neighbourhood × wave: numerator, denominator and a scale.
Part = tuple[FloatArray, FloatArray, float]


def _logistic(x: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def cutpoints(item: str) -> FloatArray:
    base = np.array(ITEM_BASE[item])
    return np.log(base / (1.0 - base))


@dataclass(frozen=True)
class Latent:
    """The drawn parameters of the true model (all on the logit scale)."""

    alpha: float
    vulnerable_shift: float
    district: FloatArray
    area: FloatArray
    fear: FloatArray
    wave: FloatArray
    slope: FloatArray
    own: dict[str, FloatArray]
    break_wave: int | None

    def structural(self, geo: Geography) -> FloatArray:
        """Insecurity that crime follows too (everything area-level except ``fear``)."""
        area = self.district[geo.nb_district] + self.area
        return np.asarray(area + self.vulnerable_shift * geo.vulnerable, dtype=np.float64)


def _eta_tryg(lat: Latent, geo: Geography, alpha: float, shift: float) -> FloatArray:
    """eta of tryg_nabolag, shape (neighbourhood, wave, sex, age)."""
    waves = np.array(geo.size.waves)
    t = np.arange(len(waves)) - (len(waves) - 1) / 2.0
    area = lat.district[geo.nb_district] + lat.area + shift * geo.vulnerable + lat.fear
    brk = np.zeros(len(waves))
    if lat.break_wave is not None:
        brk[waves >= lat.break_wave] = BREAK_SHIFT
    per_wave = lat.wave + brk
    eta = alpha + area[:, None] + per_wave[None, :] + lat.slope[:, None] * t[None, :]
    cells = SEX_EFFECT[:, None] + AGE_EFFECT[None, :]
    return np.asarray(eta[:, :, None, None] + cells[None, None, :, :], dtype=np.float64)


def _bisect(f: Callable[[float], float], lo: float, hi: float) -> float:
    """Root of a decreasing ``f`` on [lo, hi]; plain bisection keeps this module numpy-only."""
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if f(mid) > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def draw_latent(rng: np.random.Generator, geo: Geography, break_wave: int | None) -> Latent:
    """Draw area, district and wave effects, then solve ``alpha`` and ``V`` for the targets."""
    n = len(geo.nb_codes)
    n_waves = geo.size.n_waves
    district = rng.normal(0.0, 0.3, geo.size.n_districts)
    area = rng.normal(0.0, 0.35, n)
    eligible = ~geo.vulnerable & ~geo.centre
    fear = np.where(eligible & (rng.random(n) < 0.12), 0.9, 0.0)
    wave = -0.04 * (np.arange(n_waves) - (n_waves - 1) / 2.0) + rng.normal(0.0, 0.06, n_waves)
    slope = rng.normal(0.0, 0.04, n)
    own = {item: rng.normal(0.0, sd, n) for item, (_, sd) in ITEM_LOADING.items()}
    lat = Latent(0.0, 0.0, district, area, fear, wave, slope, own, None)
    cut = cutpoints("tryg_nabolag")[2]
    weights = geo.population[:, 1:]  # wave years (the first year is the register's lead-in)

    def share(alpha: float, shift: float, rows: IntArray) -> float:
        p = _logistic(cut - _eta_tryg(lat, geo, alpha, shift)[rows])
        w = weights[rows]
        return float((p * w).sum() / w.sum())

    def vulnerable_gap(shift: float, alpha: float) -> float:
        return share(alpha, shift, vul) - TARGET_VULNERABLE

    def overall_gap(alpha: float, shift: float) -> float:
        return share(alpha, shift, everyone) - TARGET_OVERALL

    everyone = np.arange(n, dtype=np.int64)
    vul = np.flatnonzero(geo.vulnerable).astype(np.int64)
    alpha, shift = 0.0, 1.0
    for _ in range(6):  # alternate: V mostly moves the vulnerable share, alpha the overall
        shift = _bisect(partial(vulnerable_gap, alpha=alpha), -2.0, 6.0)
        alpha = _bisect(partial(overall_gap, shift=shift), -6.0, 6.0)
    return Latent(alpha, shift, district, area, fear, wave, slope, own, break_wave)


class TrueModel:
    """Cell probabilities of every item, and true values for any area × wave × measure.

    ``eta[item]`` and the probabilities have shape (neighbourhood, wave, sex, age group);
    ``table`` holds every true value: area_code, level, wave, measure, value.
    """

    def __init__(self, geo: Geography, latent: Latent, register: dict[str, Part]) -> None:
        self.geo = geo
        self.latent = latent
        base = _eta_tryg(latent, geo, latent.alpha, latent.vulnerable_shift)
        self.eta = {
            item: load * base + latent.own[item][:, None, None, None]
            for item, (load, _) in ITEM_LOADING.items()
        }
        self._parts = {**self._survey_parts(), **register}
        self.table = aggregate(geo, self._parts)
        self._lookup = self.table.set_index(["area_code", "wave", "measure"])["value"]
        self._position = {code: i for i, code in enumerate(geo.nb_codes)}

    def cumulative(self, item: str) -> FloatArray:
        """P(Y <= k) for k = 1..K-1, shape (neighbourhood, wave, sex, age, K-1)."""
        return _logistic(cutpoints(item) - self.eta[item][..., None])

    def probabilities(self, item: str) -> FloatArray:
        """P(Y = k) for k = 1..K, shape (neighbourhood, wave, sex, age, K)."""
        cum = self.cumulative(item)
        ones = np.ones((*cum.shape[:-1], 1))
        return np.diff(np.concatenate([0.0 * ones, cum, ones], axis=-1), axis=-1)

    def value(self, area_code: str, wave: int, measure: str) -> float:
        """The true value of a listed area; KeyError when it has no members that year."""
        return float(self._lookup.loc[(area_code, wave, measure)])

    def value_for(self, neighbourhoods: Iterable[str], wave: int, measure: str) -> float:
        """The true value for any set of neighbourhoods, e.g. "the rest of the district"
        when comparing an area with the rest of its parent."""
        rows = np.array([self._position[c] for c in neighbourhoods], dtype=np.int64)
        num, den, scale = self._parts[measure]
        t = self.geo.size.waves.index(wave)
        return float(scale * num[rows, t].sum() / den[rows, t].sum())

    @property
    def measures(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.table["measure"]))

    def _cell_values(self) -> dict[str, FloatArray]:
        """Per-cell expected values of every survey measure, (neighbourhood, wave, sex, age)."""
        out: dict[str, FloatArray] = {}
        for measure, (item, lo, hi) in SHARE_MEASURES.items():
            out[measure] = self.probabilities(item)[..., lo - 1 : hi].sum(axis=-1)
        for item in ITEMS:
            p = self.probabilities(item)
            out[f"mean:{item}"] = (p * np.arange(1, p.shape[-1] + 1)).sum(axis=-1)
        for subindex, items in SUBINDICES.items():
            scores = [100.0 * (len(ITEM_BASE[i]) + 1 - out[f"mean:{i}"]) / len(ITEM_BASE[i])
                      for i in items]
            out[subindex] = np.mean(scores, axis=0)
        return out

    def _survey_parts(self) -> dict[str, Part]:
        """Population-weighted sums over cells per neighbourhood × wave, and the weights."""
        pop = self.geo.population[:, 1:]  # wave years
        n, w = pop.shape[0], pop.shape[1]
        pop_flat = pop.reshape(n, w, -1)
        den = pop_flat.sum(axis=-1)
        return {m: ((v.reshape(n, w, -1) * pop_flat).sum(axis=-1), den, 1.0)
                for m, v in self._cell_values().items()}


def aggregate(geo: Geography, parts: dict[str, Part]) -> pd.DataFrame:
    """True values of every area and wave: ``scale * sum(numerator) / sum(denominator)`` over
    the neighbourhoods that belong to the area that year."""
    frames = []
    for t, wave in enumerate(geo.size.waves):
        members = geo.members(wave)
        codes = list(members)
        index = np.concatenate([members[c] for c in codes])
        owner = np.repeat(np.arange(len(codes)), [len(members[c]) for c in codes])
        levels = [geo.level(c) for c in codes]
        for measure, (num, den, scale) in parts.items():
            total = np.bincount(owner, weights=num[index, t], minlength=len(codes))
            base = np.bincount(owner, weights=den[index, t], minlength=len(codes))
            frames.append(pd.DataFrame({
                "area_code": codes, "level": levels, "wave": wave, "measure": measure,
                "value": scale * total / base,
            }))
    table = pd.concat(frames, ignore_index=True).sort_values(["measure", "wave"], kind="stable")
    return table.reset_index(drop=True).astype(
        {"area_code": str, "level": str, "wave": "int64", "measure": str, "value": "float64"})
