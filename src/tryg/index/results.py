"""The results table of an index run, and its public view.

One row per area × wave × measure (survey measures, register measures, sub-indices, the
composite). The columns are fixed here, once, because three parties depend on them: the
computation fills them, the exports write them, and readers of published files (analysts,
the next year's run, other municipalities) rely on their names and meaning.

The internal table keeps everything. What may be published is a different table:
:func:`public_view` applies the spec's publication rules, so no exporter has to know them and
no caller can forget them.

Pure: pandas in, pandas out.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd
from pandas.api.types import pandas_dtype

from tryg.index.spec import Spec

#: The columns of the results table, in order.
RESULT_COLUMNS: tuple[str, ...] = (
    "area_code", "area_name", "level", "wave", "measure",
    "estimate", "se", "ci_low", "ci_high", "n", "n_eff", "method",
    "change_prev", "p_prev", "sig_prev",
    "change_pooled", "sig_pooled",
    "diff_parent_rest", "sig_parent_rest",
    "band", "suppressed", "flags", "spec_id", "spec_hash",
)  # fmt: skip

#: Columns that identify a row; they stay in the public view even when the row is suppressed.
KEY_COLUMNS: tuple[str, ...] = ("area_code", "area_name", "level", "wave", "measure")

#: Columns that name the formula; harmless to publish, so kept in suppressed rows as well.
SPEC_COLUMNS: tuple[str, ...] = ("spec_id", "spec_hash")

_STRING = ("area_code", "area_name", "level", "measure", "method", "band", "flags",
           "spec_id", "spec_hash")
_FLOAT = ("estimate", "se", "ci_low", "ci_high", "n_eff", "change_prev", "p_prev",
          "change_pooled", "diff_parent_rest")
_NULLABLE_BOOL = ("sig_prev", "sig_pooled", "sig_parent_rest")

#: The dtype of every column. Strings are ``object`` (not pandas' ``str``) so that files
#: written from them do not depend on pandas' string-inference setting; ``n`` and ``wave`` are
#: nullable integers (a count, not a float); the ``sig_*`` are nullable booleans (no test is
#: not the same as "not significant"); ``flags`` holds ";"-joined flag words.
RESULT_DTYPES: dict[str, str] = {
    **dict.fromkeys(_STRING, "object"),
    **dict.fromkeys(_FLOAT, "float64"),
    **dict.fromkeys(_NULLABLE_BOOL, "boolean"),
    "wave": "Int64",
    "n": "Int64",
    "suppressed": "bool",
}

#: Flags that :mod:`tryg.index.disclosure` writes. The whole row is withheld to protect
#: another figure (its own numbers are not small):
SECONDARY = "secondary"
#: Only the row's sample size is withheld (it would give a hidden sample size back):
N_WITHHELD = "n_withheld"
#: Comparisons withheld because one of their sides is hidden:
PREV_WITHHELD = "prev_withheld"
POOLED_WITHHELD = "pooled_withheld"
REST_WITHHELD = "rest_withheld"
DISCLOSURE_FLAGS = (SECONDARY, N_WITHHELD, PREV_WITHHELD, POOLED_WITHHELD, REST_WITHHELD)

#: Values of ``method`` for rows computed from the police register (their ``n`` is a count).
REGISTER_METHODS: tuple[str, ...] = ("register", "register_eb")

#: The columns a withheld comparison blanks (flags from :mod:`tryg.index.disclosure`).
WITHHELD_COMPARISONS: dict[str, tuple[str, ...]] = {
    PREV_WITHHELD: ("change_prev", "p_prev", "sig_prev"),
    POOLED_WITHHELD: ("change_pooled", "sig_pooled"),
    REST_WITHHELD: ("diff_parent_rest", "sig_parent_rest"),
}

#: The public view's columns: ``n`` is replaced in place by the text ``n_display``.
PUBLIC_COLUMNS: tuple[str, ...] = tuple("n_display" if c == "n" else c for c in RESULT_COLUMNS)


def empty_results() -> pd.DataFrame:
    """An empty results table with the right columns and dtypes."""
    return pd.DataFrame({c: pd.Series([], dtype=RESULT_DTYPES[c]) for c in RESULT_COLUMNS})


def conform(table: pd.DataFrame, *, ready: Collection[str] = ()) -> pd.DataFrame:
    """``table`` with exactly the results columns, in order, in their dtypes.

    Raises ``ValueError`` naming any missing column; extra columns are dropped. ``flags`` is
    always text: no flags is ``""`` (CSV and XLSX cannot tell ``""`` from missing, so the two
    must mean the same). Columns named in ``ready`` are taken as they are: the caller built
    them in their dtype, text with ``None`` for missing (and no missing ``flags``).
    """
    missing = [c for c in RESULT_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"the results table lacks the column(s) {', '.join(missing)}")
    # One conversion per column into a dict, one frame at the end: assigning column by column
    # (and ``astype(object).where(...)`` on Arrow-backed strings) costs a copy per step.
    # dtype=object explicitly: pandas 3 would otherwise infer its own string dtype.
    index = table.index
    cols: dict[str, pd.Series] = {}
    for c in RESULT_COLUMNS:
        col = table[c]
        if c in ready:
            cols[c] = col
        elif RESULT_DTYPES[c] == "object":
            values = np.array(col.to_numpy(dtype=object), dtype=object)  # our own copy
            values[pd.isna(values)] = "" if c == "flags" else None
            cols[c] = pd.Series(values, index=index, dtype=object)
        else:
            cols[c] = col.astype(pandas_dtype(RESULT_DTYPES[c]))
    return pd.DataFrame(cols, index=index, copy=False)


def register_measure_ids(spec: Spec) -> set[str]:
    """Measures whose ``n`` is a count of reported offences (subject to ``small_count``).

    Register measures, their smoothed ``<id>_eb`` companions and sub-indices built from them:
    their ``n`` is the offence count, which must not be published when small. (Rows whose
    ``method`` is one of ``REGISTER_METHODS`` count as register rows too, whatever their id.)
    """
    ids = {m.id for m in spec.register} | {f"{m.id}_eb" for m in spec.register}
    return ids | {s.id for s in spec.subindices if s.source == "register"}


#: Blanked on rows whose register count is shown as "< small_count + 1".
SMALL_COUNT_HIDDEN = ("estimate", "se", "ci_low", "ci_high", "change_prev", "p_prev", "sig_prev",
                      "change_pooled", "sig_pooled", "diff_parent_rest", "sig_parent_rest",
                      "band")


def public_view(table: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """What may be published of ``table`` under ``spec``'s publication rules.

    The rules are decided when the run is computed (:mod:`tryg.index.disclosure` writes them
    into ``suppressed`` and ``flags``); here they are applied:

    * A suppressed row keeps its keys (area, level, wave, measure), ``suppressed``, ``flags``
      and the spec's id and hash; everything else (estimate, se, interval, n, n_eff, changes,
      differences, tests, band, method) is blanked. A survey row withheld only to protect
      another figure (flag ``secondary``) keeps its ``n``, which protects nothing.
    * ``n`` is replaced by the text ``n_display``: for register counts of at most
      ``publication.small_count`` it reads ``"< small_count + 1"`` (e.g. ``"< 5"``), so a
      count of 1-4 offences in a small area cannot be read off the file; for a model-based
      small-area estimate from fewer than ``min_n`` answers ``"< min_n"``; blank where the
      flag ``n_withheld`` says so. The rate, its interval, its comparisons and its band are
      blanked on small-count rows too, because with the population (and the other published
      figures) they would give the count back.
    * A comparison whose other side is hidden (flags ``prev_withheld``, ``pooled_withheld``,
      ``rest_withheld``) is blanked with its test.

    Extra columns of ``table`` are not carried over: the public file holds only the documented
    columns, so nothing internal can leak by being added upstream.
    """
    t = conform(table)
    pub = spec.publication
    small = pub.small_count
    register = (
        t["measure"].isin(register_measure_ids(spec))
        | t["method"].isin(REGISTER_METHODS)
    ).to_numpy()
    words = t["flags"].astype(str).str.split(";")
    has = {f: words.map(lambda w, f=f: f in w).to_numpy(dtype=bool)
           for f in ("model_based", SECONDARY, N_WITHHELD, PREV_WITHHELD, POOLED_WITHHELD,
                     REST_WITHHELD)}
    n = t["n"]
    n_known = n.notna().to_numpy()
    n_values = n.fillna(0).to_numpy(dtype=np.int64)
    small_count = register & n_known & (n_values <= small)
    model_small = has["model_based"] & n_known & (n_values < pub.min_n)
    display = n_values.astype(str).astype(object)
    display[small_count] = f"< {small + 1}"
    display[model_small] = f"< {pub.min_n}"
    display[~n_known | has[N_WITHHELD]] = None
    # dtype=object explicitly: pandas 3 would otherwise infer its own string dtype.
    position = list(t.columns).index("n")
    t.insert(position, "n_display", pd.Series(display, index=t.index, dtype=object))
    t = t.drop(columns="n")
    hidden = t["suppressed"].to_numpy(dtype=bool)
    # A rate and its interval give a small count back (rate × population / 1,000): for a
    # count shown as "< 5" the numbers that would reveal it are blanked as well, and so is
    # every comparison, since each is the rate minus a published figure (the earlier waves,
    # the rest of the parent area) and would give the rate back too.
    if small_count.any():
        for c in SMALL_COUNT_HIDDEN:
            t[c] = t[c].mask(small_count)
    for flag, columns in WITHHELD_COMPARISONS.items():
        if has[flag].any():
            for c in columns:
                t[c] = t[c].mask(has[flag])
    if hidden.any():
        keep = {*KEY_COLUMNS, *SPEC_COLUMNS, "suppressed", "flags"}
        keeps_n = hidden & has[SECONDARY] & ~register
        for c in t.columns:
            if c in keep:
                continue
            mask = hidden & ~keeps_n if c == "n_display" else hidden
            masked = t[c].mask(mask)
            t[c] = masked.where(masked.notna(), None) if masked.dtype == object else masked
    return t.reset_index(drop=True)[list(PUBLIC_COLUMNS)]
