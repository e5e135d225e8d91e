"""Drivers of insecurity: which neighbourhood problems go with feeling unsafe (optional analysis).

A spec opts in with a ``[drivers]`` table::

    [drivers]
    outcome = "tryg_nabolag"          # an item of the spec
    unsafe = [5, 6, 7]                # its codes meaning "feels unsafe"
    exclude = [8]                     # codes outside the base (don't know)
    problems = ["problem_narko", "problem_uro"]   # items: neighbourhood problems
    problem_codes = [3, 4, 5]         # codes meaning "the problem is there"
    background = ["sex", "age_group"] # respondent columns, categorical
    levels = ["kommune"]              # area levels to model
    min_n = 300                       # no model for a cell (area × wave) with fewer answers
    problem_levels = ["bydel"]        # areas compared with the rest of their parent
                                      # (default: every level with a parent level)

For each area of a level and each wave with at least ``min_n`` usable answers (and never fewer
than the spec's publication ``min_n``), a design-based logistic model of "feels unsafe" on the
problem indicators and the background is fitted (:mod:`tryg.stats.regression`). A driver's
effect is its *average marginal effect*: the difference in the share feeling unsafe between
everyone reporting the problem and no one reporting it, the other answers as they are, with a
linearised interval. Drivers are ranked by effect; each gets a plain sentence.

:func:`area_problems` answers the public question "which problems are reported more often
here than in the rest of the parent area", with the existing rest-of-parent contrasts.

The ``[drivers]`` table is read from the spec's source text, so the spec parser does not need
to know about it. Pure: data in, data out.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy import stats as sps

from tryg.index.spec import Spec, SpecError
from tryg.stats import compare_with_rest
from tryg.stats.area_waves import LevelSample, levels_against_rest
from tryg.stats.design import Design, FloatArray, IntArray
from tryg.stats.errors import EstimationError
from tryg.stats.regression import (
    DomainRows,
    GLMFit,
    ModelFrame,
    domain_rows,
    fit_domain_effects,
    newton_from_zero,
)
from tryg.stats.regression import model_frame as regression_frame

Translate = Callable[[str], str]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class DriversConfig:
    outcome: str
    unsafe: tuple[int, ...]
    exclude: tuple[int, ...]
    problems: tuple[str, ...]
    problem_codes: tuple[int, ...]
    background: tuple[str, ...]
    levels: tuple[str, ...]
    min_n: int
    alpha: float = 0.05
    #: levels whose areas' problems are compared with the rest of their parents (None: every
    #: level that has a parent level)
    problem_levels: tuple[str, ...] | None = None
    #: short names of the problems for sentences: (item, Danish, English)
    labels: tuple[tuple[str, str, str], ...] = ()

    def label(self, problem: str, language: str) -> str:
        """The problem's short name in ``language`` ("da" or "en"); its id without one."""
        for item, da, en in self.labels:
            if item == problem:
                return da if language == "da" else en
        return problem
    #: answers an area (and the rest of its parent) needs for its problems to be shown
    min_problems_n: int = 0


def drivers_config(spec: Spec) -> DriversConfig | None:
    """The spec's ``[drivers]`` table, checked against its items; None if it has none."""
    raw = tomllib.loads(spec.source) if spec.source else {}
    table = raw.get("drivers")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise SpecError("[drivers] must be a table")
    items = {i.id for i in spec.items}

    def ints(key: str, default: Sequence[int] = ()) -> tuple[int, ...]:
        value = table.get(key, list(default))
        if not isinstance(value, list) or not all(isinstance(v, int) for v in value):
            raise SpecError(f"drivers.{key} must be a list of whole numbers")
        return tuple(value)

    def strs(key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SpecError(f"drivers.{key} must be a list of names")
        return tuple(value)

    outcome = table.get("outcome")
    if outcome not in items:
        raise SpecError(f"drivers.outcome must name an item of the spec; got {outcome!r}")
    problems = strs("problems")
    unknown = [p for p in problems if p not in items]
    if unknown or not problems:
        raise SpecError(f"drivers.problems must name items of the spec; unknown: {unknown}")
    unsafe = ints("unsafe")
    codes = ints("problem_codes")
    if not unsafe or not codes:
        raise SpecError("drivers.unsafe and drivers.problem_codes must list codes")
    min_n = table.get("min_n", spec.publication.min_n)
    if not isinstance(min_n, int) or min_n < 1:
        raise SpecError("drivers.min_n must be a positive whole number")
    return DriversConfig(
        outcome=str(outcome), unsafe=unsafe, exclude=ints("exclude"), problems=problems,
        problem_codes=codes, background=strs("background"), levels=strs("levels"),
        min_n=max(min_n, spec.publication.min_n), alpha=spec.comparisons.alpha,
        min_problems_n=spec.publication.min_n,
        problem_levels=strs("problem_levels") if "problem_levels" in table else None,
        labels=_labels(table.get("labels", {}), problems),
    )


def _labels(raw: object, problems: tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
    if not isinstance(raw, dict):
        raise SpecError("drivers.labels must be a table of problem = { da = ..., en = ... }")
    out = []
    for item, text in raw.items():
        if item not in problems:
            raise SpecError(f"drivers.labels names {item!r}, which is not one of the problems")
        if not (isinstance(text, dict) and isinstance(text.get("da"), str)
                and isinstance(text.get("en"), str)):
            raise SpecError(f"drivers.labels.{item} must be {{ da = \"...\", en = \"...\" }}")
        out.append((str(item), text["da"], text["en"]))
    return tuple(out)


def model_frame(responses: pd.DataFrame, config: DriversConfig) -> pd.DataFrame:
    """The responses with the 0/1 outcome ``_unsafe`` and one 0/1 column per problem.

    Excluded codes and missing answers are missing (the row leaves the model).
    """
    out = responses.copy()
    out["_unsafe"] = _indicator(out[config.outcome], config.unsafe, config.exclude)
    for item in config.problems:
        out[item] = _indicator(out[item], config.problem_codes, config.exclude)
    return out


def _indicator(answers: pd.Series, codes: Sequence[int], exclude: Sequence[int]) -> FloatArray:
    """1.0 for an answer among ``codes``, 0.0 for another, NaN for a missing or excluded one
    (or one that is not a number). On the codes as floats: numpy's ``isin`` of a few codes is
    a few comparisons, far cheaper than a hash table's look-ups."""
    v = pd.to_numeric(answers, errors="coerce").to_numpy(np.float64, na_value=np.nan)
    out = np.isin(v, codes).astype(np.float64)
    out[np.isnan(v) | np.isin(v, exclude)] = np.nan
    return out


def formula(config: DriversConfig) -> str:
    return "_unsafe ~ " + " + ".join([*config.problems, *config.background])


def estimate_drivers(
    design: Design, config: DriversConfig, cells: Sequence[str]
) -> pd.DataFrame:
    """Drivers in every cell (e.g. area × wave) of the ``cells`` columns.

    ``design.data`` must come from :func:`model_frame`. One row per cell and problem: the
    cell's key columns, ``problem``, ``effect`` (average marginal effect on the share feeling
    unsafe), ``se``, ``ci_low``, ``ci_high``, ``p_value``, ``significant``, ``rank`` (1 = the
    largest effect in the cell), ``coefficient`` and ``coefficient_se`` (log-odds), ``n``.
    Cells under ``min_n`` answers get a single row with ``suppressed=True`` and no numbers.

    All cells' models and effects are fitted in one pass, on the rows merged where the
    answers are the same (:func:`tryg.stats.regression.fit_domain_effects`); each effect is
    the one :func:`tryg.stats.regression.margins` gives (the same linearisation, the
    problem's column set to 1 and to 0 in the model matrix instead of rebuilding it from
    changed data).
    """
    data = design.data
    return _estimate(design, data, regression_frame(data, formula(config)), config, cells)


def _estimate(
    design: Design, data: pd.DataFrame, frame: ModelFrame, config: DriversConfig,
    cells: Sequence[str], known: tuple[IntArray, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """:func:`estimate_drivers` with the model's answers in ``data`` (row-aligned with the
    design's) and their model frame built once: the design's own data (and the variance
    caches on it) stays as it is. ``known``: each row's cell and the cells' keys as a sorted
    group-by numbers them, if the caller has them (the survey estimates' area × wave
    domains)."""
    # the rows with every answer of the model: the frame's complete rows (its variables are
    # the model's, coded as numbers, so present means finite)
    usable = frame.complete
    # every cell (its key values as Python objects) and each row's cell (-1: a key missing)
    if known is not None:
        code = np.asarray(known[0], dtype=np.int64)
        keys = list(zip(*(known[1][c].astype(object) for c in cells), strict=True))
    else:
        grouped = data[list(cells)].groupby(list(cells), sort=True, dropna=True)
        index = grouped.size().index
        keys = list(zip(*(index.get_level_values(i).astype(object)
                          for i in range(len(cells))), strict=True))
        code = np.asarray(grouped.ngroup().fillna(-1).to_numpy(), np.int64)
    n_of = np.bincount(code[usable & (code >= 0)], minlength=len(keys))
    big = n_of >= config.min_n
    found = _no_effects(len(keys), len(config.problems))
    if big.any():
        # one domain per cell with a model; other rows in none (the fits of the cells do not
        # need them, the variances still see the whole design)
        number = np.cumsum(big) - 1
        cell = np.where((code >= 0) & big[np.maximum(code, 0)], number[np.maximum(code, 0)], -1)
        fitted = _fitted_cells(design, frame, config, cell, int(big.sum()))
        found = CellEffects(*(_spread(big, a, b)
                              for a, b in zip(found.arrays(), fitted.arrays(), strict=True)))
    return _cell_rows(config, cells, keys, n_of, found)


@dataclass(frozen=True)
class CellEffects:
    """The problems' effects in each cell: ``fitted`` (cells), whether it has them, and the
    numbers (cells x problems; NaN, and not significant, where it has none)."""

    fitted: BoolArray
    effect: FloatArray
    se: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    p_value: FloatArray
    significant: BoolArray
    coefficient: FloatArray
    coefficient_se: FloatArray

    def arrays(self) -> tuple[npt.NDArray[Any], ...]:
        return tuple(getattr(self, f.name) for f in fields(self))


#: The numbers of a problem's row, in the order of the drivers table.
_NUMBERS = ("effect", "se", "ci_low", "ci_high", "p_value", "significant", "coefficient",
            "coefficient_se")


def _no_effects(n: int, k: int) -> CellEffects:
    nan = np.full((n, k), np.nan)
    return CellEffects(np.zeros(n, bool), nan, nan, nan, nan, nan, np.zeros((n, k), bool),
                       nan, nan)


def _spread(at: BoolArray, into: npt.NDArray[Any], values: npt.NDArray[Any]
            ) -> npt.NDArray[Any]:
    out = into.copy()
    out[at] = values
    return out


def _cell_rows(config: DriversConfig, cells: Sequence[str], keys: list[tuple[object, ...]],
               n_of: IntArray, found: CellEffects) -> pd.DataFrame:
    """The drivers table of the cells (their ``keys``, answers ``n_of`` and effects): a row
    per problem of a cell with effects, ranked by effect, one row (``suppressed``, no
    numbers) for another. The columns and their types are those of the table built from one
    dict per row, which this was."""
    if not keys:
        return pd.DataFrame()
    k = len(config.problems)
    per_cell = np.where(found.fitted, k, 1)
    cell = np.repeat(np.arange(len(keys)), per_cell)
    problem = np.arange(len(cell)) - np.repeat(np.cumsum(per_cell) - per_cell, per_cell)
    shown = found.fitted[cell]
    out = pd.DataFrame(keys, columns=list(cells)).take(cell).reset_index(drop=True)
    names = np.array(config.problems, dtype=object)[problem]
    names[~shown] = None
    out["problem"] = names
    if found.fitted.any():
        for name in _NUMBERS:
            values = getattr(found, name)[cell, problem]
            if name == "significant" and not shown.all():
                values = np.where(shown, values.astype(object), np.nan)
            out[name] = values
    out["n"] = n_of[cell].astype(np.int64)
    out["suppressed"] = ~shown
    if found.fitted.any():
        out.loc[shown, "rank"] = (
            out[shown].groupby(list(cells))["effect"].rank(ascending=False, method="min")
        )
    return out


def _fitted_cells(
    design: Design, frame: ModelFrame, config: DriversConfig, cell: IntArray, n: int
) -> CellEffects:
    """The effects in each cell numbered in ``cell`` (-1: in none); none for a cell whose
    model cannot be fitted. The cells' rows are sorted and merged once
    (:func:`tryg.stats.regression.domain_rows`) for the separation check, the Newton check
    and the fits."""
    rows = domain_rows(frame, np.asarray(design.weights), cell, n)
    separated = _separated(frame, cell, n, rows)
    rows = rows.without(separated)
    cell = np.where((cell >= 0) & separated[np.maximum(cell, 0)], -1, cell)
    columns = [frame.terms[p][0] for p in config.problems]
    with np.errstate(over="ignore"):
        return _effects(config, columns, *_fits(design, frame, columns, cell, n, rows))


def _separated(frame: ModelFrame, cell: IntArray, n_cells: int, rows: DomainRows) -> BoolArray:
    """The cells whose model has no finite estimate: a group of rows that one term of 0/1
    columns marks (a problem reported or not; a background category, the reference one
    included) whose outcomes in the cell are all the same (complete separation: the logistic
    fit does not converge). ``cell``: each row's cell (-1: none).

    Counted on the frame's distinct rows: each cell's count of each distinct row (every
    complete row of the cell, weighted or not), times the distinct rows' groups (and
    outcomes). ``rows`` (the cells' :func:`~tryg.stats.regression.domain_rows`) hold these
    counts already, unless a row of a cell has no weight.
    """
    X, y = frame.distinct_rows()
    ok = frame.complete & (cell >= 0)
    if int(ok.sum()) == len(rows.rows):  # every row counted is one of the fits' rows
        merged_cell = np.repeat(rows.present, np.diff(rows.bounds))
        counts = sp.csr_matrix(
            (np.bincount(rows.merged, minlength=len(rows.w)).astype(np.float64),
             (merged_cell, rows.distinct)), shape=(n_cells, len(y)))
        seen = np.zeros(len(y), dtype=bool)
        seen[rows.distinct] = True
    else:
        distinct = frame.distinct[ok]
        counts = sp.csr_matrix((np.ones(len(distinct)), (cell[ok], distinct)),
                               shape=(n_cells, len(y)))
        seen = np.bincount(distinct, minlength=len(y)) > 0
    binary = ((X[seen] == 0.0) | (X[seen] == 1.0)).all(axis=0)
    groups = []
    for columns in frame.terms.values():
        if not binary[list(columns)].all():
            continue  # a numeric term
        # the groups: each column's 1s and the rows with none (the reference category; for
        # the intercept, all 1s, no row)
        Xt = X[:, list(columns)]
        groups += [Xt, (Xt == 0.0).all(axis=1, keepdims=True).astype(np.float64)]
    if not groups:
        return np.zeros(n_cells, dtype=bool)
    G = np.hstack(groups)
    total = counts @ G
    unsafe = counts @ (G * y[:, None])
    return np.asarray(((total > 0) & ((unsafe == 0) | (unsafe == total))).any(axis=1), bool)


#: A cell's logistic fit is taken to diverge (quasi-complete separation) when Newton's
#: iterations from zero have not settled after this many steps, or a coefficient passes this
#: size.
NEWTON_STEPS = 30
LARGEST_COEFFICIENT = 12.0


#: A cell's fits, effects (cells x problems) and their covariances (cells x problems x
#: problems); no fit and NaN for a cell without one.
Fitted = tuple[list[GLMFit | None], FloatArray, FloatArray]


def _fits(
    design: Design, frame: ModelFrame, columns: list[int], cell: IntArray, n: int,
    rows: DomainRows,
) -> Fitted:
    """The fits of the cells numbered in ``cell`` (-1: in none; ``rows`` their
    :func:`~tryg.stats.regression.domain_rows`) and the problems' effects.

    Cells whose logistic fit diverges are left out first, found with a few Newton steps on the
    cells' rows without variances (:func:`tryg.stats.regression.newton_from_zero`, far cheaper
    than the design-based fit; a cell with an aliased column is for the fit itself to
    handle). The other cells' fits start where those steps settled."""
    check = newton_from_zero(frame, np.asarray(design.weights), cell, n, steps=NEWTON_STEPS,
                             largest=LARGEST_COEFFICIENT, rows=rows)
    diverging = check.full_rank & ~check.settled
    cell = np.where((cell >= 0) & diverging[np.maximum(cell, 0)], -1, cell)
    start = np.where(check.settled[:, None], check.coefficients, np.nan)
    return _fit_cells(design, frame, columns, cell, n, start, rows.without(diverging))


def _fit_cells(
    design: Design, frame: ModelFrame, columns: list[int], cell: IntArray, n: int,
    start: FloatArray, rows: DomainRows,
) -> Fitted:
    """All cells' fits and effects in one pass; should the fit of one of them fail, the cells
    are halved until it is found (and left out)."""
    present = np.flatnonzero(np.bincount(cell[cell >= 0], minlength=n))  # sorted, no sort
    none: Fitted = ([None] * n, np.full((n, len(columns)), np.nan),
                    np.full((n, len(columns), len(columns)), np.nan))
    if not len(present):
        return none
    try:
        found = fit_domain_effects(design, frame, cell, n, columns, "quasibinomial",
                                   start=start, rows=rows)
    except EstimationError:
        if len(present) == 1:
            return none
        half = np.isin(cell, present[: len(present) // 2])
        first_half = np.zeros(n, dtype=bool)
        first_half[present[: len(present) // 2]] = True
        first = _fit_cells(design, frame, columns, np.where(half, cell, -1), n, start,
                           rows.without(~first_half))
        second = _fit_cells(design, frame, columns, np.where(half, -1, cell), n, start,
                            rows.without(first_half))
        mine = np.array([fit is not None for fit in first[0]])
        return ([a if a is not None else b for a, b in zip(first[0], second[0], strict=True)],
                np.where(mine[:, None], first[1], second[1]),
                np.where(mine[:, None, None], first[2], second[2]))
    return [fit if fit.n else None for fit in found.fits], found.effects, found.vcov


def _effects(
    config: DriversConfig, columns: list[int], fits: Sequence[GLMFit | None],
    effects: FloatArray, vcov: FloatArray,
) -> CellEffects:
    """Per fit: each problem's average marginal effect (as ``margins`` computes it: the mean
    predicted share with the problem set to 1 minus that with it set to 0, linearised through
    the fit's influence values; see :func:`tryg.stats.regression.fit_domain_effects`) and its
    log-odds coefficient."""
    out = _no_effects(len(fits), len(columns))
    # a problem nobody (or everybody) reports in the cell has no coefficient: no effects
    chosen = [(i, fit) for i, fit in enumerate(fits)
              if fit is not None and fit.n
              and np.isfinite(fit.coefficients[columns]).all()]
    if not chosen:
        return out
    at = np.array([i for i, _ in chosen])
    chosen_fits = [fit for _, fit in chosen]
    coef = np.vstack([f.coefficients[columns] for f in chosen_fits])
    found = effects[at]
    se = np.sqrt(np.maximum(np.diagonal(vcov[at], axis1=1, axis2=2), 0.0))
    df = np.array([f.df_residual for f in chosen_fits])
    usable = df > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(usable, sps.t.ppf(1 - config.alpha / 2, np.where(usable, df, 1.0)), np.nan)
        p = np.where(se > 0, 2 * sps.t.sf(np.abs(found / se), df[:, None]), np.nan)
    coef_se = np.sqrt(np.array([np.diag(f.vcov)[columns] for f in chosen_fits]))
    fitted = np.zeros(len(fits), bool)
    fitted[at] = True
    return CellEffects(
        fitted, *(_spread(fitted, a, b) for a, b in zip(
            out.arrays()[1:],
            (found, se, found - q[:, None] * se, found + q[:, None] * se, p, p < config.alpha,
             coef, coef_se), strict=True)))


def sentence(row: pd.Series, problem_label: str, _: Translate = lambda s: s) -> str:
    """A plain sentence for one driver (``_`` translates; the caller passes gettext)."""
    pts = 100 * float(row["effect"])
    lo, hi = 100 * float(row["ci_low"]), 100 * float(row["ci_high"])
    if row["significant"]:
        text = _(
            "Among residents who report %(problem)s, the share feeling unsafe is "
            "%(pts).0f percentage points %(dir)s than among those who do not, other things "
            "equal (95%% interval %(lo).0f to %(hi).0f)."
        )
        direction = _("higher") if pts > 0 else _("lower")
    else:
        text = _(
            "Reporting %(problem)s makes no clear difference to feeling unsafe here "
            "(%(pts).0f percentage points, 95%% interval %(lo).0f to %(hi).0f)."
        )
        direction = ""
    return text % {"problem": problem_label, "pts": abs(pts) if direction else pts,
                   "dir": direction, "lo": lo, "hi": hi}


def area_problems(
    design: Design, config: DriversConfig, *, area: str, parent: str, by: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Problems reported more often in an area than in the rest of its parent area.

    ``design.data`` holds the answers as coded (not :func:`model_frame`'s indicators): the
    share reporting a problem is the share of ``problem_codes`` among the answers not in
    ``exclude``.

    One row per problem, area (and ``by`` group): the columns of
    :func:`tryg.stats.compare_with_rest` plus ``problem`` and ``more_often`` (a positive
    difference whose interval excludes zero).
    """
    frames = []
    for problem in config.problems:
        res = compare_with_rest(
            design, problem, area=area, parent=parent, by=by, statistic="proportion",
            codes=list(config.problem_codes), exclude=list(config.exclude), level=level,
        )
        res.insert(0, "problem", problem)
        frames.append(res)
    out = pd.concat(frames, ignore_index=True)
    out["more_often"] = (out["difference"] > 0) & (out["ci_low"] > 0)
    return out


# -- in an index run ---------------------------------------------------------------------------

#: The drivers table a run stores (one row per cell and problem; a suppressed cell: one row,
#: ``problem`` missing, no numbers).
DRIVER_COLUMNS: tuple[str, ...] = (
    "level", "area_code", "wave", "problem", "effect", "se", "ci_low", "ci_high", "p_value",
    "significant", "rank", "coefficient", "coefficient_se", "n", "suppressed",
)
#: The area-against-rest-of-parent problems table a run stores (one row per area, wave and
#: problem).
PROBLEM_COLUMNS: tuple[str, ...] = (
    "level", "area_code", "parent_code", "wave", "problem", "share", "rest_share",
    "difference", "se", "ci_low", "ci_high", "p_value", "more_often", "n", "rest_n",
    "suppressed",
)


@dataclass(frozen=True)
class IndexDrivers:
    """A run's drivers (:data:`DRIVER_COLUMNS`) and area problems (:data:`PROBLEM_COLUMNS`),
    and the levels the spec names that the areas do not have."""

    drivers: pd.DataFrame
    problems: pd.DataFrame
    missing_levels: tuple[str, ...] = ()


def index_drivers(
    spec: Spec, config: DriversConfig, sample: LevelSample,
    parent_level: Callable[[str], str | None],
) -> IndexDrivers:
    """The drivers of every area of the config's levels and every wave, and every area's
    problems against the rest of its parent, on an index run's (calibrated, stacked) design
    (``sample``: the survey estimates).

    ``sample.design.data`` holds the answers as coded, a ``wave`` column and one column per
    level (``sample.level_columns``: level → column, each respondent's area at that level);
    ``parent_level`` gives a level's parent level (None at the top).
    """
    design, level_columns = sample.design, dict(sample.level_columns)
    columns = {it.id: it.column or it.id for it in spec.items}
    data = design.data
    renamed = {columns[i]: i for i in (config.outcome, *config.problems) if columns[i] != i}
    coded = data.rename(columns=renamed) if renamed else data
    modelled = model_frame(coded[[config.outcome, *config.problems, *config.background,
                                  "wave", *level_columns.values()]], config)
    # the model's answers stay beside the design: the design itself (and the variance caches
    # the survey estimates left on it) serves every fit and comparison below
    frame = regression_frame(modelled, formula(config))
    missing = tuple(lv for lv in (*config.levels, *(config.problem_levels or ()))
                    if lv not in level_columns)
    parts = []
    for level in config.levels:
        col = level_columns.get(level)
        if col is None or modelled[col].isna().all():
            continue
        dom = sample.cache.levels.get(col)
        res = _estimate(design, modelled, frame, config, [col, "wave"],
                        None if dom is None else (dom.codes, dom.keys))
        if res.empty:
            continue
        res = res.rename(columns={col: "area_code"})
        res.insert(0, "level", level)
        parts.append(res)
    drivers = _conform(parts, DRIVER_COLUMNS)
    compared = [(level, col, level_columns[p]) for level, col in level_columns.items()
                if (config.problem_levels is None or level in config.problem_levels)
                and (p := parent_level(level)) is not None and p in level_columns
                and modelled[col].notna().any()]
    values = {p: modelled[p].to_numpy(np.float64) for p in config.problems}
    tables = levels_against_rest(sample, values, [(col, pcol) for _, col, pcol in compared],
                                 1 - spec.comparisons.alpha)
    problems = _conform([_level_problems(config, res, level, col, pcol)
                         for (level, col, pcol), res in zip(compared, tables, strict=True)],
                        PROBLEM_COLUMNS)
    return IndexDrivers(drivers, problems, missing)


def _level_problems(config: DriversConfig, res: pd.DataFrame, level: str, col: str,
                    pcol: str) -> pd.DataFrame:
    """One level's areas against the rest of their parents, every problem and wave, from
    :func:`tryg.stats.area_waves.levels_against_rest`' table ``res`` (level column ``col``,
    its parent's ``pcol``)."""
    if res.empty:
        return pd.DataFrame(columns=list(PROBLEM_COLUMNS))
    out = pd.DataFrame({
        "level": level, "area_code": res[col].astype(str), "parent_code": res[pcol].astype(str),
        "wave": res["wave"].astype(np.int64), "problem": res["variable"],
        "share": res["estimate_first"], "rest_share": res["estimate_second"],
        "difference": res["difference"], "se": res["se"], "ci_low": res["ci_low"],
        "ci_high": res["ci_high"], "p_value": res["p_value"],
        "n": res["n"], "rest_n": res["n_parent"] - res["n"],
    })
    out["more_often"] = (out["difference"] > 0) & (out["ci_low"] > 0)
    out["suppressed"] = (out["n"] < config.min_problems_n) | (
        out["rest_n"] < config.min_problems_n)
    return out


def _conform(parts: Sequence[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    parts = [p for p in parts if not p.empty]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    for c in columns:
        if c not in out:
            out[c] = np.nan
    out = out[list(columns)]
    for c in ("significant", "more_often", "suppressed"):
        if c in out:
            out[c] = out[c].astype("boolean").fillna(False).astype(bool)
    return out.reset_index(drop=True)


def public_drivers(drivers: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """What may be published of a run's drivers: the cells with a model and at least
    ``min_n`` answers (the spec's publication minimum); nothing of the others, not even
    that they exist."""
    shown = ~drivers["suppressed"].astype(bool) & (drivers["n"] >= min_n)
    return drivers[shown & drivers["problem"].notna()].reset_index(drop=True)


def public_problems(problems: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """What may be published of the area problems: rows whose area and rest of parent both
    have at least ``min_n`` answers."""
    shown = (~problems["suppressed"].astype(bool) & (problems["n"] >= min_n)
             & (problems["rest_n"] >= min_n))
    return problems[shown].reset_index(drop=True)
