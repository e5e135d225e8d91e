"""From answers to the respondent-level variables the estimators average.

A share measure becomes a 0/1 indicator (NaN outside its base: no answer or "don't know"); a
mean measure becomes the answer itself; an item sub-index becomes the respondent's mean item
score on 0–100 with the safe end at 100, over the items answered (NaN below ``min_items``).
Everything the survey says is checked against the specification first, so that a run either
has clean inputs or stops with every problem named.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tryg.index.inputs import (
    SURVEY_COLUMNS,
    Problem,
    SurveyInput,
    require_columns,
    source_of,
    unknown,
)
from tryg.index.inputs import mark as _
from tryg.index.spec import Item, Spec
from tryg.messages import Number

FloatArray = np.ndarray


def check_survey(spec: Spec, survey: SurveyInput, area_codes: set[str], *,
                 partial: bool = False) -> list[Problem]:
    """Every problem with the survey answers, given the specification and the known areas.

    ``partial``: the answers may hold some of the specification's items only (an upload
    checked before it is stored; the run checks the whole set): a missing item column is not
    a problem, and the items present are checked as the run checks them.
    """
    frame = survey.responses
    src = source_of(frame)
    problems = require_columns(frame, SURVEY_COLUMNS, _("the survey needs a column %(column)s"))
    needed = {spec.item(m.item).column for m in spec.measures}
    for sub in spec.subindices:
        needed |= {spec.item(i).column for i in sub.items}
    if partial:
        needed &= set(frame.columns)
    problems += [
        Problem.of(src, None, col,
                   _("the specification needs this item column, the survey lacks it"))
        for col in sorted(needed)
        if col not in frame.columns
    ]
    if problems:
        return problems
    rows = frame.index.to_numpy()
    weight = pd.to_numeric(frame["weight"], errors="coerce")
    for i in np.flatnonzero(~(weight > 0).to_numpy())[:20]:
        problems.append(Problem.of(src, int(rows[i]), "weight",
                                   _("the weight must be a number > 0")))
    codes = frame["area_code"].astype(str)
    for i in np.flatnonzero(unknown(codes, area_codes))[:20]:
        problems.append(
            Problem.of(src, int(rows[i]), "area_code",
                       _("unknown area code %(code)s (not in the area list)"),
                       code=repr(codes.iloc[i]))
        )
    dup = _repeated_answers(frame)
    seen: dict[tuple[object, object], int] = {}
    for i in np.flatnonzero(dup)[:40]:
        key = (frame["wave"].iloc[i], frame["respondent_id"].iloc[i])
        if key in seen:
            problems.append(
                Problem.of(src, int(rows[i]), "respondent_id",
                           _("respondent %(id)s appears twice in wave %(wave)s (also row "
                             "%(first)s)"), id=repr(key[1]), wave=key[0], first=seen[key])
            )
        else:
            seen[key] = int(rows[i])
    for item in spec.items:
        if item.column in frame.columns and item.column in needed:
            problems += _check_item(item, frame, src, rows)
    return problems


def _repeated_answers(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose (wave, respondent id) occurs more than once (a missing value equals a
    missing value), from the two columns numbered once: one integer key per row instead of
    a duplicate search over a frame of text. Answers usually come sorted by wave and id (an
    export, the demo data): then no pair repeats, which one comparison of each row with the
    one before shows (numbering 300,000 distinct ids costs ten times as much)."""
    if _strictly_increasing(frame["wave"], frame["respondent_id"]):
        return np.zeros(len(frame), dtype=bool)
    ids, id_values = pd.factorize(frame["respondent_id"])
    if len(id_values) == len(frame):  # every id distinct: no pair repeats
        return np.zeros(len(frame), dtype=bool)
    waves, wave_values = pd.factorize(frame["wave"])
    key = (np.asarray(ids, dtype=np.int64) + 1) * (len(wave_values) + 1) + waves + 1
    return np.asarray(pd.Series(key).duplicated(keep=False), dtype=bool)


def _strictly_increasing(wave: pd.Series, ids: pd.Series) -> bool:
    """Whether the rows are sorted by (wave, id) with no pair twice: no missing value, the ids
    compared as text. Checked for integer waves and Arrow-backed text ids only (False for
    any other columns: they are numbered instead)."""
    if (len(wave) < 2 or not isinstance(ids.dtype, pd.StringDtype)
            or ids.dtype.storage != "pyarrow" or not pd.api.types.is_integer_dtype(wave.dtype)):
        return False
    w = wave.to_numpy(dtype=np.int64)
    text = pa.array(ids)  # the column's own Arrow array, not a copy
    n = len(text)
    later = pc.fill_null(pc.greater(text.slice(1), text.slice(0, n - 1)), False)
    after = np.asarray(later.to_numpy(zero_copy_only=False), dtype=bool)
    return bool(np.all((w[1:] > w[:-1]) | ((w[1:] == w[:-1]) & after)))


def _check_item(item: Item, frame: pd.DataFrame, src: str, rows: np.ndarray) -> list[Problem]:
    raw = frame[item.column]
    values = pd.to_numeric(raw, errors="coerce")
    problems = [
        Problem.of(src, int(rows[i]), item.column, _("answer %(value)s is not a number"),
                   value=repr(raw.iloc[i]))
        for i in np.flatnonzero((values.isna() & raw.notna()).to_numpy())[:20]
    ]
    lo, hi = item.scale
    v = values.to_numpy(dtype=np.float64)
    allowed = (
        np.isnan(v) | ((v >= lo) & (v <= hi) & (v == np.round(v))) | np.isin(v, item.dont_know)
    )
    for i in np.flatnonzero(~allowed)[:20]:
        problems.append(
            Problem.of(src, int(rows[i]), item.column,
                       _("answer %(value)s is outside the scale %(low)s-%(high)s and not a "
                         "'don't know' code %(codes)s") if item.dont_know
                       else _("answer %(value)s is outside the scale %(low)s-%(high)s"),
                       value=Number(v[i], None, grouping=False), low=lo, high=hi,
                       codes=str(list(item.dont_know)))
        )
    return problems


def answers(spec: Spec, frame: pd.DataFrame, item_id: str) -> FloatArray:
    """An item's answers on its scale; NaN for no answer and for "don't know"."""
    item = spec.item(item_id)
    v = pd.to_numeric(frame[item.column], errors="coerce").to_numpy(dtype=np.float64)
    return np.where(np.isin(v, item.dont_know), np.nan, v)


def measure_values(spec: Spec, frame: pd.DataFrame) -> dict[str, FloatArray]:
    """Respondent-level values of every survey measure (indicator or answer)."""
    out: dict[str, FloatArray] = {}
    for m in spec.measures:
        v = answers(spec, frame, m.item)
        if m.kind == "share":
            codes = spec.item(m.item).codes(m.category)
            out[m.id] = np.where(np.isnan(v), np.nan, np.isin(v, codes).astype(np.float64))
        else:
            out[m.id] = v
    return out


def subindex_scores(spec: Spec, frame: pd.DataFrame) -> dict[str, FloatArray]:
    """Respondent-level 0–100 scores of every item sub-index (safe end = 100)."""
    out: dict[str, FloatArray] = {}
    for sub in spec.subindices:
        if sub.source != "items":
            continue
        scores = []
        for item_id in sub.items:
            item = spec.item(item_id)
            v = answers(spec, frame, item_id)
            lo, hi = item.scale
            frac = (v - lo) / (hi - lo)
            scores.append(100.0 * (1.0 - frac if item.safe_end == "low" else frac))
        # the mean of the items answered (``np.nanmean`` over the items, 0 where none is),
        # summed item by item in their order as it sums them: a fifth of its time
        answered = np.zeros(len(frame), dtype=np.int64)
        total = np.zeros(len(frame))
        for score in scores:
            known = ~np.isnan(score)
            answered += known
            total += np.where(known, score, 0.0)
        mean = np.where(answered > 0, total / np.maximum(answered, 1), 0.0)
        out[sub.id] = np.where(answered >= sub.min_items, mean, np.nan)
    return out
