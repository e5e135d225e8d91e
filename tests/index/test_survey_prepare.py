"""tryg.index.survey.prepare: the design's stratum column (wave × sampling stratum)."""

from __future__ import annotations

import pandas as pd

from tryg.index import load_spec
from tryg.index.hierarchy import build_hierarchy
from tryg.index.inputs import SurveyInput
from tryg.index.survey import prepare

from .synthetic import make


def test_the_design_stratum_is_wave_bar_stratum_in_text_order() -> None:
    """Categorical, its categories the labels in text order (the order the design numbers
    strata in), every row's label its wave and stratum."""
    survey, _register, _population, areas = make()
    hier, _ = build_hierarchy(areas)
    assert hier is not None
    frame, _cols, _codes = prepare(load_spec("dk-tryghedsindeks"), survey, hier)
    stratum = frame["_stratum"]
    assert isinstance(stratum.dtype, pd.CategoricalDtype)
    labels = list(stratum.cat.categories)
    assert labels == sorted(labels)
    responses = survey.responses  # no stratum column: the area is the stratum
    expected = responses["wave"].astype(str) + "|" + responses["area_code"].astype(str)
    assert stratum.astype(str).tolist() == expected.tolist()


def test_a_missing_stratum_keeps_the_text_column() -> None:
    """Labels that coincide cannot be categories: the column stays text, as it was."""
    survey, _register, _population, areas = make()
    hier, _ = build_hierarchy(areas)
    assert hier is not None
    responses = survey.responses.assign(stratum=survey.responses["area_code"])
    responses.loc[responses.index[0], "stratum"] = None
    frame, _cols, _codes = prepare(load_spec("dk-tryghedsindeks"), SurveyInput(responses), hier)
    assert not isinstance(frame["_stratum"].dtype, pd.CategoricalDtype)
    assert frame["_stratum"].notna().all()
