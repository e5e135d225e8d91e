"""Deterministic, fictional demo data for tryg (``tryg demo-data``).

:func:`generate` builds a demo data set in memory from a known true model (pure, for tests);
:func:`write_demo_data` writes it as files. Everything is fictional: not real persons or crimes.
"""

from tryg.demo.files import write_demo_data, write_files
from tryg.demo.model import SIZES, STATEMENT, DemoData, TrueModel, generate

__all__ = [
    "SIZES",
    "STATEMENT",
    "DemoData",
    "TrueModel",
    "generate",
    "write_demo_data",
    "write_files",
]
