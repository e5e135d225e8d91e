"""Replicate designs built from a linearised :class:`~tryg.stats.design.Design`.

``jackknife`` deletes one PSU at a time (JK1 without strata, JKn within strata, with R's
``as.svrepdesign`` order and scales); ``bootstrap`` draws Rao–Wu rescaled bootstrap replicates
from a seed. Both return a :class:`~tryg.stats.replicates.ReplicateDesign`, on which
calibration is then repeated in every replicate.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from tryg.stats.design import Design, FloatArray, IntArray
from tryg.stats.errors import DesignError
from tryg.stats.replicates import MAX_CELLS, ReplicateDesign


def jackknife(
    design: Design,
    type: Literal["auto", "JK1", "JKn"] = "auto",
    *,
    mse: bool = False,
) -> ReplicateDesign:
    """Jackknife replicates of a design: drop one first-stage PSU per replicate.

    As R ``as.svrepdesign(design, type=...)``: ``"auto"`` is JK1 without strata and JKn with
    them. JK1 reweights the other PSUs by ``n/(n-1)`` and has ``scale = f (n-1)/n``; JKn drops
    a PSU of one stratum, reweights the rest of that stratum by ``n_h/(n_h-1)`` and has
    ``rscales = f_h (n_h-1)/n_h``, where ``f = (N - n)/N`` is the first-stage finite population
    correction (1 without ``fpc``; later stages are ignored, as R does). A stratum sampled
    completely gives no replicates (R's ``survey.drop.replicates``); a stratum with one PSU is
    treated by the design's ``lonely_psu`` rule as R's ``jknweights`` does.

    The design must not be calibrated yet: calibrate the replicate design instead, so the
    adjustment is repeated in every replicate (R needs the same order of steps).
    """
    _check_source(design)
    stage = design.stages[0]
    has_strata = bool(design.strata_columns) and design.strata_columns[0] is not None
    kind = ("JKn" if has_strata else "JK1") if type == "auto" else type
    if kind == "JK1":
        if has_strata:
            raise DesignError(
                f"JK1 is for unstratified designs; this one is stratified by "
                f"{design.strata_columns[0]!r} (use type='JKn')"
            )
        mult, scale, rscales = _jk1(stage.unit, stage.n_units, _fpc(design, 0))
    elif kind == "JKn":
        if not has_strata:
            raise DesignError("JKn needs a stratified design; use type='JK1'")
        mult, scale, rscales = _jkn(design)
    else:
        raise DesignError(f"type={type!r} is not 'auto', 'JK1' or 'JKn'")
    w = np.asarray(design.weights)
    mult *= w[:, None]  # factors -> analysis weights, in place: the matrix can be large
    mult.setflags(write=False)  # handed over without a copy, see _frozen
    names = [f"{kind.lower()}_{r + 1}" for r in range(mult.shape[1])]
    return ReplicateDesign(
        design.data, w, mult, type=kind, scale=scale, rscales=rscales, mse=mse,
        replicate_names=names,
    )


def bootstrap(
    design: Design,
    replicates: int = 50,
    *,
    seed: int | np.random.Generator | None = None,
    mse: bool = False,
) -> ReplicateDesign:
    """Rao–Wu rescaled bootstrap of the first-stage PSUs (R ``as.svrepdesign(type="bootstrap")``).

    In each replicate every stratum's ``n_h`` PSUs are resampled ``n_h`` times with
    replacement (without ``fpc``), or drawn without replacement from the PSUs repeated up to
    the stratum's population size (with ``fpc``), exactly R's ``bootweights``; a PSU's weight
    is multiplied by the number of times it was drawn. ``scale = m / ((m - 1)(R - 1))`` with
    ``m`` the harmonic mean of the ``n_h``. The draw is reproducible given ``seed``; it uses
    numpy's generator, so the replicates (and the standard errors, within Monte Carlo error)
    differ from R's.
    """
    _check_source(design)
    if replicates < 2:
        raise DesignError(f"replicates must be at least 2; got {replicates}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    stage = design.stages[0]
    _check_size(design.n, replicates)
    first = np.unique(stage.unit, return_index=True)[1]
    stratum_of_unit = stage.stratum[first]
    popsize_of_unit = None if stage.popsize is None else stage.popsize[first]
    counts = np.zeros((stage.n_units, replicates))
    n_strata = int(stratum_of_unit.max()) + 1
    sizes = np.bincount(stratum_of_unit, minlength=n_strata).astype(np.float64)
    for h in range(n_strata):
        units = np.flatnonzero(stratum_of_unit == h)
        n_h = len(units)
        if popsize_of_unit is None:
            counts[units] = rng.multinomial(n_h, np.full(n_h, 1.0 / n_h), size=replicates).T
        else:
            # R: sample(rep(sample(psu), length = N), n): the shuffled PSUs repeated up to the
            # population size N, drawn without replacement; place k of that list is PSU k % n_h
            pop = int(popsize_of_unit[units[0]])
            shuffled = rng.permutation(n_h)
            for r in range(replicates):
                drawn = shuffled[rng.choice(pop, size=n_h, replace=False) % n_h]
                counts[units, r] = np.bincount(drawn, minlength=n_h)
    m = 1.0 / float(np.mean(1.0 / sizes))
    if m <= 1:
        raise DesignError("every stratum has a single PSU: the bootstrap cannot vary")
    w = np.asarray(design.weights)
    analysis = counts[stage.unit]
    analysis *= w[:, None]
    analysis.setflags(write=False)  # handed over without a copy, see _frozen
    return ReplicateDesign(
        design.data, w, analysis, type="bootstrap",
        scale=m / ((m - 1) * (replicates - 1)), mse=mse,
        replicate_names=[f"boot_{r + 1}" for r in range(replicates)],
    )


# -- helpers -------------------------------------------------------------------------------


def _check_source(design: Design) -> None:
    if not isinstance(design, Design):
        raise DesignError("replicates are built from a tryg.stats.Design")
    if design.calibration:
        kinds = "+".join(s.kind for s in design.calibration)
        raise DesignError(
            f"the design is already adjusted ({kinds}); build the replicates from the design "
            "before adjustment and adjust the replicate design, so that the adjustment is "
            "repeated in every replicate"
        )


def _check_size(n: int, n_rep: int) -> None:
    if n * n_rep > MAX_CELLS:
        raise DesignError(
            f"{n} rows x {n_rep} replicates would need {8 * n * n_rep / 1e9:.1f} GB of replicate "
            "weights; use the linearised Design, or fewer replicates (bootstrap)"
        )


def _fpc(design: Design, stratum: int) -> float:
    """First-stage finite population correction (N - n)/N of one stratum (1 without fpc)."""
    stage = design.stages[0]
    if stage.popsize is None:
        return 1.0
    rows = np.flatnonzero(stage.stratum == stratum)
    n_h = len(np.unique(stage.unit[rows]))
    N_h = float(stage.popsize[rows[0]])
    f = (N_h - n_h) / N_h
    return 0.0 if f < 1e-7 else f  # a census stratum, as design.py treats it


def _jk1(unit: IntArray, n_units: int, f: float) -> tuple[FloatArray, float, FloatArray]:
    if n_units < 2:
        raise DesignError("the jackknife needs at least 2 PSUs")
    if f == 0:
        raise DesignError("every PSU of the population was sampled: there is no sampling "
                          "variance to replicate")
    _check_size(len(unit), n_units)
    # replicate j drops the j-th PSU in order of appearance, as R's unique(psu): the order
    # matters for degf, whose rank test takes the columns in order
    first_row = np.unique(unit, return_index=True)[1]
    position = np.empty(n_units, dtype=np.int64)
    position[np.argsort(first_row, kind="stable")] = np.arange(n_units)
    mult = np.full((len(unit), n_units), n_units / (n_units - 1))
    mult[np.arange(len(unit)), position[unit]] = 0.0
    return mult, f * (n_units - 1) / n_units, np.ones(n_units)


def _jkn(design: Design) -> tuple[FloatArray, float, FloatArray]:
    """R's ``jknweights``: replicates stratum by stratum, with its lonely-PSU rules."""
    stage = design.stages[0]
    n_rows = design.n
    first = np.unique(stage.unit, return_index=True)[1]
    stratum_of_unit = stage.stratum[first]
    n_strata = int(stratum_of_unit.max()) + 1
    lonely = design.lonely_psu
    # strata, and PSUs within a stratum, in order of appearance (R's unique()), see _jk1;
    # each entry: stratum, its PSUs (None: the lone-PSU 'adjust' replicate), its rscale
    plan: list[tuple[int, IntArray | None, float]] = []
    stratum_first = np.unique(stage.stratum, return_index=True)[1]
    for h in map(int, np.argsort(stratum_first, kind="stable")):
        units = np.flatnonzero(stratum_of_unit == h)
        units = units[np.argsort(first[units], kind="stable")]
        n_h = len(units)
        f = _fpc(design, h)
        if f == 0:
            continue  # sampled completely: R drops its replicates
        if n_h == 1:
            if lonely == "fail":
                raise DesignError(f"stratum {_stratum_label(design, h)} has only one PSU; "
                                  "choose lonely_psu= on the Design")
            if lonely == "adjust":
                plan.append((h, None, (n_strata - 1) / n_strata))
            continue  # certainty, remove, average: no replicate
        plan.append((h, units, f * (n_h - 1) / n_h))
    n_rep = sum(1 if psus is None else len(psus) for _, psus, _ in plan)
    if n_rep == 0:
        raise DesignError("every stratum was sampled completely: you have the whole population")
    _check_size(n_rows, n_rep)
    mult = np.ones((n_rows, n_rep))
    rscales = np.empty(n_rep)
    col = 0
    for h, psus, rscale in plan:
        rows = np.flatnonzero(stage.stratum == h)
        if psus is None:
            mult[:, col] = n_strata / (n_strata - 1)
            mult[rows, col] = 0.0
            rscales[col] = rscale
            col += 1
            continue
        n_h = len(psus)
        position = np.empty(stage.n_units, dtype=np.int64)
        position[psus] = np.arange(n_h)
        mult[np.ix_(rows, col + np.arange(n_h))] = n_h / (n_h - 1)
        mult[rows, col + position[stage.unit[rows]]] = 0.0
        rscales[col:col + n_h] = rscale
        col += n_h
    scale = 1.0
    if n_rep < stage.n_units and lonely == "average":
        scale = stage.n_units / n_rep
    return mult, scale, rscales


def _stratum_label(design: Design, h: int) -> str:
    column = design.strata_columns[0]
    row = int(np.flatnonzero(design.stages[0].stratum == h)[0])
    return f"{column}={design.data[column].iloc[row]!r}" if column else str(h)


