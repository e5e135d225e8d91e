"""tryg.index.inputs: the look-up of area codes among the known ones."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tryg.index.inputs import unknown


def test_unknown_codes_are_the_same_for_arrow_and_object_text() -> None:
    """Arrow-backed text is looked up by Arrow's hash set, other text by numbering it: both
    call a missing code unknown."""
    codes = ["0101", "9999", None, "x", "0101", ""]
    known = {"0101", "9999"}
    expected = np.array([False, False, True, True, False, True])
    for dtype in ("str", object):
        assert np.array_equal(unknown(pd.Series(codes, dtype=dtype), known), expected)
