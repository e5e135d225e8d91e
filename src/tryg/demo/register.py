"""The demo police register: true crime rates, Poisson counts and record-level reports.

Records carry specific offence labels as in Statistics Denmark's STRAF11 ("Common assault",
"Residential burglaries", ...); :data:`OFFENCE_TOTALS` maps each onto the totals it counts
towards ("Penal Code, total", "Crimes of violence, total", "Special acts, total"), which is
what the spec's register measures name. The expected number of reports of offence l in
neighbourhood a and quarter q is::

    base[l] / 1000 / 4 * population[a, year(q)] * exp(m[a, group(l)]) * season[q] * trend[q]

with ``m = load[group] * structural insecurity + centre[group] * in_centre + noise``: crime
follows the survey's latent insecurity, except its ``fear`` part (fear ahead of crime), and the
centre district (district 01: nightlife and shops) has much more crime than fear. Counts are
Poisson; the true rate of a wave is the expected count in the window Q4 of the year before to
Q3 of the wave year, per 1,000 residents 15+ in the wave year, summed over the area's members.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tryg.demo.geography import CELL_METRES, FloatArray, Geography, IntArray
from tryg.demo.truth import Latent, Part

PENAL = "Penal Code, total"
VIOLENCE = "Crimes of violence, total"
SPECIAL = "Special acts, total"
#: Offence label → (group, reports per 1,000 residents 15+ per year in an average area).
OFFENCES: dict[str, tuple[str, float]] = {
    "Common assault": ("violence", 2.2),
    "Threats": ("violence", 0.8),
    "Violence against public authority": ("violence", 0.9),
    "Assault causing actual bodily harm": ("violence", 0.4),
    "Residential burglaries": ("property", 5.0),
    "Burglary - business and community": ("property", 1.8),
    "Other kinds of theft": ("property", 20.0),
    "Theft of/taking bicycle without the owners consent (TWOC)": ("property", 12.0),
    "Shoplifting, etc.": ("property", 5.5),
    "Malicious damage to property": ("property", 3.6),
    "Fraud": ("property", 3.8),
    "Robbery": ("property", 0.35),
    "Trafficking of drugs, etc.": ("drugs", 0.3),
    "Euphoriants Act": ("special", 6.5),
}
GROUP_TOTALS: dict[str, tuple[str, ...]] = {
    "violence": (PENAL, VIOLENCE), "property": (PENAL,), "drugs": (PENAL,), "special": (SPECIAL,),
}
#: Offence label → the totals it is counted in.
OFFENCE_TOTALS: dict[str, tuple[str, ...]] = {
    label: GROUP_TOTALS[group] for label, (group, _) in OFFENCES.items()
}
TOTALS = (PENAL, VIOLENCE, SPECIAL)
#: Per group: loading on structural insecurity, log multiplier in the centre district.
GROUP_EFFECTS = {"violence": (0.5, np.log(2.0)), "property": (0.25, np.log(2.3)),
                 "drugs": (0.8, np.log(1.5)), "special": (0.6, np.log(1.8))}
SEASON = np.array([0.92, 1.0, 1.08, 1.0])  # Q1..Q4
TREND_PER_YEAR = -0.015
#: The register measures of the spec whose true rates the truth table holds.
TRUTH_MEASURES = {"anmeldelser_straffelov": PENAL, "anmeldelser_vold": VIOLENCE}


@dataclass(frozen=True)
class Register:
    """Expected and drawn counts, shape (neighbourhood, quarter, offence label)."""

    quarters: tuple[str, ...]
    expected: FloatArray
    counts: IntArray


def quarters(geo: Geography) -> tuple[str, ...]:
    """Q4 of the year before the first wave through Q4 of the last wave."""
    first = geo.size.first_wave
    out = [f"{first - 1}Q4"]
    out += [f"{y}Q{q}" for y in geo.size.waves for q in (1, 2, 3, 4)]
    return tuple(out)


def draw_register(rng: np.random.Generator, geo: Geography, lat: Latent) -> Register:
    """Expected counts from the true rates, and Poisson counts drawn from them."""
    qs = quarters(geo)
    year_index = np.array([int(q[:4]) - geo.size.years[0] for q in qs])
    season = SEASON[np.array([int(q[-1]) - 1 for q in qs])]
    trend = np.exp(TREND_PER_YEAR * (year_index - 1))
    structural = lat.structural(geo)
    structural = structural - structural.mean()
    groups = sorted(GROUP_EFFECTS)
    m = {
        g: GROUP_EFFECTS[g][0] * structural + GROUP_EFFECTS[g][1] * geo.centre
        + rng.normal(0.0, 0.2, len(structural))
        for g in groups
    }
    residents = geo.population.sum(axis=(2, 3))[:, year_index]  # (nb, quarter)
    per_quarter = residents * (season * trend)[None, :] / 4000.0
    expected = np.stack(
        [per_quarter * base * np.exp(m[group])[:, None] for group, base in OFFENCES.values()],
        axis=-1,
    )
    return Register(qs, expected, rng.poisson(expected).astype(np.int64))


def totals(values: FloatArray | IntArray) -> dict[str, FloatArray]:
    """Offence-label axis (last) → one array per total."""
    labels = list(OFFENCES)
    return {
        total: values[..., [i for i, lab in enumerate(labels) if total in OFFENCE_TOTALS[lab]]]
        .sum(axis=-1)
        for total in TOTALS
    }


def counts_table(geo: Geography, reg: Register) -> pd.DataFrame:
    """``RegisterInput.counts``: neighbourhood × quarter × total (zeros included)."""
    by_total = totals(reg.counts)
    n, nq = len(geo.nb_codes), len(reg.quarters)
    frame = pd.DataFrame({
        "area_code": np.repeat(np.array(geo.nb_codes, dtype=object), nq * len(TOTALS)),
        "quarter": np.tile(np.repeat(np.array(reg.quarters, dtype=object), len(TOTALS)), n),
        "offence": np.tile(np.array(TOTALS, dtype=object), n * nq),
        "count": np.stack([by_total[t] for t in TOTALS], axis=-1).ravel(),
    })
    return frame.astype({"area_code": str, "quarter": str, "offence": str, "count": "int64"})


def register_parts(geo: Geography, reg: Register) -> dict[str, Part]:
    """True rates per 1,000 residents 15+ for the spec's register measures, as parts: expected
    reports in the window Q4 of the year before to Q3 (numerator), residents in the wave year
    (denominator)."""
    by_total = totals(reg.expected)
    waves = geo.size.n_waves
    window = np.arange(waves)[:, None] * 4 + np.arange(4)[None, :]  # Q4(t-1) .. Q3(t)
    residents = geo.population.sum(axis=(2, 3))[:, 1:]  # wave years
    return {m: (by_total[t][:, window].sum(axis=-1), residents, 1000.0)
            for m, t in TRUTH_MEASURES.items()}


def records_table(rng: np.random.Generator, geo: Geography, reg: Register) -> pd.DataFrame:
    """One row per report: record_id, date, offence, area_code, lon, lat (6 decimals).

    Dates are uniform within the quarter, points uniform inside the neighbourhood's square
    (10 m from its edges, so point-in-polygon assignment is never ambiguous). Rows are sorted
    by date, area and offence; ids count from 1 in that order.
    """
    flat = reg.counts.ravel()
    cell = np.repeat(np.arange(flat.size, dtype=np.int64), flat)
    nb, q, lab = np.unravel_index(cell, reg.counts.shape)
    starts = np.array([f"{s[:4]}-{3 * int(s[-1]) - 2:02d}-01" for s in reg.quarters],
                      dtype="datetime64[D]")
    ends = np.array([f"{int(s[:4]) + (s[-1] == '4')}-{(3 * int(s[-1])) % 12 + 1:02d}-01"
                     for s in reg.quarters], dtype="datetime64[D]")
    days = (ends - starts).astype(np.int64)
    offset = np.floor(rng.random(cell.size) * days[q]).astype(np.int64)
    date = starts[q] + offset.astype("timedelta64[D]")
    inner = CELL_METRES - 20.0
    x = geo.cell_xy[nb, 0] + 10.0 + rng.random(cell.size) * inner
    y = geo.cell_xy[nb, 1] + 10.0 + rng.random(cell.size) * inner
    lon, lat = geo.lonlat(x, y)
    order = np.lexsort((lab, nb, date))
    frame = pd.DataFrame({
        "record_id": np.arange(1, cell.size + 1, dtype=np.int64),
        "date": date[order].astype("datetime64[s]"),
        "offence": pd.Categorical.from_codes(lab[order], categories=pd.Index(list(OFFENCES))),
        "area_code": pd.Categorical.from_codes(nb[order], categories=pd.Index(geo.nb_codes)),
        "lon": np.round(lon[order], 6),
        "lat": np.round(lat[order], 6),
    })
    return frame
