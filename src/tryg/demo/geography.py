"""The fictional municipality of the demo: areas, their links, a map grid and the population.

Everything here is invented. "Demo Kommune" (code ``9999``, no real kommune has it) has
districts (level ``bydel``), neighbourhoods (``nabolag``, the finest level: every survey answer
and every register record belongs to one) and vulnerable housing areas (``boligomraade``), a
second parent of some neighbourhoods that, like the real list of "særligt udsatte
boligområder", changes over time: links carry ``valid_from``/``valid_to`` (inclusive years,
NaN = open). Names are made of invented stems (checked against the parish, postal district and
kommune names of DAGI), and the map grid lies in the North Sea west of Jutland, so that no one
mistakes the demo for a real place.

Codes: kommune ``9999``; district ``9999-DD``; neighbourhood ``9999-DD-NN``; vulnerable
housing area ``9999-UJJ``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

KOMMUNE_CODE = "9999"
KOMMUNE_NAME = "Demo Kommune"
SEXES = ("mand", "kvinde")
AGE_GROUPS = ("15-24", "25-39", "40-54", "55-69", "70+")

#: Invented name stems and suffixes; ``district_names`` combines them into 98 unique names.
STEMS = (
    "Alvre", "Brumme", "Dyvel", "Fjelme", "Hvisse", "Klemme", "Lunke",
    "Mæsle", "Nørvre", "Pible", "Rævle", "Tvære", "Kvarme", "Bøgle",
)  # fmt: skip
SUFFIXES = ("rup", "lund", "bjerg", "høj", "vig", "sted", "holm")
NEIGHBOURHOOD_SUFFIXES = (
    "Nord", "Syd", "Øst", "Vest", "Midt", "Strand", "Mark", "Enge", "Have", "Park", "Bakke",
    "Skov", "Vang", "Høj", "Dal", "Mose", "Toft", "Huse", "Kær", "Lund", "Bro", "Vænge",
    "Eng", "Ager",
)  # fmt: skip
HOUSING_KINDS = ("parken", "gården", "vænget", "højene")

#: The grid's origin (south-west corner) in WGS84: open sea, ~100 km west of Jutland.
ORIGIN_LON = 6.0
ORIGIN_LAT = 56.3
CELL_METRES = 900.0
_M_PER_DEG_LAT = 110_574.0

#: Population shares of the age groups (residents 15+), ordinary and vulnerable areas.
AGE_SHARES = np.array([0.15, 0.24, 0.25, 0.21, 0.15])
AGE_SHARES_VULNERABLE = np.array([0.22, 0.30, 0.22, 0.15, 0.11])
FEMALE_SHARES = np.array([0.48, 0.49, 0.495, 0.505, 0.56])


@dataclass(frozen=True)
class DemoSize:
    """The dimensions of a demo data set."""

    name: str
    first_wave: int
    n_waves: int
    n_districts: int
    n_neighbourhoods: int
    n_vulnerable: int
    respondents: int
    median_population: float

    @property
    def waves(self) -> tuple[int, ...]:
        return tuple(range(self.first_wave, self.first_wave + self.n_waves))

    @property
    def years(self) -> tuple[int, ...]:
        """Population years: the year before the first wave (the first register quarter,
        Q4, lies in it) up to the last wave."""
        return tuple(range(self.first_wave - 1, self.first_wave + self.n_waves))


SIZES: dict[str, DemoSize] = {
    "small": DemoSize("small", 2019, 5, 8, 40, 3, 4_000, 3_800.0),
    "national": DemoSize("national", 2014, 10, 98, 2_200, 25, 30_000, 2_300.0),
}


def district_names(n: int) -> list[str]:
    """``n`` unique invented names (up to 98): stem i mod 14 with a rotating suffix."""
    if n > len(STEMS) * len(SUFFIXES):
        raise ValueError(f"at most {len(STEMS) * len(SUFFIXES)} districts")
    return [
        STEMS[i % len(STEMS)] + SUFFIXES[(i // len(STEMS) + i) % len(SUFFIXES)]
        for i in range(n)
    ]


def housing_names(n: int) -> list[str]:
    """``n`` invented names of housing estates, e.g. "Dyvelparken"."""
    return [
        STEMS[(i * 5 + 2) % len(STEMS)] + HOUSING_KINDS[(i + i // len(STEMS)) % 4]
        for i in range(n)
    ]


@dataclass(frozen=True)
class Geography:
    """Areas and population of the demo; arrays are indexed by neighbourhood position.

    ``population`` has shape (neighbourhood, year, sex, age group) over ``size.years``.
    ``cell_xy`` holds each neighbourhood's grid square (x0, y0) in metres from the origin.
    """

    size: DemoSize
    nb_codes: tuple[str, ...]
    nb_names: tuple[str, ...]
    nb_district: IntArray
    district_codes: tuple[str, ...]
    district_names: tuple[str, ...]
    vulnerable: BoolArray
    centre: BoolArray
    housing_codes: tuple[str, ...]
    housing_names: tuple[str, ...]
    housing_links: pd.DataFrame
    population: FloatArray
    cell_xy: FloatArray

    def lonlat(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Grid metres → WGS84 degrees (equirectangular; exact enough for a 50 km grid)."""
        m_per_deg_lon = 111_320.0 * math.cos(math.radians(ORIGIN_LAT))
        return ORIGIN_LON + x / m_per_deg_lon, ORIGIN_LAT + y / _M_PER_DEG_LAT

    def members(self, year: int) -> dict[str, IntArray]:
        """Neighbourhood positions of every area in ``year``, respecting link validity."""
        out: dict[str, IntArray] = {KOMMUNE_CODE: np.arange(len(self.nb_codes))}
        for d, code in enumerate(self.district_codes):
            out[code] = np.flatnonzero(self.nb_district == d)
        links = self.housing_links
        ok = (links["valid_from"].isna() | (links["valid_from"] <= year)) & (
            links["valid_to"].isna() | (links["valid_to"] >= year)
        )
        for parent, group in links[ok].groupby("parent", sort=True):
            out[str(parent)] = group["nb"].to_numpy(dtype=np.int64)
        for i, code in enumerate(self.nb_codes):
            out[code] = np.array([i])
        return out

    def level(self, code: str) -> str:
        if code == KOMMUNE_CODE:
            return "kommune"
        if code in self.housing_codes:
            return "boligomraade"
        return "bydel" if code.count("-") == 1 else "nabolag"

    def areas_table(self) -> pd.DataFrame:
        """``areas`` in the contract: code, name, level (kommune, bydel, boligomraade, nabolag)."""
        rows = [(KOMMUNE_CODE, KOMMUNE_NAME, "kommune")]
        rows += [(c, n, "bydel") for c, n in zip(self.district_codes, self.district_names,
                                                  strict=True)]
        rows += [(c, n, "boligomraade") for c, n in zip(self.housing_codes, self.housing_names,
                                                         strict=True)]
        rows += [(c, n, "nabolag") for c, n in zip(self.nb_codes, self.nb_names, strict=True)]
        return pd.DataFrame(rows, columns=["code", "name", "level"])

    def links_table(self) -> pd.DataFrame:
        """``links`` in the contract; a neighbourhood in a housing area has two parents."""
        nan = float("nan")
        rows: list[tuple[str, str, float, float]] = []
        rows += [(c, KOMMUNE_CODE, nan, nan) for c in self.district_codes]
        rows += [(c, KOMMUNE_CODE, nan, nan) for c in self.housing_codes]
        rows += [
            (c, self.district_codes[int(d)], nan, nan)
            for c, d in zip(self.nb_codes, self.nb_district, strict=True)
        ]
        h = self.housing_links
        rows += [
            (self.nb_codes[int(nb)], str(p), float(f), float(t))
            for nb, p, f, t in zip(h["nb"], h["parent"], h["valid_from"], h["valid_to"],
                                   strict=True)
        ]
        links = pd.DataFrame(rows, columns=["code", "parent", "valid_from", "valid_to"])
        return links.astype({"valid_from": "float64", "valid_to": "float64"})


def _district_sizes(rng: np.random.Generator, size: DemoSize) -> IntArray:
    """Neighbourhoods per district: as even as possible, then a few moved to vary them."""
    d, n = size.n_districts, size.n_neighbourhoods
    sizes = np.full(d, n // d, dtype=np.int64)
    sizes[rng.choice(d, n % d, replace=False)] += 1
    low, high = max(3, n // d - 1), n // d + 2
    for _ in range(d // 2):
        i, j = rng.choice(d, 2, replace=False)
        if sizes[i] > low and sizes[j] < high:
            sizes[i] -= 1
            sizes[j] += 1
    return sizes


def _housing_links(rng: np.random.Generator, size: DemoSize, nb_district: IntArray,
                   codes: tuple[str, ...]) -> pd.DataFrame:
    """Pick 1–2 adjacent neighbourhoods (outside the centre district) per housing area.

    Validity follows a fixed pattern so tests can rely on it: area j with j % 5 == 1 leaves
    the list after a middle wave (``valid_to``), area j with j % 7 == 3 joins it later
    (``valid_from``); the rest are on the list throughout (open links).
    """
    candidates = np.flatnonzero(nb_district != 0)
    starts = rng.choice(candidates, len(codes), replace=False)
    taken: set[int] = set()
    rows: list[tuple[int, str, float, float]] = []
    nan = float("nan")
    for j, (start, code) in enumerate(zip(sorted(starts.tolist()), codes, strict=True)):
        if start in taken:
            continue
        members = [start]
        nxt = start + 1
        if (nxt < len(nb_district) and nb_district[nxt] == nb_district[start]
                and nxt not in taken and nxt not in starts and rng.random() < 0.5):
            members.append(nxt)
        valid_from, valid_to = nan, nan
        if j % 5 == 1:
            valid_to = float(size.first_wave + max(1, size.n_waves // 2))
        elif j % 7 == 3:
            valid_from = float(size.first_wave + max(1, size.n_waves // 2))
        for m in members:
            taken.add(m)
            rows.append((m, code, valid_from, valid_to))
    return pd.DataFrame(rows, columns=["nb", "parent", "valid_from", "valid_to"])


def _layout(district_sizes: IntArray) -> FloatArray:
    """Grid squares (x0, y0) in metres: districts as blocks, neighbourhoods cells in a block."""
    cols = math.ceil(math.sqrt(len(district_sizes)))
    biggest = int(district_sizes.max())
    bw = math.ceil(math.sqrt(biggest))
    bh = math.ceil(biggest / bw)
    xy = []
    for d, k_max in enumerate(district_sizes):
        bx, by = d % cols, d // cols
        for k in range(int(k_max)):
            xy.append(((bx * bw + k % bw) * CELL_METRES, (by * bh + k // bw) * CELL_METRES))
    return np.array(xy, dtype=float)


def _population(rng: np.random.Generator, size: DemoSize, vulnerable: BoolArray) -> FloatArray:
    """Residents 15+ by neighbourhood × year × sex × age group (whole numbers, as floats).

    Sizes are log-normal around the size's median (housing areas a little smaller), grow by
    a per-area rate, and mix ages and sexes around Danish-like shares, housing areas younger.
    """
    n = len(vulnerable)
    base = size.median_population * np.exp(rng.normal(0.0, 0.45, n))
    base *= np.where(vulnerable, 0.8, 1.0)
    growth = rng.normal(0.004, 0.008, n)
    shares = np.where(vulnerable[:, None], AGE_SHARES_VULNERABLE, AGE_SHARES)
    ages = np.array([rng.dirichlet(150.0 * s) for s in shares])
    female = np.clip(FEMALE_SHARES + rng.normal(0.0, 0.015, (n, len(AGE_GROUPS))), 0.3, 0.7)
    sex = np.stack([1.0 - female, female], axis=1)  # (n, sex, age)
    t = np.arange(len(size.years), dtype=float)
    total = base[:, None] * (1.0 + growth[:, None]) ** t[None, :]  # (n, year)
    pop = total[:, :, None, None] * sex[:, None, :, :] * ages[:, None, None, :]
    return np.asarray(np.maximum(np.round(pop), 1.0), dtype=np.float64)


def build_geography(rng: np.random.Generator, size: DemoSize) -> Geography:
    """Draw the fictional municipality of ``size`` from ``rng``."""
    sizes = _district_sizes(rng, size)
    d_codes = tuple(f"{KOMMUNE_CODE}-{d + 1:02d}" for d in range(size.n_districts))
    d_names = tuple(district_names(size.n_districts))
    nb_district = np.repeat(np.arange(size.n_districts), sizes)
    nb_codes, nb_names = [], []
    for d, k_max in enumerate(sizes):
        for k in range(int(k_max)):
            nb_codes.append(f"{d_codes[d]}-{k + 1:02d}")
            nb_names.append(f"{d_names[d]} {NEIGHBOURHOOD_SUFFIXES[k]}")
    h_codes = tuple(f"{KOMMUNE_CODE}-U{j + 1:02d}" for j in range(size.n_vulnerable))
    links = _housing_links(rng, size, nb_district, h_codes)
    used = tuple(c for c in h_codes if c in set(links["parent"]))
    names = dict(zip(h_codes, housing_names(size.n_vulnerable), strict=True))
    vulnerable = np.zeros(len(nb_codes), dtype=bool)
    vulnerable[links["nb"].to_numpy()] = True
    return Geography(
        size=size,
        nb_codes=tuple(nb_codes),
        nb_names=tuple(nb_names),
        nb_district=nb_district,
        district_codes=d_codes,
        district_names=d_names,
        vulnerable=vulnerable,
        centre=nb_district == 0,
        housing_codes=used,
        housing_names=tuple(names[c] for c in used),
        housing_links=links,
        population=_population(rng, size, vulnerable),
        cell_xy=_layout(sizes),
    )


def population_table(geo: Geography) -> pd.DataFrame:
    """``population`` in the contract: every area × year × sex × age group.

    Aggregates (districts, housing areas, the kommune) are sums over their neighbourhoods in
    that year; a housing area appears only in the years it has members on the list.
    """
    years = geo.size.years
    n_cells = len(SEXES) * len(AGE_GROUPS)
    sex_col = np.repeat(np.array(SEXES, dtype=object), len(AGE_GROUPS))
    age_col = np.tile(np.array(AGE_GROUPS, dtype=object), len(SEXES))
    frames = []
    for y, year in enumerate(years):
        cells = geo.population[:, y].reshape(len(geo.nb_codes), n_cells)
        members = geo.members(year)
        codes = [KOMMUNE_CODE, *geo.district_codes, *geo.housing_codes, *geo.nb_codes]
        present = [c for c in codes if c in members]
        values = np.stack([cells[members[c]].sum(axis=0) for c in present])
        frames.append(pd.DataFrame({
            "area_code": np.repeat(np.array(present, dtype=object), n_cells),
            "year": year,
            "sex": np.tile(sex_col, len(present)),
            "age_group": np.tile(age_col, len(present)),
            "population": values.ravel(),
        }))
    table = pd.concat(frames, ignore_index=True)
    return table.astype({"area_code": str, "year": "int64", "sex": str, "age_group": str,
                         "population": "float64"})
