"""Index specifications: the whole formula of a safety index, as data.

A specification is a TOML document (see ``specs/*.toml`` for the three that ship). Parsing
turns it into frozen dataclasses and a content hash, so that every published number can name
the exact formula that made it, and a changed formula is visible (``spec_hash`` changes).
Settings that a published method leaves open (e.g. the Danish index's unpublished weights)
are ordinary settings here, documented in the spec's own notes, never constants in code.

The model, in the order a run uses it:

* ``items``: questionnaire items (wording in Danish and English, scale, which end is safe,
  "don't know" codes, cut-points into categories such as trygge / hverken / utrygge);
* ``measures``: survey measures per area and wave: the share of answers in a category, or
  the mean of an item;
* ``register``: register measures: reported offences per 1,000 residents in a window of
  quarters aligned to fieldwork;
* ``subindices``: 0–100 (or base-year = 100) scores built from items or register measures;
* ``composite``: a weighted combination of sub-indices (or none);
* ``comparisons``, ``publication``, ``small_area``, ``gap``: how results are compared,
  suppressed, modelled for small areas, and set against recorded crime.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from typing import Literal

from tryg.index.toml_table import SpecError as SpecError
from tryg.index.toml_table import TableReader, unique
from tryg.index.toml_table import Text as Text

SafeEnd = Literal["low", "high"]
MeasureKind = Literal["share", "mean"]
SubindexSource = Literal["items", "register"]
Transform = Literal["scale_0_100", "anchored", "base_year"]
CompositeTransform = Literal["weighted_mean", "none"]


@dataclass(frozen=True)
class Item:
    """A questionnaire item on an integer scale."""

    id: str
    text: Text
    scale: tuple[int, int]
    safe_end: SafeEnd
    dont_know: tuple[int, ...] = ()
    categories: tuple[tuple[str, tuple[int, int]], ...] = ()
    column: str = ""

    def codes(self, category: str) -> tuple[int, ...]:
        for name, (lo, hi) in self.categories:
            if name == category:
                return tuple(range(lo, hi + 1))
        raise SpecError(f"item {self.id!r} has no category {category!r}")

    def safety_score(self, code: float) -> float:
        """Answer → 0–100, where 100 is the safe end of the scale."""
        lo, hi = self.scale
        frac = (code - lo) / (hi - lo)
        return 100.0 * (1.0 - frac if self.safe_end == "low" else frac)


@dataclass(frozen=True)
class Measure:
    """A survey measure: share of answers in a category of an item, or an item's mean."""

    id: str
    label: Text
    kind: MeasureKind
    item: str
    category: str = ""
    higher_is_safer: bool = True
    headline: bool = False
    bands: tuple[float, ...] = ()


@dataclass(frozen=True)
class RegisterMeasure:
    """Reported offences per ``per`` residents over a window of quarters.

    ``window_quarters`` quarters ending in quarter ``window_end`` of the wave year
    (4 and 3: Q4 of the year before to Q3, the Danish alignment to autumn fieldwork).
    """

    id: str
    label: Text
    offences: tuple[str, ...]
    per: float = 1000.0
    window_quarters: int = 4
    window_end: int = 3
    smoothing: Literal["none", "eb_global"] = "eb_global"


@dataclass(frozen=True)
class Subindex:
    """A score from items or from a register measure.

    Raw value: for items, the respondent's mean item score on 0–100 (safe end = 100) averaged
    over the area; for a register measure, its rate (more = less safe). Transforms:
    ``scale_0_100`` (items: the raw value), ``anchored`` (register:
    ``100 × (anchors[1] − rate) / (anchors[1] − anchors[0])`` clipped to 0–100, higher = safer),
    ``base_year`` (``100 × value / base``, base = the top area's raw value in ``base_wave``;
    ``100 × (2 − value / base)`` when the raw value points against ``higher_is_better``, which
    describes the index itself).
    """

    id: str
    label: Text
    source: SubindexSource
    items: tuple[str, ...] = ()
    register: str = ""
    transform: Transform = "scale_0_100"
    anchors: tuple[float, float] = (0.0, 0.0)  # register rate at score 100 and at score 0
    base_wave: int | None = None
    higher_is_better: bool = True
    min_items: int = 1
    bands: tuple[float, ...] = ()


@dataclass(frozen=True)
class Composite:
    """How sub-indices combine: a weighted mean (weights are normalised) or none."""

    id: str
    label: Text
    transform: CompositeTransform
    weights: tuple[tuple[str, float], ...] = ()
    bands: tuple[float, ...] = ()


@dataclass(frozen=True)
class Comparisons:
    alpha: float = 0.05
    previous_wave: bool = True
    pooled_waves: int = 0
    parent_rest: bool = True


@dataclass(frozen=True)
class Publication:
    """Publication rules: survey estimates with n below ``min_n`` are suppressed, those below
    ``uncertain_n`` are flagged as uncertain; register counts <= ``small_count`` are shown as
    "< small_count + 1"."""

    min_n: int = 50
    uncertain_n: int = 100
    small_count: int = 4


@dataclass(frozen=True)
class SmallArea:
    enabled: bool = False
    below_n: int = 50
    method: Literal["REML", "ML"] = "REML"
    measures: tuple[str, ...] = ()
    covariates: tuple[str, ...] = ()


@dataclass(frozen=True)
class Gap:
    enabled: bool = False
    survey_measure: str = ""
    register_measure: str = ""
    level: str = ""


@dataclass(frozen=True)
class Calibration:
    """Weights of each wave are raked to population margins at ``level`` (e.g. kommune or
    district) by the given variables (e.g. sex, age_group); without variables, to the area
    totals."""

    level: str = ""
    variables: tuple[str, ...] = ()


@dataclass(frozen=True)
class Spec:
    """A parsed index specification; ``hash`` identifies its exact content."""

    id: str
    version: str
    title: Text
    description: Text
    notes: Text
    items: tuple[Item, ...]
    measures: tuple[Measure, ...]
    register: tuple[RegisterMeasure, ...]
    subindices: tuple[Subindex, ...]
    composite: Composite | None
    comparisons: Comparisons
    publication: Publication
    small_area: SmallArea
    gap: Gap
    calibration: Calibration
    source: str = field(repr=False, default="")
    hash: str = ""

    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise SpecError(f"unknown item {item_id!r}")

    def register_measure(self, measure_id: str) -> RegisterMeasure:
        for m in self.register:
            if m.id == measure_id:
                return m
        raise SpecError(f"unknown register measure {measure_id!r}")

    @property
    def headline(self) -> Measure | None:
        return next((m for m in self.measures if m.headline), None)


def result_measure_ids(spec: Spec) -> list[str]:
    """The measures a run of ``spec`` gives rows for, in the results' order: the survey
    measures, each register measure and its smoothed ``<id>_eb``, the sub-indices, the
    composite (unless its transform is ``none``: then there is none) and the ``gap`` measure
    when enabled. What an indicator or a comparison may name as a measure."""
    ids = [m.id for m in spec.measures]
    for m in spec.register:
        ids += [m.id, f"{m.id}_eb"]
    ids += [s.id for s in spec.subindices]
    if spec.composite is not None and spec.composite.transform != "none":
        ids.append(spec.composite.id)
    return [*ids, "gap"] if spec.gap.enabled else ids


def spec_hash(text: str) -> str:
    """SHA-256 of the specification text with line endings normalised."""
    canonical = text.replace("\r\n", "\n").strip() + "\n"
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse_spec(text: str) -> Spec:
    """Parse and validate a specification from TOML text."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"specification is not valid TOML: {exc}") from exc
    r = TableReader(raw, "")
    head = r.table("spec")
    items = tuple(_item(t) for t in r.tables("items"))
    unique("items", [i.id for i in items])
    item_ids = {i.id for i in items}
    measures = tuple(_measure(t, item_ids) for t in r.tables("measures"))
    register = tuple(_register(t) for t in r.tables("register"))
    subindices = tuple(
        _subindex(t, item_ids, {m.id for m in register}) for t in r.tables("subindices")
    )
    unique(
        "measures", [m.id for m in measures] + [m.id for m in register] + [s.id for s in subindices]
    )
    for m in measures:
        if m.kind == "share":
            next(i for i in items if i.id == m.item).codes(m.category)
    composite = (
        _composite(r.table("composite"), {s.id for s in subindices}) if "composite" in raw else None
    )
    spec = Spec(
        id=head.string("id"),
        version=head.string("version"),
        title=head.text("title"),
        description=head.text("description"),
        notes=head.text("notes", optional=True),
        items=items,
        measures=measures,
        register=register,
        subindices=subindices,
        composite=composite,
        comparisons=_comparisons(r.table("comparisons", optional=True)),
        publication=_publication(r.table("publication", optional=True)),
        small_area=_small_area(
            r.table("small_area", optional=True), {m.id for m in measures}, {m.id for m in register}
        ),
        gap=_gap(r.table("gap", optional=True), {m.id for m in measures}, {m.id for m in register}),
        calibration=_calibration(r.table("calibration", optional=True)),
        source=text,
        hash=spec_hash(text),
    )
    if not spec.measures and not spec.register:
        raise SpecError("a specification needs at least one survey or register measure")
    return spec


def _item(r: TableReader) -> Item:
    scale = r.nums("scale")
    if len(scale) != 2 or scale[0] >= scale[1] or any(s != int(s) for s in scale):
        raise SpecError(f"{r.path}.scale must be two whole numbers [low, high]")
    lo, hi = int(scale[0]), int(scale[1])
    cats = []
    for name, bounds in r.get("categories", {}).items():
        if not (
            isinstance(bounds, list)
            and len(bounds) == 2
            and all(isinstance(b, int) for b in bounds)
        ):
            raise SpecError(f"{r.path}.categories.{name} must be [first, last] codes")
        if not lo <= bounds[0] <= bounds[1] <= hi:
            raise SpecError(f"{r.path}.categories.{name} {bounds} lies outside the scale {lo}-{hi}")
        cats.append((str(name), (bounds[0], bounds[1])))
    dont_know = tuple(int(v) for v in r.nums("dont_know"))
    if any(lo <= d <= hi for d in dont_know):
        raise SpecError(f"{r.path}.dont_know codes must lie outside the scale {lo}-{hi}")
    item_id = r.string("id")
    return Item(
        id=item_id,
        text=r.text("text"),
        scale=(lo, hi),
        safe_end=r.choice("safe_end", ("low", "high")),
        dont_know=dont_know,
        categories=tuple(cats),
        column=r.string("column", item_id),
    )


def _measure(r: TableReader, items: set[str]) -> Measure:
    kind = r.choice("kind", ("share", "mean"))
    item = r.string("item")
    if item not in items:
        raise SpecError(f"{r.path}.item {item!r} is not an item of this specification")
    return Measure(
        id=r.string("id"),
        label=r.text("label"),
        kind=kind,
        item=item,
        category=r.string("category") if kind == "share" else "",
        higher_is_safer=r.boolean("higher_is_safer", True),
        headline=r.boolean("headline", False),
        bands=r.nums("bands"),
    )


def _register(r: TableReader) -> RegisterMeasure:
    offences = r.strs("offences")
    if not offences:
        raise SpecError(f"{r.path}.offences must name at least one offence")
    quarters = r.integer("window_quarters", 4)
    end = r.integer("window_end", 3)
    if not 1 <= quarters <= 40 or not 1 <= end <= 4:
        raise SpecError(f"{r.path}: window_quarters must be 1-40 and window_end a quarter 1-4")
    return RegisterMeasure(
        id=r.string("id"),
        label=r.text("label"),
        offences=offences,
        per=r.number("per", 1000.0),
        window_quarters=quarters,
        window_end=end,
        smoothing=r.choice("smoothing", ("none", "eb_global"), "eb_global"),
    )


def _subindex(r: TableReader, items: set[str], register: set[str]) -> Subindex:
    source = r.choice("source", ("items", "register"))
    sub_items = r.strs("items")
    reg = r.string("register", "") if source == "register" else ""
    if source == "items":
        unknown = [i for i in sub_items if i not in items]
        if not sub_items or unknown:
            raise SpecError(f"{r.path}.items must list items of this specification ({unknown})")
    elif reg not in register:
        raise SpecError(
            f"{r.path}.register {reg!r} is not a register measure of this specification"
        )
    transform = r.choice(
        "transform",
        ("scale_0_100", "anchored", "base_year"),
        "scale_0_100" if source == "items" else "anchored",
    )
    anchors = r.nums("anchors") if "anchors" in r.data else (0.0, 0.0)
    if transform == "anchored" and (len(anchors) != 2 or anchors[0] == anchors[1]):
        raise SpecError(f"{r.path}.anchors must be [value at 100, value at 0] for 'anchored'")
    base_wave = r.integer("base_wave") if transform == "base_year" else None
    return Subindex(
        id=r.string("id"),
        label=r.text("label"),
        source=source,
        items=sub_items,
        register=reg,
        transform=transform,
        anchors=(anchors[0], anchors[1]) if len(anchors) == 2 else (0.0, 0.0),
        base_wave=base_wave,
        higher_is_better=r.boolean("higher_is_better", True),
        min_items=r.integer("min_items", 1),
        bands=r.nums("bands"),
    )


def _composite(r: TableReader, subindices: set[str]) -> Composite:
    transform = r.choice("transform", ("weighted_mean", "none"), "weighted_mean")
    weights = r.get("weights", {})
    if not isinstance(weights, dict):
        raise SpecError(f"{r.path}.weights must be a table of sub-index = weight")
    pairs = []
    for k, v in weights.items():
        if k not in subindices:
            raise SpecError(f"{r.path}.weights names {k!r}, which is not a sub-index")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise SpecError(f"{r.path}.weights.{k} must be a non-negative number")
        pairs.append((str(k), float(v)))
    if transform == "weighted_mean" and sum(w for _, w in pairs) <= 0:
        raise SpecError(f"{r.path}.weights must give some sub-index a positive weight")
    return Composite(
        id=r.string("id"),
        label=r.text("label"),
        transform=transform,
        weights=tuple(pairs),
        bands=r.nums("bands"),
    )


def _comparisons(r: TableReader) -> Comparisons:
    alpha = r.number("alpha", 0.05)
    if not 0 < alpha < 0.5:
        raise SpecError(f"{r.path}.alpha must be between 0 and 0.5")
    return Comparisons(
        alpha=alpha,
        previous_wave=r.boolean("previous_wave", True),
        pooled_waves=r.integer("pooled_waves", 0),
        parent_rest=r.boolean("parent_rest", True),
    )


def _publication(r: TableReader) -> Publication:
    p = Publication(
        min_n=r.integer("min_n", 50),
        uncertain_n=r.integer("uncertain_n", 100),
        small_count=r.integer("small_count", 4),
    )
    if p.uncertain_n < p.min_n:
        raise SpecError(f"{r.path}.uncertain_n must be at least min_n")
    return p


def _small_area(r: TableReader, measures: set[str], register: set[str]) -> SmallArea:
    sa = SmallArea(
        enabled=r.boolean("enabled", False),
        below_n=r.integer("below_n", 50),
        method=r.choice("method", ("REML", "ML"), "REML"),
        measures=r.strs("measures"),
        covariates=r.strs("covariates"),
    )
    for m in sa.measures:
        if m not in measures:
            raise SpecError(f"{r.path}.measures names {m!r}, which is not a survey measure")
    for c in sa.covariates:
        if c not in register and c != "population":
            raise SpecError(
                f"{r.path}.covariates: {c!r} is neither a register measure nor 'population'"
            )
    return sa


def _gap(r: TableReader, measures: set[str], register: set[str]) -> Gap:
    gap = Gap(
        enabled=r.boolean("enabled", False),
        survey_measure=r.string("survey_measure", ""),
        register_measure=r.string("register_measure", ""),
        level=r.string("level", ""),
    )
    if gap.enabled and (gap.survey_measure not in measures or gap.register_measure not in register):
        raise SpecError(f"{r.path} must name a survey measure and a register measure of this spec")
    return gap


def _calibration(r: TableReader) -> Calibration:
    return Calibration(level=r.string("level", ""), variables=r.strs("variables"))
