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

from tryg.index.publication import (
    DISCLOSURE_FLAGS,
    N_WITHHELD,
    POOLED_WITHHELD,
    PREV_WITHHELD,
    REGISTER_METHODS,
    REST_WITHHELD,
    SECONDARY,
    SMALL_COUNT_HIDDEN,
    WITHHELD_COMPARISONS,
    public_view,
    register_measure_ids,
)

#: Kept importable from here: the publication rules live in :mod:`tryg.index.publication`.
__all__ = [
    "DISCLOSURE_FLAGS",
    "KEY_COLUMNS",
    "N_WITHHELD",
    "POOLED_WITHHELD",
    "PREV_WITHHELD",
    "PUBLIC_COLUMNS",
    "REGISTER_METHODS",
    "REST_WITHHELD",
    "RESULT_COLUMNS",
    "RESULT_DTYPES",
    "SECONDARY",
    "SMALL_COUNT_HIDDEN",
    "SPEC_COLUMNS",
    "WITHHELD_COMPARISONS",
    "conform",
    "empty_results",
    "public_view",
    "register_measure_ids",
]

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
