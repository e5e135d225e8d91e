"""The formula in words: complete (every id and number), bilingual, and tied to the spec."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tryg.index.catalog import load_spec, shipped_specs, shipped_text
from tryg.index.explain import _Lang, explain, window_text
from tryg.index.spec import RegisterMeasure, Spec, Text, parse_spec

CUSTOM = """
[spec]
id = "test-spec"
version = "2.3"
title = { da = "Prøveindeks", en = "Test index" }
description = { da = "Et indeks til prøver.", en = "An index for tests." }

[[items]]
id = "q_safe"
text = { da = "Hvor tryg er du?", en = "How safe are you?" }
scale = [0, 10]
safe_end = "high"
dont_know = [97, 98]
categories = { lav = [0, 3], midt = [4, 6], hoej = [7, 10] }
column = "Q12"

[[items]]
id = "q_noise"
text = { da = "Larm?", en = "Noise?" }
scale = [1, 4]
safe_end = "low"

[[measures]]
id = "m_share"
label = { da = "Andel høj", en = "Share high" }
kind = "share"
item = "q_safe"
category = "hoej"
headline = true
bands = [40, 60]

[[measures]]
id = "m_mean"
label = { da = "Gennemsnitlig larm", en = "Mean noise" }
kind = "mean"
item = "q_noise"
higher_is_safer = false

[[register]]
id = "r_theft"
label = { da = "Tyveri", en = "Theft" }
offences = ["Theft", "Burglary"]
per = 10000
window_quarters = 6
window_end = 2
smoothing = "none"

[[register]]
id = "r_all"
label = { da = "Alt", en = "All" }
offences = ["Penal Code, total"]

[[subindices]]
id = "s_items"
label = { da = "Delindeks A", en = "Sub-index A" }
source = "items"
items = ["q_safe", "q_noise"]
min_items = 2
bands = [33, 66]

[[subindices]]
id = "s_anchor"
label = { da = "Delindeks B", en = "Sub-index B" }
source = "register"
register = "r_theft"
transform = "anchored"
anchors = [2.5, 97.5]

[[subindices]]
id = "s_base"
label = { da = "Delindeks C", en = "Sub-index C" }
source = "register"
register = "r_all"
transform = "base_year"
base_wave = 2019

[composite]
id = "c_total"
label = { da = "Samlet", en = "Total" }
transform = "weighted_mean"
weights = { s_items = 2, s_anchor = 1, s_base = 1 }
bands = [45, 55]

[comparisons]
alpha = 0.1
pooled_waves = 2
parent_rest = false

[publication]
min_n = 37
uncertain_n = 83
small_count = 3

[small_area]
enabled = true
below_n = 41
method = "ML"
measures = ["m_share"]
covariates = ["r_theft", "population"]

[gap]
enabled = true
survey_measure = "m_share"
register_measure = "r_theft"
level = "district"

[calibration]
level = "kommune"
variables = ["sex", "age_group"]
"""


def fmt(x: float, language: str) -> str:
    """Numbers as each language writes them: 1.000 / 1,000 and 2,5 / 2.5 (independent of the
    module's own formatter)."""
    if float(x).is_integer():
        text = f"{int(x):,}"
        return text.replace(",", ".") if language == "da" else text
    text = repr(float(x))
    return text.replace(".", ",") if language == "da" else text


def spec_numbers(spec: Spec, language: str) -> list[str]:
    """Every number of the spec, as it must appear in the text."""
    nums: list[float] = []
    for it in spec.items:
        nums += [*it.scale, *it.dont_know]
        nums += [b for _, bounds in it.categories for b in bounds]
    for m in spec.measures:
        nums += list(m.bands)
    for r in spec.register:
        nums += [r.per, r.window_quarters, r.window_end]
    for s in spec.subindices:
        nums += list(s.bands)
        if s.transform == "anchored":
            nums += list(s.anchors)
        if s.base_wave is not None:
            nums.append(s.base_wave)
        if len(s.items) > 1:
            nums.append(s.min_items)
    if spec.composite is not None:
        nums += [w for _, w in spec.composite.weights] + list(spec.composite.bands)
    p = spec.publication
    nums += [p.min_n, p.uncertain_n, p.small_count, p.small_count + 1]
    nums.append(spec.comparisons.pooled_waves)
    if spec.small_area.enabled:
        nums.append(spec.small_area.below_n)
    out = [str(int(n)) if n in {s.base_wave for s in spec.subindices} else fmt(n, language)
           for n in nums]
    alpha = 100 * spec.comparisons.alpha
    return [*out, f"{fmt(round(alpha, 1), language)} %", spec.version]


def all_specs() -> list[Spec]:
    return [*(load_spec(s) for s in shipped_specs()), parse_spec(CUSTOM)]


def contains_number(text: str, number: str) -> bool:
    return re.search(rf"(?<![\d]){re.escape(number)}(?![\d])", text) is not None


@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.id)
def test_every_id_and_number_appears(spec: Spec, language: str) -> None:
    text = explain(spec, language)
    ids = [i.id for i in spec.items] + [m.id for m in spec.measures]
    ids += [r.id for r in spec.register] + [s.id for s in spec.subindices]
    ids += [spec.id] + ([spec.composite.id] if spec.composite else [])
    for i in ids:
        assert f"`{i}`" in text, i
    for number in spec_numbers(spec, language):
        assert contains_number(text, number), (number, language)
    assert spec.hash in text
    assert spec.title.get(language) in text and spec.description.get(language) in text
    for it in spec.items:
        assert it.text.get(language) in text
    labelled: list[Any] = [*spec.measures, *spec.register, *spec.subindices]
    for m in labelled:
        assert m.label.get(language) in text


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.id)
def test_the_languages_differ_and_danish_is_danish(spec: Spec) -> None:
    da, en = explain(spec, "da"), explain(spec, "en")
    assert da != en
    assert re.search("[æøå]", da)
    assert "Spørgsmål" in da and "Questions" in en
    assert "Offentliggørelse" in da and "Publication" in en
    assert explain(spec) == da  # Danish is the default


def test_a_changed_weight_changes_the_text() -> None:
    text = shipped_text("dk-tryghedsindeks")
    changed = text.replace("{ nabolagsproblemer = 1,", "{ nabolagsproblemer = 2,")
    assert changed != text
    before, after = explain(load_spec(text), "en"), explain(load_spec(changed), "en")
    assert before != after
    assert "`nabolagsproblemer`: weight 1 = 33.3 %" in before
    assert "`nabolagsproblemer`: weight 2 = 50 %" in after
    assert "`oplevet_tryghed`: weight 1 = 25 %" in after


def test_the_danish_model_in_detail() -> None:
    en = explain(load_spec("dk-tryghedsindeks"), "en")
    da = explain(load_spec("dk-tryghedsindeks"), "da")
    assert "from Q4 of the year before to Q3 of the wave year" in en
    assert "fra 4. kvartal året før til 3. kvartal i bølgeåret" in da
    assert "per 1,000 residents of that year" in en and "pr. 1.000 indbyggere" in da
    assert "score = 100 × (150 − rate)/(150 − 0), clipped to 0–100" in en
    assert "`problem_trusler`: 100 × (5 − answer)/(5 − 1)" in en
    assert "don't know (8) and missing answers are left out" in en
    assert "`anmeldelser_straffelov_eb`" in en and "empirical Bayes" in en
    assert "α = 5 %" in en and "the confidence intervals are 95 %" in en
    assert "Change from the 3 earlier waves pooled" in en
    assert "rest of its parent area" in en
    assert "fewer than 50 answers (n < 50) are suppressed" in en
    assert "fewer than 100 answers (n < 100) are flagged as uncertain" in en
    assert "4 or less are shown as “< 5”" in en
    assert "Fay–Herriot model, fitted by REML" in en
    assert "raked to the population margins at the level kommune by `sex`, `age_group`" in en
    assert "the safe end is 1" in en
    assert "Categories: trygge = 1–3, hverken = 4, utrygge = 5–7." in en


def test_base_year_formulas_follow_the_direction_of_value_and_index() -> None:
    rotterdam = explain(load_spec("rotterdam-wijkprofiel"), "en")
    # offences point against a higher-is-safer index: inverted; the survey half is not
    assert "from the rate of `registreret_kriminalitet`: index = 100 × (2 − rate/base)" in rotterdam
    assert "index = 100 × value/base, where base is the top area's value in the base year 2014" \
        in rotterdam
    amsterdam = explain(load_spec("separate-indices"), "en")
    assert "from the rate of `kriminalitet`: index = 100 × rate/base" in amsterdam
    assert "index = 100 × (2 − value/base)" in amsterdam and "a lower index is safer" in amsterdam
    assert "No composite (`ingen`" in amsterdam
    assert "Bands: below 70, 70–90, 90–110, 110 and above." in rotterdam


def test_the_custom_spec_in_detail() -> None:
    spec = parse_spec(CUSTOM)
    en, da = explain(spec, "en"), explain(spec, "da")
    assert "the safe end is 10" in en and "Column in the data: `Q12`" in en
    assert "`q_safe`: 100 × (answer − 0)/(10 − 0)" in en
    assert "per 10,000 residents" in en and "pr. 10.000 indbyggere" in da
    assert "from Q1 of the year before to Q2 of the wave year" in en
    assert "(2.5 − " not in en and "100 × (97.5 − rate)/(97.5 − 2.5)" in en
    assert "100 × (97,5 − rate)/(97,5 − 2,5)" in da
    assert "at least 2 of the 2 items" in en
    assert "α = 10 %" in en and "90 %" in en
    assert "No comparison with the rest of the parent area." in en
    assert "`s_items`: weight 2 = 50 %" in en and "`s_items`: vægt 2 = 50 %" in da
    assert "fitted by ML" in en and "Covariates: `r_theft`, `population`" in en
    assert "at the level district" in en
    assert "don't know (97, 98)" in en
    assert "shown as “< 4”" in en
    assert "Lower is safer." in en and "Headline measure." in en


@pytest.mark.parametrize(
    ("quarters", "end", "en"),
    [
        (4, 3, "from Q4 of the year before to Q3 of the wave year"),
        (4, 4, "from Q1 to Q4 of the wave year"),
        (1, 2, "from Q2 to Q2 of the wave year"),
        (8, 4, "from Q1 of the year before to Q4 of the wave year"),
        (9, 1, "from Q1 2 years before to Q1 of the wave year"),
    ],
)
def test_window_in_words(quarters: int, end: int, en: str) -> None:
    m = RegisterMeasure("r", Text("r", "r"), ("x",), window_quarters=quarters, window_end=end)
    assert window_text(m, _Lang("en")) == en


def test_numbers_in_each_language() -> None:
    da, en = _Lang("da"), _Lang("en")
    assert (da.num(1000), en.num(1000)) == ("1.000", "1,000")
    assert (da.num(0.25), en.num(0.25)) == ("0,25", "0.25")
    assert (da.pct(1 / 3), en.pct(0.05)) == ("33,3 %", "5 %")


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="language"):
        explain(load_spec("dk-tryghedsindeks"), "de")
