"""Table operations of an index run, with pandas' own operations.

The run joins its parts on the key ``area_code × wave × measure``, replaces the direct rows of
small areas by model-based ones, and sorts the final table. These are plain pandas here
(keys as a ``MultiIndex`` looked up with ``get_indexer``, ``reindex``, ``Categorical``
sort keys): they lean on
no pandas internals (Arrow buffers, extension-array ``take``), so they mean the same in every
pandas version the project supports (``pyproject.toml``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd


def key_index(table: pd.DataFrame, key: Sequence[str]) -> pd.MultiIndex:
    """The rows' keys as an index (built once where a table is joined several times)."""
    return pd.MultiIndex.from_frame(table[list(key)])


def _unique(index: pd.MultiIndex, what: str) -> pd.MultiIndex:
    if not index.is_unique:
        raise ValueError(f"{what} has a key more than once")
    return index


def left_join(table: pd.DataFrame, part: pd.DataFrame, key: Sequence[str],
              index: pd.MultiIndex | None = None) -> pd.DataFrame:
    """``table.merge(part, on=key, how="left", validate="many_to_one")``: ``table`` with
    ``part``'s other columns by ``key`` (missing where ``part`` has no row; ``part`` must have
    one row per key), the rows in their order. ``index``: :func:`key_index` of ``table`` if
    built already. A look-up of the keys (``get_indexer``, then ``reindex`` by position)
    instead of ``merge``, which costs six times as much on 300,000 rows of text keys."""
    index = key_index(table, key) if index is None else index
    at = _unique(key_index(part, key), "the joined part").get_indexer(index)
    added = part.drop(columns=list(key)).reset_index(drop=True).reindex(at)
    added = added.reset_index(drop=True)
    return table.reset_index(drop=True).assign(**{c: added[c] for c in added.columns})


def replace_rows(table: pd.DataFrame, new: pd.DataFrame, key: Sequence[str],
                 carried: Sequence[str]) -> pd.DataFrame:
    """``table`` without the rows whose key ``new`` has, then ``new``'s rows with the columns
    ``carried`` taken from the rows they replace (missing where they replace none)."""
    t_index = _unique(key_index(table, key), "the table")
    at = t_index.get_indexer(_unique(key_index(new, key), "the new rows"))
    replaced = np.zeros(len(table), dtype=bool)
    replaced[at[at >= 0]] = True
    rows = table.reset_index(drop=True)
    merged = new.reset_index(drop=True).assign(
        **{c: rows[c].reindex(at).to_numpy() for c in carried})
    return pd.concat([rows.loc[~replaced].reset_index(drop=True), merged], ignore_index=True)


def text_order(codes: np.ndarray, values: np.ndarray) -> pd.Categorical:
    """A text column given as codes (-1: missing) and distinct values, as a sort key: its
    values in text order, missing last."""
    categories = np.asarray(values, dtype=object)
    column = pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64),
                                       categories=pd.Index(categories, dtype=object))
    return column.reorder_categories(sorted(categories.tolist()), ordered=True)


def sort_order(keys: dict[str, object]) -> np.ndarray:
    """The positions of the rows sorted by the ``keys`` columns (first: primary; missing
    last; equal keys in their order)."""
    frame = pd.DataFrame(keys)
    order = frame.sort_values(list(frame.columns), kind="stable", na_position="last").index
    return np.asarray(order, dtype=np.int64)


def repeated_rows(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Rows whose values in ``columns`` occur more than once."""
    return np.asarray(frame.duplicated(list(columns), keep=False), dtype=bool)


#: A text column as numbers: each row's code (-1: missing) and the distinct values
#: (``pd.factorize``).
Coded = tuple[np.ndarray, np.ndarray]


def factorize(col: pd.Series) -> Coded:
    """Codes (-1: missing) and distinct values of a column (``pd.factorize``)."""
    codes, uniques = pd.factorize(col)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object)


def coded_isin(coded: Coded, wanted: Collection[str]) -> np.ndarray:
    """Rows whose value is one of ``wanted`` (never a missing one), each distinct value
    looked up once."""
    codes, uniques = coded
    return np.take(np.append(np.isin(uniques, list(wanted)), False), codes)
