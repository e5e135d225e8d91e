"""Weight adjustment: post-stratification, raking, linear (GREG) calibration and trimming.

Each function returns a *new* :class:`~tryg.stats.design.Design` whose weights hit the
population figures and which remembers the adjustment (a
:class:`~tryg.stats.design.CalibrationStep`), so that variances are computed from calibration
residuals as R `survey` does. A plain weighted variance on adjusted weights overstates the
uncertainty (for a calibrated total it can be several times too large).

Population figures are given as a pandas Series indexed by the cell values (a MultiIndex for
several columns), as a DataFrame with the cell columns and one numeric column, or as a plain
mapping from cell value (or tuple of values) to count.

Every function also takes a :class:`~tryg.stats.replicates.ReplicateDesign`: the same
adjustment is then made to the full-sample weights and, separately, to every replicate's weights,
as R `survey` does for replicate designs. That is how calibration enters a replicate variance;
a replicate where it cannot be done (a cell with no weight left, raking that does not converge)
is an error that names the replicate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tryg.stats.design import CalibrationStep, Design, FloatArray, IntArray
from tryg.stats.errors import CalibrationError
from tryg.stats.numbering import membership, unique_inverse
from tryg.stats.replicates import ReplicateAdjustment, ReplicateDesign

# keys typed Any: a Mapping is invariant in its keys, and ``{"man": 480.0}`` (a dict of str)
# or ``{"sex": ...}`` must be accepted where any hashable cell value or column key is
Population = pd.Series | pd.DataFrame | Mapping[Any, float]
Margins = Mapping[Any, Population]
AnyDesign = TypeVar("AnyDesign", Design, ReplicateDesign)
_Spec = tuple[tuple[str, ...], IntArray, FloatArray, list[tuple[object, ...]]]


@dataclass(frozen=True)
class RakeReport:
    """How raking went: iterations used, whether it converged and the last change."""

    iterations: int
    converged: bool
    max_change: float
    tolerance: float


@dataclass(frozen=True)
class CalibrationReport:
    """How GREG calibration went, and the range of the resulting g-weights."""

    iterations: int
    converged: bool
    max_misfit: float
    g_min: float
    g_max: float


def _columns(cells: str | Sequence[str]) -> tuple[str, ...]:
    return (cells,) if isinstance(cells, str) else tuple(cells)


def _population_series(population: Population, cols: tuple[str, ...]) -> pd.Series:
    """Normalise population figures to a Series indexed by tuples of cell values."""
    if isinstance(population, pd.DataFrame):
        value_cols = [c for c in population.columns if c not in cols]
        missing = [c for c in cols if c not in population.columns]
        if missing or len(value_cols) != 1:
            raise CalibrationError(
                f"population table for {cols} needs the columns {list(cols)} and one column of "
                f"counts; it has {list(population.columns)}"
            )
        series = population.set_index(list(cols))[value_cols[0]]
    elif isinstance(population, pd.Series):
        series = population
    else:
        series = pd.Series(dict(population))
    keys = [k if isinstance(k, tuple) else (k,) for k in series.index]
    if any(len(k) != len(cols) for k in keys):
        raise CalibrationError(
            f"population figures for {cols} must be keyed by {len(cols)} value(s)"
        )
    values = pd.to_numeric(pd.Series(series.to_numpy()), errors="coerce").to_numpy(np.float64)
    if not np.isfinite(values).all() or (values < 0).any():
        raise CalibrationError(f"population figures for {cols} must be non-negative numbers")
    out = pd.Series(values, index=pd.MultiIndex.from_tuples(keys, names=list(cols)))
    if out.index.has_duplicates:
        dup = out.index[out.index.duplicated()][0]
        raise CalibrationError(f"population figures for {cols} list the cell {dup} twice")
    return out


#: Cell columns numbered once per adjustment: a column's codes (-1: missing) and values.
_Numbered = dict[str, tuple[IntArray, Any]]


def _row_cells(
    design: Design | ReplicateDesign, cols: tuple[str, ...], numbered: _Numbered | None = None
) -> tuple[IntArray, list[tuple[object, ...]]]:
    """Number every row's cell; rows must all have a value in every cell column.

    ``numbered``: columns factorised already (raking numbers each margin's columns and then
    the joint table of all of them; every column is factorised once)."""
    numbered = {} if numbered is None else numbered
    for name in cols:
        if name not in numbered:
            codes_, uniq_ = pd.factorize(design.column(name))
            numbered[name] = (np.asarray(codes_, dtype=np.int64), uniq_)
    per_column = [numbered[c] for c in cols]
    missing = [np.flatnonzero(c < 0) for c, _ in per_column]
    if any(len(m) for m in missing):
        # the first missing value in row order (then column order), as a reader scans them
        row, col = min((int(m[0]), j) for j, m in enumerate(missing) if len(m))
        raise CalibrationError(
            f"column {cols[col]!r} is missing at row {row}; every respondent needs a calibration "
            "cell"
        )
    # Factorise column by column and fold the codes: building a MultiIndex of 300,000 tuples
    # costs ten times more.
    key = np.zeros(design.n, dtype=np.int64)
    for c, uniq in per_column:
        key = key * len(uniq) + c
    uniq_keys, codes = unique_inverse(key)  # sorted keys, by counting where they span little
    cells = []
    for k in uniq_keys.tolist():
        parts = []
        for _, uniq in reversed(per_column):
            k, r = divmod(k, len(uniq))
            parts.append(uniq[r].item() if hasattr(uniq[r], "item") else uniq[r])
        cells.append(tuple(reversed(parts)))
    return codes, cells


def _cell_targets(
    design: Design | ReplicateDesign, cols: tuple[str, ...], population: Population,
    partial: bool, numbered: _Numbered | None = None,
) -> tuple[IntArray, FloatArray, list[tuple[object, ...]]]:
    codes, cells = _row_cells(design, cols, numbered)
    pop = _population_series(population, cols)
    lookup = {_norm(k): float(v) for k, v in pop.items()}
    targets = np.empty(len(cells))
    for i, cell in enumerate(cells):
        key = _norm(cell)
        if key not in lookup:
            raise CalibrationError(
                f"cell {dict(zip(cols, cell, strict=True))} occurs in the sample but not in the "
                f"population figures for {cols}"
            )
        targets[i] = lookup.pop(key)
    absent = [k for k, v in lookup.items() if v > 0]
    if absent and not partial:
        raise CalibrationError(
            f"{len(absent)} population cell(s) for {cols} have no respondents, e.g. {absent[0]}; "
            "collapse cells or pass partial=True to ignore them"
        )
    return codes, targets, cells


def _norm(key: object) -> tuple[object, ...]:
    """Compare cell labels across dtypes: 1 == 1.0 == '1' would be too loose, so only numbers
    are unified (an integer column read as floats still matches)."""
    parts = key if isinstance(key, tuple) else (key,)
    out: list[object] = []
    for p in parts:
        if isinstance(p, (int, float, np.integer, np.floating)) and not isinstance(p, bool):
            out.append(float(p))
        else:
            out.append(p)
    return tuple(out)


def _safe(w: FloatArray) -> FloatArray:
    # R replaces zero weights by 1 in the residual step so that 0/0 does not occur.
    return np.where(w == 0, 1.0, w)


def poststratify(
    design: AnyDesign, cells: str | Sequence[str], population: Population, *,
    partial: bool = False,
) -> AnyDesign:
    """Scale the weights so that every cell's weighted count equals its population count."""
    cols = _columns(cells)
    codes, targets, found = _cell_targets(design, cols, population, partial)
    w = design.weights
    new_w = _poststratify_weights(w, codes, targets, cols, found)
    if isinstance(design, ReplicateDesign):
        reps = _each_replicate(
            design, lambda wr: (_poststratify_weights(wr, codes, targets, cols, found), None)
        )
        return design.adjusted(new_w, reps[0], ReplicateAdjustment("poststratify", cols),
                               recompute_df=True)
    step = CalibrationStep(
        kind="poststratify", X=membership(codes, len(targets)), lam=_safe(w), psw=_safe(new_w)
    )
    return design.with_weights(new_w, step)


def _poststratify_weights(
    w: FloatArray, codes: IntArray, targets: FloatArray, cols: tuple[str, ...],
    cells: list[tuple[object, ...]],
) -> FloatArray:
    """One weight vector scaled to the cell targets (shared by full sample and replicates)."""
    sample = np.bincount(codes, weights=w, minlength=len(targets))
    if (sample <= 0).any():
        cell = cells[int(np.flatnonzero(sample <= 0)[0])]
        raise CalibrationError(
            f"cell {dict(zip(cols, cell, strict=True))} of {cols} has respondents but zero "
            "total weight; collapse cells"
        )
    return np.asarray(w * (targets / sample)[codes], dtype=np.float64)


def _each_replicate(
    design: ReplicateDesign, adjust: Callable[[FloatArray], tuple[FloatArray, object]]
) -> tuple[FloatArray, tuple[object, ...]]:
    """Apply a weight adjustment to every replicate column, naming the replicate that fails.

    R adjusts replicate weights column by column too; a loop keeps exactly the arithmetic of
    the full-sample adjustment, and the cost (R passes over n rows) is that of R.
    """
    reps = design.replicate_weights
    out = np.empty(reps.shape)
    reports: list[object] = []
    for r, name in enumerate(design.replicate_names):
        try:
            out[:, r], report = adjust(np.ascontiguousarray(reps[:, r]))
        except CalibrationError as exc:
            raise CalibrationError(f"replicate {r + 1} ({name}): {exc}") from exc
        reports.append(report)
    out.setflags(write=False)  # handed to the new design without another copy
    return out, tuple(reports)


def rake(
    design: AnyDesign,
    margins: Margins,
    *,
    epsilon: float = 1e-10,
    maxit: int = 100,
    partial: bool = False,
    allow_nonconvergence: bool = False,
) -> AnyDesign:
    """Iterative proportional fitting to several margins (e.g. stratum × sex and stratum × age).

    Stops when no cell of the joint table of all margin columns changes between two rounds by
    more than ``epsilon`` relative to the cell (``epsilon < 1``; tighter than R, whose rule is
    relative to the total weight and leaves the smallest strata short) or by more than
    ``epsilon`` in absolute terms (``epsilon >= 1``, R's rule for its default ``epsilon=1``);
    the :class:`RakeReport` is on the returned design's last calibration step. Margins that
    cannot all be met (different totals, or disagreeing on a shared column) are refused.

    On a replicate design every replicate is raked with the same margins and settings until it
    meets the same convergence rule on its own (R rakes the replicates in step with the full
    sample for as many rounds as the full sample needs; the two differ by less than
    ``epsilon``). A replicate that does not converge is an error naming it.
    """
    if not margins:
        raise CalibrationError("rake needs at least one margin")
    specs = []
    numbered: _Numbered = {}
    for key, population in margins.items():
        cols = _columns(key) if isinstance(key, str) else tuple(key)
        codes, targets, cells = _cell_targets(design, cols, population, partial, numbered)
        specs.append((cols, codes, targets, cells))
    _check_consistent(specs)
    all_cols = tuple(dict.fromkeys(c for cols, *_ in specs for c in cols))
    joint, _ = _row_cells(design, all_cols, numbered)
    n_joint = int(joint.max()) + 1

    def one(w0: FloatArray) -> tuple[FloatArray, RakeReport]:
        return _rake_weights(w0, specs, joint, n_joint, epsilon, maxit, allow_nonconvergence)

    w, report = one(np.asarray(design.weights))
    if isinstance(design, ReplicateDesign):
        reps, reports = _each_replicate(design, one)
        adjustment = ReplicateAdjustment("rake", all_cols, report, reports)
        return design.adjusted(w, reps, adjustment, recompute_df=True)
    X = sp.hstack([membership(codes, len(t)) for _, codes, t, _ in specs]).tocsr()
    step = CalibrationStep(kind="rake", X=X, lam=np.ones(design.n), psw=_safe(w), report=report)
    return design.with_weights(w, step)


def _rake_weights(
    weights: FloatArray,
    specs: list[_Spec],
    joint: IntArray,
    n_joint: int,
    epsilon: float,
    maxit: int,
    allow_nonconvergence: bool,
) -> tuple[FloatArray, RakeReport]:
    """Rake one weight vector (shared by full sample and replicates)."""
    w = np.array(weights, dtype=np.float64)
    # epsilon < 1: the largest *relative* change of any joint cell, so that the smallest
    # strata of a national design converge too (R compares the absolute change with
    # epsilon × total weight, which leaves small cells ~1e-7 short); epsilon >= 1: R's
    # absolute change.
    relative = epsilon < 1
    tol = epsilon
    old = np.bincount(joint, weights=w, minlength=n_joint)
    change = np.inf
    iterations = 0
    while iterations < maxit:
        iterations += 1
        for _, codes, targets, _ in specs:
            sample = np.bincount(codes, weights=w, minlength=len(targets))
            if (sample <= 0).any():
                raise CalibrationError("a raking cell has respondents but zero total weight")
            w = w * (targets / sample)[codes]
        new = np.bincount(joint, weights=w, minlength=n_joint)
        diff = np.abs(new - old)
        change = float(np.max(diff / np.maximum(old, 1e-300) if relative else diff))
        old = new
        if change < tol:
            break
    misfit = max(
        float(np.max(np.abs(np.bincount(codes, weights=w, minlength=len(t)) - t)))
        for _, codes, t, _ in specs
    )
    # The joint table can stop changing while a margin is still unmet (a joint cell absent from
    # the sample): that is not convergence.
    met = misfit <= max(0.0 if relative else tol, 1e-6 * float(w.sum()))
    report = RakeReport(iterations, change < tol and met, change, tol)
    if not report.converged and not allow_nonconvergence:
        raise CalibrationError(
            f"raking did not converge in {iterations} rounds (largest change {change:.3g}, "
            f"tolerance {tol:.3g}, largest margin misfit {misfit:.3g}); the margins "
            "may be impossible to meet together with this sample"
        )
    return w, report


def _check_consistent(specs: list[_Spec]) -> None:
    totals = [float(t.sum()) for _, _, t, _ in specs]
    for (cols, *_), total in zip(specs[1:], totals[1:], strict=True):
        if not np.isclose(total, totals[0], rtol=1e-6, atol=1e-6):
            raise CalibrationError(
                f"margins do not sum to the same population: {specs[0][0]} gives {totals[0]:g}, "
                f"{cols} gives {total:g}"
            )
    for i, (cols_a, _, t_a, cells_a) in enumerate(specs):
        for cols_b, _, t_b, cells_b in specs[i + 1:]:
            shared = [c for c in cols_a if c in cols_b]
            if not shared:
                continue
            agg_a = _aggregate(cols_a, cells_a, t_a, shared)
            agg_b = _aggregate(cols_b, cells_b, t_b, shared)
            for key in agg_a.keys() | agg_b.keys():
                a, b = agg_a.get(key, 0.0), agg_b.get(key, 0.0)
                if not np.isclose(a, b, rtol=1e-6, atol=1e-6):
                    raise CalibrationError(
                        f"margins {cols_a} and {cols_b} disagree for "
                        f"{dict(zip(shared, key, strict=True))}: {a:g} against {b:g}"
                    )


def _aggregate(
    cols: tuple[str, ...], cells: list[tuple[object, ...]], targets: FloatArray, shared: list[str]
) -> dict[tuple[object, ...], float]:
    idx = [cols.index(c) for c in shared]
    out: dict[tuple[object, ...], float] = {}
    for cell, t in zip(cells, targets, strict=True):
        key = _norm(tuple(cell[i] for i in idx))
        out[key] = out.get(key, 0.0) + float(t)
    return out


def model_matrix(design: Design | ReplicateDesign, names: Sequence[str]) -> sp.csr_matrix:
    """Calibration variables by name: ``"(Intercept)"`` (population size), a numeric column
    (its total) or ``"column=level"`` (the count of that level)."""
    cols: list[FloatArray] = []
    for name in names:
        if name in ("(Intercept)", "_total"):
            cols.append(np.ones(design.n))
            continue
        if name in design.data.columns:
            values = pd.to_numeric(design.data[name], errors="coerce").to_numpy(np.float64)
        elif "=" in name and name.split("=", 1)[0] in design.data.columns:
            col, level = name.split("=", 1)
            raw = design.data[col]
            values = (raw.astype(str) == level).to_numpy(np.float64)
            if raw.isna().any():
                values[raw.isna().to_numpy()] = np.nan
        else:
            raise CalibrationError(
                f"calibration variable {name!r} is neither '(Intercept)', a column nor "
                "'column=level'"
            )
        if np.isnan(values).any():
            row = int(np.flatnonzero(np.isnan(values))[0])
            raise CalibrationError(f"calibration variable {name!r} is missing at row {row}")
        cols.append(values)
    return sp.csr_matrix(np.column_stack(cols))


def calibrate(
    design: AnyDesign,
    totals: Mapping[str, float] | pd.Series,
    *,
    bounds: tuple[float, float] = (-np.inf, np.inf),
    calfun: Literal["linear", "raking"] = "linear",
    maxit: int = 50,
    epsilon: float = 1e-7,
    aggregate_stage: int | None = None,
) -> AnyDesign:
    """Calibrate weights to population totals (GREG for ``calfun="linear"``).

    ``totals`` maps calibration variables (see :func:`model_matrix`) to population totals.
    ``bounds`` limits the g-weights (new weight / old weight), which makes the linear method
    iterative, as in R's ``calibrate(..., bounds=)``. On a replicate design every replicate is
    calibrated to the same totals with the same bounds, starting afresh as R does.

    ``aggregate_stage=k`` calibrates at the level of the stage-k sampling units (R's
    ``aggregate.stage=``): the calibration variables and weights are replaced by their means
    within each unit, so the g-weight, and hence the weight if it was constant there, is the
    same for every row of a unit (e.g. every respondent of a household).
    """
    names = list(totals.keys())
    target = np.array([float(totals[k]) for k in names])
    X = model_matrix(design, [str(k) for k in names])
    Xd = X.toarray()
    w = np.asarray(design.weights)
    lo, hi = bounds
    if not lo < 1 < hi:
        raise CalibrationError(f"bounds {bounds} must contain 1 (the unchanged weight)")
    unit_mean = _unit_means(design, aggregate_stage)
    if unit_mean is not None:
        Xd = unit_mean(Xd)
        X = sp.csr_matrix(Xd)

    def one(w0: FloatArray) -> tuple[FloatArray, CalibrationReport]:
        wa = w0 if unit_mean is None else unit_mean(w0)
        g, report = _calibration_g(wa, Xd, target, bounds, calfun, maxit, epsilon)
        return w0 * g, report

    new_w, report = one(w)
    if isinstance(design, ReplicateDesign):
        reps, reports = _each_replicate(design, one)
        adjustment = ReplicateAdjustment("calibrate", tuple(map(str, names)), report, reports)
        # R: regcalibrate (linear, unbounded) recomputes degf, grake (the rest) keeps it
        linear = calfun == "linear" and np.isneginf(lo) and np.isposinf(hi)
        return design.adjusted(new_w, reps, adjustment, recompute_df=bool(linear))
    if unit_mean is not None:  # R: the projection uses the unit-mean weights and the g-weights
        lam = unit_mean(w)
        psw = lam * new_w / np.where(w == 0, 1.0, w)
        step_info = CalibrationStep(kind="calibrate", X=X, lam=_safe(lam), psw=_safe(psw),
                                    report=report)
        return design.with_weights(new_w, step_info)
    step_info = CalibrationStep(kind="calibrate", X=X, lam=_safe(w), psw=_safe(new_w),
                                report=report)
    return design.with_weights(new_w, step_info)


def _unit_means(
    design: Design | ReplicateDesign, stage: int | None
) -> Callable[[FloatArray], FloatArray] | None:
    """``aggregate_stage``: a function replacing values by their mean within each unit."""
    if stage is None:
        return None
    if isinstance(design, ReplicateDesign):
        raise CalibrationError("aggregate_stage= is not supported on replicate designs; "
                               "calibrate the design before building replicates")
    if not 1 <= stage <= len(design.stages):
        raise CalibrationError(
            f"aggregate_stage={stage} but the design has {len(design.stages)} stage(s)"
        )
    unit = design.stages[stage - 1].unit
    counts = np.bincount(unit).astype(np.float64)

    def mean_within(values: FloatArray) -> FloatArray:
        if values.ndim == 1:
            return np.asarray(np.bincount(unit, weights=values)[unit] / counts[unit])
        cols = [np.bincount(unit, weights=values[:, j])[unit] for j in range(values.shape[1])]
        return np.column_stack(cols) / counts[unit][:, None]

    return mean_within


def _calibration_g(
    w: FloatArray,
    Xd: FloatArray,
    target: FloatArray,
    bounds: tuple[float, float],
    calfun: str,
    maxit: int,
    epsilon: float,
) -> tuple[FloatArray, CalibrationReport]:
    """The g-weights calibrating one weight vector (shared by full sample and replicates)."""
    lo, hi = bounds

    def inverse(u: FloatArray) -> tuple[FloatArray, FloatArray]:
        if calfun == "linear":
            g = np.clip(1 + u, lo, hi)
            inside = ((1 + u) > lo) & ((1 + u) < hi)
            return g, inside.astype(np.float64)
        if calfun == "raking":
            g = np.exp(u)
            return g, g
        raise CalibrationError(f"calfun={calfun!r} is not 'linear' or 'raking'")

    eta = np.zeros(len(target))
    g, deriv = inverse(Xd @ eta)
    iterations = 0
    misfit = target - (Xd * (w * g)[:, None]).sum(axis=0)
    scale = 1 + np.abs(target)
    while True:
        T = Xd.T @ (Xd * (w * deriv)[:, None])
        try:
            step = np.linalg.lstsq(T, misfit, rcond=None)[0]
        except np.linalg.LinAlgError as exc:  # pragma: no cover - lstsq rarely fails
            raise CalibrationError(f"calibration equations cannot be solved: {exc}") from exc
        eta = eta + step
        g, deriv = inverse(Xd @ eta)
        halvings = 0
        while (not np.isfinite(g).all()) and halvings < 50:
            step = step / 2
            eta = eta - step
            g, deriv = inverse(Xd @ eta)
            halvings += 1
        misfit = target - (Xd * (w * g)[:, None]).sum(axis=0)
        iterations += 1
        if np.all(np.abs(misfit) / scale < epsilon):
            break
        if iterations >= maxit:
            raise CalibrationError(
                f"calibration failed to meet the totals within bounds {bounds} after {maxit} "
                f"iterations (largest relative misfit {np.max(np.abs(misfit) / scale):.3g}); "
                "widen the bounds or use fewer calibration variables"
            )
    report = CalibrationReport(
        iterations, True, float(np.max(np.abs(misfit) / scale)), float(g.min()), float(g.max())
    )
    return g, report


def trim(
    design: AnyDesign, *, lower: float = -np.inf, upper: float = np.inf, strict: bool = False
) -> AnyDesign:
    """Trim weights to [lower, upper], sharing what was cut equally among the other weights.

    This is R's ``trimWeights``: the total weight is kept; with ``strict=True`` trimming is
    repeated until no weight is outside the limits. Calibration residuals of earlier steps are
    kept, so the variance still reflects them. On a replicate design each replicate's weights
    are trimmed the same way, keeping each replicate's total (R 4.1's ``trimWeights`` for
    replicate designs does not change the weights correctly, so this is not compared with R).
    """
    if lower > upper:
        raise CalibrationError(f"lower ({lower}) is above upper ({upper})")

    def one(w0: FloatArray) -> tuple[FloatArray, None]:
        return _trim_weights(w0, lower, upper, strict), None

    w, _ = one(np.asarray(design.weights))
    if isinstance(design, ReplicateDesign):
        reps, _ = _each_replicate(design, one)
        return design.adjusted(w, reps, ReplicateAdjustment("trim", ()), recompute_df=False)
    return design.with_weights(w)


def _trim_weights(weights: FloatArray, lower: float, upper: float, strict: bool) -> FloatArray:
    """Trim one weight vector (shared by full sample and replicates)."""
    w = np.array(weights, dtype=np.float64)
    for _ in range(1000):
        outside = (w < lower) | (w > upper)
        if not outside.any():
            break
        if outside.all():
            raise CalibrationError("every weight lies outside the trimming limits")
        trimmed = np.clip(w, lower, upper)
        trimmed[~outside] -= (trimmed - w).sum() / (~outside).sum()
        w = trimmed
        if not strict:
            break
    return w
