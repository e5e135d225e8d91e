"""Survey designs: who was sampled, how, and with what weight.

A :class:`Design` is built and validated once, then handed to every estimator (the habit of R
`survey`). It is immutable: adjusting weights (:mod:`tryg.stats.calibration`) returns a new
design that remembers how it was adjusted, so that variances can use calibration residuals.

Conventions follow R `survey`'s ``svydesign`` so that numbers agree with it:

* ``psu`` names the cluster column of each stage (``None``: every row is its own unit).
  Cluster labels are read *within* their stratum (R's ``nest=TRUE``).
* ``fpc`` is the population size of each stage (values > 1) or the sampling fraction (all
  values <= 1). Without ``fpc`` the first stage is taken as sampled with replacement and later
  stages are ignored (the "ultimate cluster" variance), as R does.
* ``lonely_psu`` chooses what a stratum with a single unit contributes: ``"fail"`` (an error
  when the design is built), ``"certainty"``/``"remove"`` (nothing), ``"adjust"`` (its deviation
  from the overall mean) or ``"average"`` (the average of the other strata).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from tryg.stats.errors import DesignError
from tryg.stats.numbering import first_rows, unique_inverse

if TYPE_CHECKING:
    from tryg.stats.calibration_blocks import Blocks
    from tryg.stats.score_patterns import PatternEngine

LonelyPSU = Literal["fail", "certainty", "remove", "adjust", "average"]
LONELY_PSU_OPTIONS: tuple[str, ...] = ("fail", "certainty", "remove", "adjust", "average")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Sparse = Any  # scipy.sparse matrices are not generic types


class SurveyDesign(Protocol):
    """What the estimators need of a design. :class:`Design` (variances by linearisation)
    and :class:`~tryg.stats.replicates.ReplicateDesign` (variances from replicate weights)
    implement it, each with its own way to a variance and to degrees of freedom, as R's
    ``svydesign`` and ``svrepdesign`` objects have their own methods: an estimator asks the
    design, it never looks at what kind of design it has."""

    @property
    def data(self) -> pd.DataFrame: ...

    @property
    def weights(self) -> FloatArray: ...

    @property
    def n(self) -> int: ...

    @property
    def by_replicates(self) -> bool:
        """Whether variances come from replicate weights (``point``), not from scores."""
        ...

    def column(self, name: str) -> pd.Series: ...

    def variance(
        self, point: Callable[[FloatArray], FloatArray], scores: Callable[[], Sparse]
    ) -> FloatArray:
        """The variance of D estimates: ``point(weights)`` gives them for weights (n,) or
        (n, R) (as D or D × R), ``scores()`` their linearised scores (n × D, sparse). A
        design calls the one it needs."""
        ...

    def domain_degrees_of_freedom(
        self, rows: IntArray, dom: IntArray, n_domains: int
    ) -> FloatArray:
        """The degrees of freedom of each of ``n_domains`` domains (``rows``: the rows counted
        in a domain, ``dom``: their domain)."""
        ...

    def rows_degrees_of_freedom(self, rows: IntArray) -> float:
        """The degrees of freedom of a contrast over ``rows`` (R's ``svycontrast``)."""
        ...


@dataclass
class DesignCache:
    """What the variance code computes once per design and keeps: one typed slot on the
    (frozen) design instead of attributes written into it. A changed copy
    (:func:`replace_design`) starts with an empty one (only the variance components are
    kept when the sampling structure is the same: the weights do not enter them)."""

    components: tuple[VarianceComponent, ...] | None = None
    #: :func:`tryg.stats.variance._calibration_cache`
    calibration: dict[str, Any] | None = None
    #: :func:`tryg.stats.calibration_blocks.blocks` (``None`` is a result: not blockable)
    blocks: Blocks | None = None
    blocks_known: bool = False
    #: :func:`tryg.stats.score_patterns.engine_for`, by pattern
    pattern_engines: dict[tuple[int, bytes, bytes], PatternEngine] = field(default_factory=dict)


@dataclass(frozen=True)
class Stage:
    """One sampling stage: which stratum and which unit every row belongs to.

    ``unit`` numbers are global (0..n_units-1) and already nested in the stratum and in the
    unit of the stage above. ``popsize`` is the number of units in the population of the
    row's stratum (``inf`` when unknown).
    """

    stratum: IntArray
    unit: IntArray
    n_units: int
    popsize: FloatArray | None


@dataclass(frozen=True)
class VarianceComponent:
    """One term of the linearised variance.

    For scores summed to unit totals ``Z[j]`` the component contributes
    ``sum_j scale[group[j]] * Z[j]**2 - sum_g scale[g] * centre[g] * (sum_{j in g} Z[j])**2``:
    the between-unit variance within each group (a stratum, or a stratum inside a unit of the
    stage above), with the finite population correction and stage factor folded into ``scale``.
    """

    unit: IntArray
    n_units: int
    group: IntArray
    n_groups: int
    scale: FloatArray
    centre: FloatArray
    # lonely_psu="average" at stage 1: which strata are lonely. The average is then taken per
    # estimate over the strata where it has respondents (see variance.py), as R does when it
    # subsets a design for a domain.
    average_lonely: npt.NDArray[np.bool_] | None = None


@dataclass(frozen=True)
class CalibrationStep:
    """What one weight adjustment needs for the variance: the residual projection.

    The linearised scores ``x`` are replaced by ``x - psw * (X @ beta)`` with
    ``beta = pinv(X' diag(lam) X) X' diag(lam) (x / psw)``; this is how R `survey` treats
    post-stratification (``lam`` = old weights), raking (``lam`` = 1) and GREG calibration
    (``lam`` = weights before calibration). ``kind`` and ``report`` are for people.
    """

    kind: str
    X: object  # scipy.sparse.csr_matrix, n x p (kept as object: scipy has no stable typing)
    lam: FloatArray
    psw: FloatArray
    report: object = None


def _as_list(
    value: str | Sequence[str | None] | None, n_stages: int, name: str
) -> list[str | None]:
    if value is None:
        return [None] * n_stages
    if isinstance(value, str):
        return [value] + [None] * (n_stages - 1)
    values = list(value)
    if len(values) != n_stages:
        raise DesignError(
            f"{name}= gives {len(values)} columns but the design has {n_stages} stage(s) "
            f"(one per psu column)"
        )
    return values


def _codes(values: pd.Series, column: str) -> IntArray:
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise DesignError(f"column {column!r} has a missing value (row {row}); design columns "
                          "must be complete")
    codes, _ = pd.factorize(values, sort=True)
    return codes.astype(np.int64)


def _combine(*codes: IntArray) -> tuple[IntArray, int]:
    """Number the distinct combinations of several code arrays 0..k-1 (sorted)."""
    if len(codes) == 1:
        uniq, inv = unique_inverse(codes[0])  # by counting where the codes span little
        return inv, len(uniq)
    # Fold the codes into one int64 key (same order as sorting the rows): a 1-D unique is
    # ~100x faster than np.unique(axis=0) on 300,000 rows.
    key, _ = _combine(codes[0])
    for more in codes[1:]:
        inner, n_inner = _combine(more)
        key, _ = _combine(key * n_inner + inner)
    return key, int(key.max()) + 1 if len(key) else 0


def _own_units(stratum: IntArray) -> IntArray:
    """Units numbered by (stratum, row) when every row is its own unit: what
    ``_combine(stratum, np.arange(n))`` gives, without the sort of ``n`` keys spanning
    strata × rows. A stable sort of the stratum codes (a radix sort on 16-bit pieces, least
    significant first) puts the rows in that order; a unit's number is its place in it."""
    codes = np.asarray(stratum, dtype=np.int64)
    order = np.arange(len(codes), dtype=np.int64)
    if len(codes) and (codes.min() < 0 or codes.max() >= 1 << 32):
        order = np.argsort(codes, kind="stable")
    else:
        for shift in (0, 16):
            piece = ((codes[order] >> shift) & 0xFFFF).astype(np.uint16)
            if shift and not piece.any():
                break
            order = order[np.argsort(piece, kind="stable")]
    unit = np.empty(len(codes), dtype=np.int64)
    unit[order] = np.arange(len(codes), dtype=np.int64)
    return unit


@dataclass(frozen=True)
class Design:
    """A probability sample with its weights, strata, clusters and finite population corrections.

    Build it with ``Design(data, weights="w", strata="stratum", psu="cluster", fpc="N")``.
    The data frame is kept by reference: do not change it afterwards.
    """

    data: pd.DataFrame
    weights_column: str | None = None
    strata_columns: tuple[str | None, ...] = ()
    psu_columns: tuple[str | None, ...] = ()
    fpc_columns: tuple[str | None, ...] = ()
    lonely_psu: LonelyPSU = "fail"
    weights: FloatArray = field(default_factory=lambda: np.zeros(0), repr=False)
    stages: tuple[Stage, ...] = field(default=(), repr=False)
    calibration: tuple[CalibrationStep, ...] = field(default=(), repr=False)
    cache: DesignCache = field(default_factory=DesignCache, repr=False, compare=False)

    def __init__(
        self,
        data: pd.DataFrame,
        weights: str | None = None,
        strata: str | Sequence[str | None] | None = None,
        psu: str | Sequence[str | None] | None = None,
        fpc: str | Sequence[str | None] | None = None,
        lonely_psu: LonelyPSU = "fail",
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise DesignError("data must be a pandas DataFrame")
        if lonely_psu not in LONELY_PSU_OPTIONS:
            raise DesignError(
                f"lonely_psu={lonely_psu!r} is not one of {', '.join(LONELY_PSU_OPTIONS)}"
            )
        psu_list: list[str | None] = [psu] if psu is None or isinstance(psu, str) else list(psu)
        n_stages = max(len(psu_list), 1)
        strata_list = _as_list(strata, n_stages, "strata")
        fpc_list = _as_list(fpc, n_stages, "fpc")
        named = [weights, *psu_list, *strata_list, *fpc_list]
        missing = [c for c in named if c is not None and c not in data.columns]
        if missing:
            raise DesignError(
                f"unknown column(s) {', '.join(map(repr, missing))}; the data has "
                f"{', '.join(map(str, data.columns[:30]))}"
            )
        if len(data) == 0:
            raise DesignError("the data has no rows")
        if fpc is not None and any(f is None for f in fpc_list):
            raise DesignError("fpc= must name a column for every stage when it is given")

        stages = _build_stages(data, psu_list, strata_list, fpc_list)
        w = _build_weights(data, weights, stages)
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "weights_column", weights)
        object.__setattr__(self, "strata_columns", tuple(strata_list))
        object.__setattr__(self, "psu_columns", tuple(psu_list))
        object.__setattr__(self, "fpc_columns", tuple(fpc_list))
        object.__setattr__(self, "lonely_psu", lonely_psu)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "stages", stages)
        object.__setattr__(self, "calibration", ())
        object.__setattr__(self, "cache", DesignCache())
        if lonely_psu == "fail":
            _check_lonely(stages, data, strata_list, psu_list)

    # -- derived, cached -------------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of rows (respondents)."""
        return len(self.weights)

    @property
    def has_fpc(self) -> bool:
        return bool(self.stages) and self.stages[0].popsize is not None

    @property
    def components(self) -> tuple[VarianceComponent, ...]:
        """The variance components of this design (computed once)."""
        cached = self.cache.components
        if cached is None:
            cached = _variance_components(self.stages, self.lonely_psu)
            self.cache.components = cached
        return cached

    # -- what the estimators ask (SurveyDesign) ------------------------------------------------
    @property
    def by_replicates(self) -> bool:
        return False

    def variance(
        self, point: Callable[[FloatArray], FloatArray], scores: Callable[[], Sparse]
    ) -> FloatArray:
        """By linearisation: the variance of the totals of the scores (``point`` unused)."""
        from tryg.stats.variance import linearized_variance  # variance builds on Design

        return linearized_variance(self, scores())

    def domain_degrees_of_freedom(
        self, rows: IntArray, dom: IntArray, n_domains: int
    ) -> FloatArray:
        """PSUs minus strata with rows in each domain (R's ``degf`` of the domain)."""
        stage = self.stages[0]
        units = np.unique(dom * stage.n_units + stage.unit[rows])
        n_strata = int(stage.stratum.max()) + 1
        strata = np.unique(dom * n_strata + stage.stratum[rows])
        n_psu = np.bincount(units // stage.n_units, minlength=n_domains)
        n_str = np.bincount(strata // n_strata, minlength=n_domains)
        return (n_psu - n_str).astype(np.float64)

    def rows_degrees_of_freedom(self, rows: IntArray) -> float:
        """PSUs minus strata among ``rows``."""
        stage = self.stages[0]
        return float(len(np.unique(stage.unit[rows])) - len(np.unique(stage.stratum[rows])))

    def with_weights(self, weights: FloatArray, step: CalibrationStep | None = None) -> Design:
        """A copy of this design with new weights (and one more calibration step)."""
        w = np.asarray(weights, dtype=np.float64).copy()
        w.setflags(write=False)
        if step is None:
            return replace_design(self, weights=w)
        return replace_design(self, weights=w, calibration=(*self.calibration, step))

    def column(self, name: str) -> pd.Series:
        """A data column, with a clear error if it is not there."""
        if name not in self.data.columns:
            raise DesignError(
                f"unknown column {name!r}; the data has {', '.join(map(str, self.data.columns))}"
            )
        return self.data[name]

    def __repr__(self) -> str:
        parts = [f"n={self.n}"]
        if any(self.strata_columns):
            parts.append(f"strata={[s for s in self.strata_columns if s]}")
        if any(self.psu_columns):
            parts.append(f"psu={[p for p in self.psu_columns if p]}")
        if self.has_fpc:
            parts.append("fpc")
        if self.calibration:
            parts.append("adjusted=" + "+".join(s.kind for s in self.calibration))
        return f"Design({', '.join(parts)}, lonely_psu={self.lonely_psu!r})"


def replace_design(design: Design, **changes: object) -> Design:
    """A copy of ``design`` with some fields changed; the original stays as it was.

    ``dataclasses.replace`` would call the validating ``__init__`` again; a changed copy of an
    already validated design does not need that. Cached variance components are kept only if
    the sampling structure is unchanged (weights do not enter them); caches that depend on
    the weights or the calibration are dropped.
    """
    new = object.__new__(Design)
    new.__dict__.update(design.__dict__)
    new.__dict__.update(changes)
    # everything else cached on a design depends on its weights and calibration: a copy that
    # inherited it would compute the variances of the design it was copied from
    same_structure = "stages" not in changes and "lonely_psu" not in changes
    object.__setattr__(new, "cache", DesignCache(
        components=design.cache.components if same_structure else None))
    return new


def _build_stages(
    data: pd.DataFrame,
    psu_list: list[str | None],
    strata_list: list[str | None],
    fpc_list: list[str | None],
) -> tuple[Stage, ...]:
    n = len(data)
    stages: list[Stage] = []
    parent = np.zeros(n, dtype=np.int64)
    for k, psu_col in enumerate(psu_list):
        s_col = strata_list[k]
        s_codes = _codes(data[s_col], s_col) if s_col else np.zeros(n, dtype=np.int64)
        stratum, _ = _combine(parent, s_codes)
        if psu_col is None:  # every row its own unit
            unit, n_units = _own_units(stratum), n
        else:
            unit, n_units = _combine(stratum, _codes(data[psu_col], psu_col))
        popsize = None
        f_col = fpc_list[k]
        if f_col is not None:
            popsize = _popsize(data, f_col, stratum, unit, k + 1, fpc_list)
        stages.append(Stage(stratum=stratum, unit=unit, n_units=n_units, popsize=popsize))
        parent = unit
    return tuple(stages)


def _popsize(
    data: pd.DataFrame,
    column: str,
    stratum: IntArray,
    unit: IntArray,
    stage: int,
    fpc_list: list[str | None],
) -> FloatArray:
    raw = pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=np.float64)
    if np.isnan(raw).any():
        row = int(np.flatnonzero(np.isnan(raw))[0])
        raise DesignError(f"fpc column {column!r} is missing or not a number at row {row}")
    if (raw <= 0).any():
        row = int(np.flatnonzero(raw <= 0)[0])
        raise DesignError(f"fpc column {column!r} must be positive (row {row} is {raw[row]})")
    all_values = np.concatenate(
        [pd.to_numeric(data[c], errors="coerce").to_numpy(dtype=np.float64) for c in fpc_list if c]
    )
    as_fraction = bool((all_values <= 1).all())
    if not as_fraction and (raw < 1).any():
        row = int(np.flatnonzero(raw < 1)[0])
        raise DesignError(
            f"fpc column {column!r} mixes population sizes (> 1) and sampling fractions (< 1), "
            f"e.g. row {row}; give all as sizes or all as fractions"
        )
    n_strata = int(stratum.max()) + 1
    first_unit = first_rows(unit, int(unit.max()) + 1)
    sampsize = np.bincount(stratum[first_unit], minlength=n_strata).astype(np.float64)
    lo = np.full(n_strata, np.inf)
    hi = np.full(n_strata, -np.inf)
    np.minimum.at(lo, stratum, raw)
    np.maximum.at(hi, stratum, raw)
    varying = np.flatnonzero(hi - lo > 1e-9 * np.maximum(1.0, np.abs(hi)))
    if varying.size:
        row = int(np.flatnonzero(stratum == varying[0])[0])
        raise DesignError(f"fpc column {column!r} varies within a stratum at stage {stage} "
                          f"(see row {row}); it must be one value per stratum")
    popsize = sampsize[stratum] / raw if as_fraction else raw.copy()
    too_small = popsize < sampsize[stratum] - 1e-9
    if too_small.any():
        row = int(np.flatnonzero(too_small)[0])
        raise DesignError(
            f"fpc column {column!r} at row {row}: population size {popsize[row]:g} is smaller "
            f"than the {int(sampsize[stratum[row]])} units sampled in its stratum at stage {stage}"
        )
    return popsize


def _build_weights(data: pd.DataFrame, column: str | None, stages: tuple[Stage, ...]) -> FloatArray:
    if column is None:
        if stages[0].popsize is None:
            w = np.ones(len(data))
        else:
            # R: weights from the fpc, the inverse of the product of the stage fractions.
            w = np.ones(len(data))
            for st in stages:
                if st.popsize is None:
                    continue
                first = first_rows(st.unit, st.n_units)
                n_h = np.bincount(st.stratum[first], minlength=int(st.stratum.max()) + 1)
                w = w * st.popsize / n_h[st.stratum]
    else:
        w = weight_column(data, column, "weight")
        if not (w > 0).any():
            raise DesignError(f"weight column {column!r} has no positive weight")
    w = np.asarray(w, dtype=np.float64)
    w.setflags(write=False)
    return w


def weight_column(data: pd.DataFrame, column: str, what: str) -> FloatArray:
    """A column of weights as floats: every value a number >= 0, or an error naming the row."""
    raw = data[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64).copy()
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DesignError(f"{what} column {column!r} is missing or not a number at row {row} "
                          f"(value {raw.iloc[row]!r})")
    if (values < 0).any():
        row = int(np.flatnonzero(values < 0)[0])
        raise DesignError(f"{what} column {column!r} is negative at row {row} "
                          f"({values[row]:g}); weights must be >= 0")
    return values


def _check_lonely(stages: tuple[Stage, ...], data: pd.DataFrame, strata: list[str | None],
                  psu: list[str | None]) -> None:
    for k, st in enumerate(stages):
        if k > 0 and stages[0].popsize is None:
            break  # later stages do not enter the variance without an fpc
        first = first_rows(st.unit, st.n_units)
        n_h = np.bincount(st.stratum[first], minlength=int(st.stratum.max()) + 1)
        lonely_g = n_h == 1
        if st.popsize is not None:
            # R returns zero for a stratum sampled completely before it looks for lone PSUs
            pop_g = np.zeros(len(n_h))
            pop_g[st.stratum] = st.popsize
            lonely_g &= (pop_g - n_h) / pop_g >= 1e-7
        lonely = np.flatnonzero(lonely_g)
        if lonely.size:
            row = int(np.flatnonzero(st.stratum == lonely[0])[0])
            where = []
            if k > 0 and psu[k - 1]:
                where.append(f"{psu[k - 1]}={_label(data[psu[k - 1]].iloc[row])}")
            if strata[k]:
                where.append(f"{strata[k]}={_label(data[strata[k]].iloc[row])}")
            label = ", ".join(where) or "the only stratum"
            raise DesignError(
                f"stratum {label} has only one PSU at stage {k + 1} "
                f"({lonely.size} such strata); choose lonely_psu='adjust', 'average', "
                "'certainty' or 'remove'"
            )


def _label(value: object) -> str:
    """A data value as a person reads it: 3, not np.int64(3); 'E' quoted."""
    if isinstance(value, str):
        return repr(value)
    return str(value.item() if isinstance(value, np.generic) else value)


def _variance_components(stages: tuple[Stage, ...], lonely: str) -> tuple[VarianceComponent, ...]:
    """Translate the stages into variance components, as R's ``multistage``/``onestrat`` do."""
    components: list[VarianceComponent] = []
    with_fpc = stages[0].popsize is not None
    used = stages if with_fpc else stages[:1]
    # stage factor of each row: product of n/N of the stages above (R multiplies the
    # sub-stage variance by nPSU/popsize of the stage above)
    factor = np.ones(len(stages[0].unit))
    average_lonely = None
    for k, st in enumerate(used):
        first = first_rows(st.unit, st.n_units)
        group_of_unit = st.stratum[first]
        n_groups = int(st.stratum.max()) + 1
        n_g = np.bincount(group_of_unit, minlength=n_groups).astype(np.float64)
        if st.popsize is None:
            f_g = np.ones(n_groups)
        else:
            pop_g = np.zeros(n_groups)
            pop_g[st.stratum] = st.popsize
            f_g = np.where(np.isinf(pop_g), 1.0, (pop_g - n_g) / pop_g)
            f_g[f_g < 1e-7] = 0.0
        stage_factor_g = np.zeros(n_groups)
        stage_factor_g[st.stratum] = factor
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(n_g > 1, f_g * n_g / (n_g - 1), f_g)
            centre = np.where(n_g > 0, 1.0 / n_g, 0.0)
        lonely_g = n_g == 1
        if lonely in ("certainty", "remove", "fail"):
            scale = np.where(lonely_g, 0.0, scale)
        elif lonely == "adjust":
            centre = np.where(lonely_g, 0.0, centre)
        elif lonely == "average":
            scale = np.where(lonely_g, 0.0, scale)
            if k == 0:
                average_lonely = lonely_g
            else:
                # R: each call of onestage (the strata inside one unit of the stage above)
                # multiplies its sum by n_strata / n_ok_strata.
                parent = _parent_of_groups(stages, k, n_groups)
                n_strata = np.bincount(parent).astype(np.float64)
                n_ok = np.bincount(parent, weights=(~lonely_g).astype(np.float64))
                with np.errstate(divide="ignore", invalid="ignore"):
                    mult = np.where(n_ok > 0, n_strata / n_ok, np.nan)
                scale = scale * mult[parent]
        scale = scale * stage_factor_g
        components.append(VarianceComponent(
            unit=st.unit, n_units=st.n_units, group=group_of_unit.astype(np.int64),
            n_groups=n_groups, scale=scale, centre=centre,
            average_lonely=average_lonely if k == 0 else None,
        ))
        if st.popsize is not None:
            factor = factor * (n_g[st.stratum] / np.where(np.isinf(st.popsize), np.inf,
                                                           st.popsize))
    return tuple(components)


def _parent_of_groups(stages: tuple[Stage, ...], k: int, n_groups: int) -> IntArray:
    """For stage k, the unit of stage k-1 that each stratum lies in (0 for stage 1)."""
    if k == 0:
        return np.zeros(n_groups, dtype=np.int64)
    parent = np.zeros(n_groups, dtype=np.int64)
    parent[stages[k].stratum] = stages[k - 1].unit
    return parent
