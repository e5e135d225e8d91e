"""Table operations of an index run, with pandas' own operations.

The run joins its parts on the key ``area_code × wave × measure``, replaces the direct rows of
small areas by model-based ones, and sorts the final table. These are plain pandas here
(key columns numbered with ``pd.factorize``, the keys as one number per row looked up with
``Index.get_indexer``, ``reindex``, ``Categorical`` sort keys): they lean on
no pandas internals (Arrow buffers, extension-array ``take``), so they mean the same in every
pandas version the project supports (``pyproject.toml``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd

#: A column as numbers: each row's code (-1: missing) and the distinct values
#: (``pd.factorize``).
Coded = tuple[np.ndarray, np.ndarray]


def factorize(col: pd.Series) -> Coded:
    """Codes (-1: missing) and distinct values of a column (``pd.factorize``)."""
    codes, uniques = pd.factorize(col)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object)


def _unique(number: np.ndarray, what: str) -> pd.Index:
    index: pd.Index = pd.Index(number)
    if not index.is_unique:
        raise ValueError(f"{what} has a key more than once")
    return index


def left_join(table: pd.DataFrame, part: pd.DataFrame, key: Sequence[str],
              codes: Mapping[str, Coded] | None = None) -> pd.DataFrame:
    """``table.merge(part, on=key, how="left", validate="many_to_one")``: ``table`` with
    ``part``'s other columns by ``key`` (missing where ``part`` has no row; ``part`` must have
    one row per key), the rows in their order. ``codes``: ``table``'s key columns as
    :func:`factorize` gives them, if numbered already. A look-up of the keys as numbers
    (``get_indexer``, then ``reindex`` by position) instead of ``merge``, which costs six
    times as much on 300,000 rows of text keys."""
    t_number, p_number, _ = _numbered_keys(table, part, key, codes or {})
    at = _unique(p_number, "the joined part").get_indexer(pd.Index(t_number))
    added = part.drop(columns=list(key)).reset_index(drop=True).reindex(at)
    added = added.reset_index(drop=True)
    return table.reset_index(drop=True).assign(**{c: added[c] for c in added.columns})


def replace_rows(table: pd.DataFrame, new: pd.DataFrame, key: Sequence[str],
                 carried: Sequence[str], codes: Mapping[str, Coded] | None = None
                 ) -> tuple[pd.DataFrame, dict[str, Coded]]:
    """``table`` without the rows whose key ``new`` has, then ``new``'s rows with the columns
    ``carried`` taken from the rows they replace (missing where they replace none); and the
    result's key columns as codes (as ``codes``, ``table``'s if numbered already: each
    column's codes and distinct values, which may hold a value no row has any more)."""
    t_number, n_number, coded = _numbered_keys(table, new, key, codes or {})
    at = _unique(t_number, "the table").get_indexer(_unique(n_number, "the new rows"))
    replaced = np.zeros(len(table), dtype=bool)
    replaced[at[at >= 0]] = True
    rows = table.reset_index(drop=True)
    merged = new.reset_index(drop=True).assign(
        **{c: rows[c].reindex(at).to_numpy() for c in carried})
    out = pd.concat([rows.loc[~replaced].reset_index(drop=True), merged], ignore_index=True)
    kept = {c: (np.concatenate([t[~replaced], n]), u) for c, (t, n, u) in coded.items()}
    return out, kept


def _numbered_keys(table: pd.DataFrame, other: pd.DataFrame, key: Sequence[str],
                   codes: Mapping[str, Coded]
                   ) -> tuple[np.ndarray, np.ndarray, dict[str, tuple[np.ndarray, np.ndarray,
                                                                      np.ndarray]]]:
    """The keys of ``table``'s and ``other``'s rows as numbers (equal numbers: equal keys;
    a missing value is a value of its own), and per key column the codes of both and their
    distinct values."""
    coded = {}
    t_number = np.zeros(len(table), dtype=np.int64)
    o_number = np.zeros(len(other), dtype=np.int64)
    for c in key:
        t_codes, uniques = codes.get(c) or factorize(table[c])
        o_codes, uniques = extend_codes(other[c], uniques)
        coded[c] = (t_codes, o_codes, uniques)
        t_number = t_number * (len(uniques) + 1) + t_codes + 1
        o_number = o_number * (len(uniques) + 1) + o_codes + 1
    return t_number, o_number, coded


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


def extend_codes(col: pd.Series, uniques: np.ndarray) -> Coded:
    """Codes of a column's values among ``uniques`` (-1: missing), the values not among them
    added after them in order of appearance: what :func:`factorize` gives for the values
    ``uniques`` came from followed by ``col``. Each column is numbered in its own dtype (a
    text column of Arrow strings and one of objects together would be objects, slower)."""
    codes, values = factorize(col)
    at = pd.Index(uniques, dtype=object).get_indexer(pd.Index(values, dtype=object))
    unseen = at < 0
    at[unseen] = len(uniques) + np.arange(int(unseen.sum()))
    return np.append(at, -1)[codes], np.concatenate([np.asarray(uniques, dtype=object),
                                                     values[unseen]])


def coded_isin(coded: Coded, wanted: Collection[str]) -> np.ndarray:
    """Rows whose value is one of ``wanted`` (never a missing one), each distinct value
    looked up once."""
    codes, uniques = coded
    return np.take(np.append(np.isin(uniques, list(wanted)), False), codes)
