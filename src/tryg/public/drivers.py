"""The drivers of insecurity and an area's problems as the pages show them.

Rows come from a run's drivers tables (:mod:`tryg.runs.drivers`): the public pages pass the
public view only, the analysts' page the internal tables to those who may see them. Here they
become display texts: effects in percentage points with their 95 % intervals, ranked, a plain
sentence each (:func:`tryg.index.drivers.sentence`, in the page's language), significance
marked; and an area's problems against the rest of its parent area.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import pandas as pd
from django.utils.translation import gettext as _

from tryg.index.drivers import DriversConfig, drivers_config, sentence
from tryg.index.spec import SpecError
from tryg.public.data import Published, run_key
from tryg.public.measures import MeasureInfo, format_change, format_value
from tryg.public.present import significance
from tryg.runs.drivers import published_drivers, published_problems
from tryg.runs.models import IndexRun

#: Effects and shares are shares (0-1) shown in per cent / percentage points.
_SHARE = MeasureInfo("_drivers", "", "", "share", False)


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def effect_rows(frame: pd.DataFrame, config: DriversConfig, language: str
                ) -> list[dict[str, Any]]:
    """One cell's drivers (rows of one area and wave), ranked, as display texts."""
    out = []
    shown = frame[frame["problem"].notna() & ~frame["suppressed"].astype(bool)]
    for _i, row in shown.sort_values(["rank", "problem"]).iterrows():
        effect, low, high = (_finite(row[c]) for c in ("effect", "ci_low", "ci_high"))
        if effect is None or low is None or high is None:
            continue
        label = config.label(str(row["problem"]), language)
        out.append({
            "problem": row["problem"], "label": label,
            "rank": int(row["rank"]) if _finite(row["rank"]) is not None else None,
            "effect": format_change(_SHARE, effect, language),
            "interval": f"{format_change(_SHARE, low, language)} – "
                        f"{format_change(_SHARE, high, language)}",
            "significant": bool(row["significant"]),
            "significance": significance(bool(row["significant"])),
            "sentence": sentence(row, label, _),
        })
    return out


def cells(frame: pd.DataFrame, names: dict[str, str], config: DriversConfig, language: str
          ) -> list[dict[str, Any]]:
    """Every cell (area and wave) of ``frame``: its area, wave, n and ranked drivers (none
    when it has no model: ``suppressed``), areas in the order of ``names`` (code → name)
    and then by code, waves newest first."""
    out: list[dict[str, Any]] = []
    if frame.empty:
        return out
    order = {code: i for i, code in enumerate(names)}
    keys = frame[["level", "area_code", "wave"]].drop_duplicates()
    keys = keys.assign(_o=keys["area_code"].map(order).fillna(len(order)))
    for _i, key in keys.sort_values(["_o", "area_code", "wave"],
                                    ascending=[True, True, False]).iterrows():
        rows = frame[(frame["area_code"] == key["area_code"]) & (frame["wave"] == key["wave"])]
        out.append({
            "level": key["level"], "area_code": key["area_code"],
            "area_name": names.get(str(key["area_code"]), str(key["area_code"])),
            "wave": int(key["wave"]), "n": int(rows["n"].iloc[0]),
            "suppressed": bool(rows["suppressed"].astype(bool).all()),
            "drivers": effect_rows(rows, config, language),
        })
    return out


def problem_rows(frame: pd.DataFrame, config: DriversConfig, language: str
                 ) -> list[dict[str, Any]]:
    """An area's problems in one wave against the rest of its parent: those reported
    significantly more often first, then by the difference."""
    out = []
    for _i, row in frame.sort_values(["more_often", "difference"],
                                     ascending=[False, False]).iterrows():
        share, rest, diff = (_finite(row[c]) for c in ("share", "rest_share", "difference"))
        low, high = _finite(row["ci_low"]), _finite(row["ci_high"])
        if share is None or rest is None or diff is None:
            continue
        significant = low is not None and high is not None and (low > 0 or high < 0)
        out.append({
            "problem": row["problem"], "label": config.label(str(row["problem"]), language),
            "share": format_value(_SHARE, share, language),
            "rest": format_value(_SHARE, rest, language),
            "difference": format_change(_SHARE, diff, language),
            "interval": (f"{format_change(_SHARE, low, language)} – "
                         f"{format_change(_SHARE, high, language)}"
                         if low is not None and high is not None else ""),
            "more_often": bool(row["more_often"]), "significant": significant,
            "significance": significance(significant),
        })
    return out


def more_often_text(rows: list[dict[str, Any]]) -> str:
    """A sentence naming the problems reported significantly more often (or that none is)."""
    more = [r["label"] for r in rows if r["more_often"]]
    if not more:
        return _("No problem is reported significantly more often here than in the rest of "
                 "the parent area.")
    return _("Reported significantly more often here than in the rest of the parent area: "
             "%(problems)s.") % {"problems": ", ".join(more)}


# -- the public pages: the published run's public view only -----------------------------------

@lru_cache(maxsize=4)
def _public_drivers(key: str, run: IndexRun, min_n: int) -> pd.DataFrame:
    return published_drivers(run, min_n)


def public_drivers(published: Published) -> pd.DataFrame:
    """The published run's drivers, public view (memoised per publication)."""
    return _public_drivers(run_key(published.run), published.run,
                           published.spec.publication.min_n)


def _config(published: Published) -> DriversConfig | None:
    """The published run's drivers table (None without one, or with one the run could not
    have used: such a run computed no drivers)."""
    try:
        return drivers_config(published.spec)
    except SpecError:
        return None


def _names(published: Published) -> dict[str, str]:
    return {code: name for code, (name, _level, _m) in published.areas.items()}


def methods_section(published: Published, language: str) -> dict[str, Any] | None:
    """The methods page's drivers: the coarsest modelled level's areas in the latest wave
    with a model (None when the spec has no drivers)."""
    config = _config(published)
    if config is None:
        return None
    frame = public_drivers(published)
    section: dict[str, Any] = {"config": config, "min_n": config.min_n, "cells": [],
                               "labels": [config.label(p, language) for p in config.problems]}
    for level in config.levels:
        rows = frame[frame["level"] == level]
        if rows.empty:
            continue
        latest = rows[rows["wave"] == rows["wave"].max()]
        section["cells"] = cells(latest, _names(published), config, language)
        break
    return section


def area_section(published: Published, language: str, code: str) -> dict[str, Any] | None:
    """An area page's problems against the rest of its parent (latest wave shown) and the
    area's own drivers when it is modelled (None when the spec has no drivers)."""
    config = _config(published)
    if config is None:
        return None
    min_n = published.spec.publication.min_n
    problems = published_problems(published.run, min_n, code)
    section: dict[str, Any] = {"problems": [], "wave": None, "parent": None, "cells": []}
    if not problems.empty:
        wave = int(problems["wave"].max())
        latest = problems[problems["wave"] == wave]
        rows = problem_rows(latest, config, language)
        parent = str(latest["parent_code"].iloc[0])
        found = published.areas.get(parent)
        section.update(problems=rows, wave=wave, summary=more_often_text(rows),
                       parent=found[0] if found else parent)
    own = public_drivers(published)
    own = own[own["area_code"] == code]
    if not own.empty:
        latest_own = own[own["wave"] == own["wave"].max()]
        section["cells"] = cells(latest_own, _names(published), config, language)
    return section if section["problems"] or section["cells"] else None
