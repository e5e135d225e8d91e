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
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tryg.index.spec import Spec, SpecError
from tryg.stats import compare_with_rest
from tryg.stats.design import Design
from tryg.stats.errors import EstimationError
from tryg.stats.regression import glm, margins

Translate = Callable[[str], str]


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
    )


def model_frame(responses: pd.DataFrame, config: DriversConfig) -> pd.DataFrame:
    """The responses with the 0/1 outcome ``_unsafe`` and one 0/1 column per problem.

    Excluded codes and missing answers are missing (the row leaves the model).
    """
    out = responses.copy()
    y = pd.to_numeric(out[config.outcome], errors="coerce")
    excluded = y.isna() | y.isin(config.exclude)
    out["_unsafe"] = np.where(excluded, np.nan, y.isin(config.unsafe).astype(float))
    for item in config.problems:
        v = pd.to_numeric(out[item], errors="coerce")
        out[item] = np.where(v.isna() | v.isin(config.exclude), np.nan,
                             v.isin(config.problem_codes).astype(float))
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
    """
    data = design.data
    f = formula(config)
    needed = ["_unsafe", *config.problems, *config.background]
    usable = data[needed].notna().all(axis=1).to_numpy()
    keys = data[list(cells)].astype(object)
    groups = pd.Series(np.arange(len(data))).groupby([keys[c].to_numpy() for c in cells])
    rows: list[dict[str, object]] = []
    for key, idx in groups:
        key_t = key if isinstance(key, tuple) else (key,)
        base = dict(zip(cells, key_t, strict=True))
        mask = np.zeros(len(data), dtype=bool)
        mask[idx.to_numpy()] = True
        n = int((mask & usable).sum())
        if n < config.min_n:
            rows.append({**base, "problem": None, "n": n, "suppressed": True})
            continue
        try:
            fit = glm(design, f, "quasibinomial", subset=mask)
        except EstimationError:
            rows.append({**base, "problem": None, "n": n, "suppressed": True})
            continue
        table = fit.table().set_index("term")
        for problem in config.problems:
            m = margins(design, fit, problem, levels=[0.0, 1.0]).table.iloc[1]
            rows.append({
                **base, "problem": problem, "effect": m["effect"], "se": m["effect_se"],
                "ci_low": m["effect_low"], "ci_high": m["effect_high"], "p_value": m["p"],
                "significant": bool(m["p"] < config.alpha),
                "coefficient": table.loc[problem, "estimate"],
                "coefficient_se": table.loc[problem, "se"], "n": n, "suppressed": False,
            })
    out = pd.DataFrame(rows)
    if "effect" in out:
        shown = ~out["suppressed"].astype(bool)
        out.loc[shown, "rank"] = (
            out[shown].groupby(list(cells))["effect"].rank(ascending=False, method="min")
        )
    return out


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
