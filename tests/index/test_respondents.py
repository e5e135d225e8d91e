"""tryg.index.respondents: repeated respondents are found per wave, as a duplicate search
over the two columns finds them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tryg.index.respondents import _repeated_answers


def test_repeated_answers_match_duplicated() -> None:
    frame = pd.DataFrame({
        "respondent_id": pd.array(["a", "b", "a", "c", None, None, "b", "d"], dtype="str"),
        "wave": [2019, 2019, 2020, 2020, 2019, 2019, 2019, 2020],
    })
    want = frame.duplicated(["wave", "respondent_id"], keep=False).to_numpy()
    np.testing.assert_array_equal(_repeated_answers(frame), want)
    assert _repeated_answers(frame).tolist() == [False, True, False, False, True, True, True,
                                                 False]


def test_distinct_ids_repeat_nothing() -> None:
    frame = pd.DataFrame({"respondent_id": pd.array(["a", "b"], dtype="str"),
                          "wave": [2019, 2019]})
    assert not _repeated_answers(frame).any()
