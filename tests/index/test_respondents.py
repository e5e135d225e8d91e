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


def test_sorted_answers_as_a_duplicate_search_finds_them() -> None:
    # sorted by wave and id (the comparison with the row before), nearly sorted (a repeat, a
    # step back, a missing id: numbered instead) and ids of objects: the same rows as
    # ``duplicated``
    frames: list[tuple[list[str | None], list[int]]] = [
        (["a", "b", "c", "a", "b"], [2019, 2019, 2019, 2020, 2020]),
        (["a", "b", "b", "a", "c"], [2019, 2019, 2019, 2020, 2020]),
        (["b", "a", "c", "a", "b"], [2019, 2019, 2019, 2020, 2020]),
        (["a", None, "c", None, "b"], [2019, 2019, 2019, 2020, 2020]),
        (["a", "c", "b", "a", "a"], [2019, 2020, 2019, 2020, 2020]),
    ]
    for ids, waves in frames:
        for column in (pd.array(ids, dtype="str"), np.array(ids, dtype=object)):
            frame = pd.DataFrame({"respondent_id": column, "wave": waves})
            want = frame.duplicated(["wave", "respondent_id"], keep=False).to_numpy()
            np.testing.assert_array_equal(_repeated_answers(frame), want)
