"""The CSV variant for Excel in a Danish locale: ";" between fields, decimal comma, UTF-8 with a
byte-order mark, the same formula neutralisation as the plain CSV, and the same numbers."""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pandas as pd
import pytest

from tryg.exports import csv_bytes
from tryg.exports.formats import from_bytes

BOM = b"\xef\xbb\xbf"
#: A plain number with a decimal comma, as Danish Excel reads it (not a formula).
DANISH_NUMBER = re.compile(r"[+-]?([0-9]+,?[0-9]*|,[0-9]+)([eE][+-]?[0-9]+)?")


def _table(formula_texts: tuple[str, ...]) -> pd.DataFrame:
    names = ["Nørresundby; Øst", "Æbeltoft \"gamle\"", "Vester Hassing\nby", *formula_texts]
    size = len(names)
    return pd.DataFrame({
        "area_name": pd.Series(names, dtype=object),
        "estimate": pd.Series([0.1 + 0.2, -1.39, 1e-300, np.nan, 123456.789, 2.0, -0.5,
                               0.125, 7.0][:size], dtype="float64"),
        "n": pd.Series(list(range(size)), dtype="Int64"),
        "sig": pd.Series([True, False, None, True, False, None, True, False, True][:size],
                         dtype="boolean"),
        "flags": pd.Series(["small_count;uncertain", "", "secondary"] + [""] * (size - 3),
                           dtype=object),
    })


def test_the_excel_variant_reads_back_as_the_plain_csv(formula_texts: tuple[str, ...]) -> None:
    table = _table(formula_texts)
    plain = csv_bytes(table)
    excel = csv_bytes(table, sep=";", decimal=",", bom=True)
    assert excel.startswith(BOM) and not plain.startswith(BOM)
    assert "Nørresundby; Øst".encode() in excel  # æøå as UTF-8, not a legacy code page
    assert b"0,30000000000000004" in excel and b"-1,39" in excel
    assert b"0.30000000000000004" not in excel
    read = pd.read_csv(io.BytesIO(excel), sep=";", decimal=",", encoding="utf-8-sig")
    base = pd.read_csv(io.BytesIO(plain))
    assert list(read.columns) == list(table.columns)
    pd.testing.assert_frame_equal(read, base)
    assert read["estimate"].tolist()[:3] == [0.1 + 0.2, -1.39, 1e-300]  # full precision
    assert read["area_name"].tolist()[:3] == ["Nørresundby; Øst", 'Æbeltoft "gamle"',
                                              "Vester Hassing\nby"]


def test_the_excel_variant_neutralises_formulas(formula_texts: tuple[str, ...]) -> None:
    excel = csv_bytes(_table(formula_texts), sep=";", decimal=",", bom=True)
    rows = list(csv.reader(io.StringIO(excel.decode("utf-8-sig"), newline=""), delimiter=";"))
    cells = [c for row in rows for c in row]
    risky = [c for c in cells
             if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not DANISH_NUMBER.fullmatch(c)]
    assert risky == []
    assert {"'" + t for t in formula_texts} <= set(cells)
    # and the plain reader takes the quotes off again, as for the plain CSV
    plain_rows = from_bytes(csv_bytes(_table(formula_texts)), "csv")
    assert plain_rows["area_name"].tolist()[3:] == list(formula_texts)


def test_the_plain_csv_is_unchanged_and_both_are_deterministic(
        formula_texts: tuple[str, ...]) -> None:
    table = _table(formula_texts)
    assert csv_bytes(table) == csv_bytes(table, sep=",", decimal=".", bom=False)
    assert csv_bytes(table, sep=";", decimal=",", bom=True) == \
        csv_bytes(table.copy(), sep=";", decimal=",", bom=True)
    with pytest.raises(ValueError, match="must differ"):
        csv_bytes(table, sep=",", decimal=",")
