"""Rows of a pandas table for tests that read them field by field.

pandas-stubs types every field of ``itertuples()`` as any scalar (str, date, NA, ...), which
no arithmetic accepts; the tables of these tests have known columns, so their rows are ``Any``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd


def tuples(frame: pd.DataFrame) -> Iterator[Any]:
    """``frame.itertuples()`` (with the index), each row typed ``Any``."""
    return iter(frame.itertuples())
