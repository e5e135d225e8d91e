"""Disclosure control (tryg.index.disclosure) on small tables whose answer is known by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from support.frames import tuples
from tryg.index import load_spec
from tryg.index.disclosure import (
    N_WITHHELD,
    POOLED_WITHHELD,
    PREV_WITHHELD,
    REST_WITHHELD,
    SECONDARY,
    protect,
)
from tryg.index.hierarchy import Hierarchy, build_hierarchy
from tryg.index.inputs import Areas
from tryg.index.results import conform, public_view
from tryg.index.spec import Spec

SPEC = load_spec("dk-tryghedsindeks")


def hierarchy(children: dict[str, list[str]]) -> Hierarchy:
    """K → districts → neighbourhoods, from {district: [neighbourhoods]}."""
    rows: list[tuple[str, str, str, str | None]] = [("K", "Kommune", "kommune", None)]
    for d, kids in children.items():
        rows.append((d, d, "bydel", "K"))
        rows += [(k, k, "nabolag", d) for k in kids]
    areas = pd.DataFrame([r[:3] for r in rows], columns=["code", "name", "level"])
    links = pd.DataFrame([(r[0], r[3], np.nan, np.nan) for r in rows if r[3]],
                         columns=["code", "parent", "valid_from", "valid_to"])
    hier, problems = build_hierarchy(Areas(areas, links))
    assert hier is not None, problems
    return hier


def table(rows: list[dict[str, Any]], hier: Hierarchy) -> pd.DataFrame:
    base = {"estimate": 1.0, "se": 0.1, "ci_low": 0.8, "ci_high": 1.2, "n_eff": 10.0,
            "method": "register", "change_prev": np.nan, "p_prev": np.nan, "sig_prev": pd.NA,
            "change_pooled": np.nan, "sig_pooled": pd.NA, "diff_parent_rest": np.nan,
            "sig_parent_rest": pd.NA, "band": None, "suppressed": False, "flags": "",
            "spec_id": SPEC.id, "spec_hash": SPEC.hash}
    full = []
    for r in rows:
        row = {**base, **r}
        row["area_name"] = row["area_code"]
        row["level"] = hier.level[row["area_code"]]
        full.append(row)
    return conform(pd.DataFrame(full))


def counts(values: dict[str, int], wave: int = 2020,
           measure: str = "anmeldelser_vold") -> list[dict[str, Any]]:
    return [{"area_code": a, "wave": wave, "measure": measure, "n": n,
             "flags": "small_count" if n <= 4 else ""} for a, n in values.items()]


def hidden_counts(t: pd.DataFrame) -> set[str]:
    pub = public_view(t, SPEC)
    return {r.area_code for r in tuples(pub)
            if r.n_display is None or str(r.n_display).startswith("<")}


def test_one_small_count_gets_the_smallest_sibling_as_its_complement() -> None:
    hier = hierarchy({"D1": ["a", "b", "c"], "D2": ["d", "e"]})
    t = table(counts({"K": 80, "D1": 40, "a": 2, "b": 30, "c": 8, "D2": 40, "d": 20,
                      "e": 20}), hier)
    out = protect(t, SPEC, hier)
    # a is small; D1 = a + b + c: c (8) is cheaper to hide than b (30) or D1 (40)
    assert hidden_counts(out) == {"a", "c"}
    c_row = out[out["area_code"] == "c"].iloc[0]
    assert bool(c_row["suppressed"]) and SECONDARY in c_row["flags"]
    pub = public_view(out, SPEC)
    c_pub = pub[pub["area_code"] == "c"].iloc[0]
    assert pd.isna(c_pub["estimate"]) and c_pub["n_display"] is None


def test_a_relation_with_no_hidden_cell_is_left_alone() -> None:
    hier = hierarchy({"D1": ["a", "b"]})
    t = table(counts({"K": 60, "D1": 60, "a": 30, "b": 30}), hier)
    out = protect(t, SPEC, hier)
    assert hidden_counts(out) == set()
    assert list(out["flags"]) == [""] * 4


def test_two_small_counts_at_their_upper_bound_are_not_left_pinned() -> None:
    # a and b hidden as "< 5" but D1 − c = 8 = 4 + 4 would pin both at 4
    hier = hierarchy({"D1": ["a", "b", "c"]})
    t = table(counts({"K": 20, "D1": 20, "a": 4, "b": 4, "c": 12}), hier)
    out = protect(t, SPEC, hier)
    assert hidden_counts(out) >= {"a", "b"}
    assert len(hidden_counts(out)) >= 3


def test_equal_sample_sizes_of_one_area_share_their_fate() -> None:
    # tryghed_* share the question's base: hiding one n hides the others too
    hier = hierarchy({"D1": ["a", "b", "c"]})
    rows = []
    for m in ("tryghed_trygge", "tryghed_hverken", "tryghed_utrygge"):
        rows += [{"area_code": a, "wave": 2020, "measure": m, "n": n, "method": "direct",
                  "suppressed": n < 50, "estimate": 0.3}
                 for a, n in {"K": 400, "D1": 400, "a": 40, "b": 160, "c": 200}.items()]
    out = protect(table(rows, hier), SPEC, hier)
    pub = public_view(out, SPEC)
    b = pub[pub["area_code"] == "b"]
    assert set(b["n_display"].isna()) == {True}  # b's n is withheld for every measure
    assert all(N_WITHHELD in f for f in out[out["area_code"] == "b"]["flags"])
    assert b["estimate"].notna().all()  # only the n: the estimates protect nothing


def test_comparisons_with_a_hidden_side_are_withheld() -> None:
    hier = hierarchy({"D1": ["a", "b", "c"]})
    rows = []
    for w, n_a in ((2019, 80), (2020, 30), (2021, 80), (2022, 80), (2023, 80)):
        for a, n in {"K": 400, "D1": 400, "a": n_a, "b": 160, "c": 160}.items():
            rows.append({"area_code": a, "wave": w, "measure": "tryghed_trygge", "n": n,
                         "method": "direct", "suppressed": n < 50, "estimate": 0.8,
                         "change_prev": 0.01 if w > 2019 else np.nan,
                         "change_pooled": 0.02 if w >= 2022 else np.nan,
                         "diff_parent_rest": 0.03 if a in "abc" else np.nan})
    out = protect(table(rows, hier), SPEC, hier)

    def flags(a: str, w: int) -> str:
        return str(out[(out["area_code"] == a) & (out["wave"] == w)]["flags"].iloc[0])

    assert PREV_WITHHELD in flags("a", 2021)  # its previous wave is hidden
    assert PREV_WITHHELD not in flags("a", 2022)
    assert POOLED_WITHHELD in flags("a", 2022) and POOLED_WITHHELD in flags("a", 2023)
    assert REST_WITHHELD not in flags("b", 2020)  # the rest holds c, published
    pub = public_view(out, SPEC)
    row = pub[(pub["area_code"] == "a") & (pub["wave"] == 2021)].iloc[0]
    assert pd.isna(row["change_prev"]) and pd.isna(row["p_prev"])
    assert row["estimate"] == pytest.approx(0.8)


def test_the_rest_of_a_parent_with_one_hidden_sibling_is_withheld() -> None:
    hier = hierarchy({"D1": ["a", "b"]})
    rows = [{"area_code": a, "wave": 2020, "measure": "tryghed_trygge", "n": n,
             "method": "direct", "suppressed": n < 50, "estimate": 0.8,
             "diff_parent_rest": 0.03 if a in "ab" else np.nan}
            for a, n in {"K": 200, "D1": 200, "a": 30, "b": 170}.items()]
    out = protect(table(rows, hier), SPEC, hier)
    b = out[out["area_code"] == "b"].iloc[0]
    assert REST_WITHHELD in b["flags"]  # b − its rest = a, hidden


def test_a_composite_with_one_hidden_component_is_withheld(spec: Spec = SPEC) -> None:
    hier = hierarchy({"D1": ["a"]})
    rows = [{"area_code": "a", "wave": 2020, "measure": m, "n": n, "method": meth,
             "suppressed": False, "estimate": 50.0, "flags": flag}
            for m, n, meth, flag in (
                ("nabolagsproblemer", 80, "direct", ""), ("oplevet_tryghed", 80, "direct", ""),
                ("anmeldelser", 3, "register", "small_count"),
                ("tryghedsindeks", 80, "composite", ""))]
    out = protect(table(rows, hier), spec, hier)
    comp = out[out["measure"] == "tryghedsindeks"].iloc[0]
    assert bool(comp["suppressed"]) and SECONDARY in comp["flags"]
    pub = public_view(out, spec)
    assert pd.isna(pub[pub["measure"] == "tryghedsindeks"]["estimate"].iloc[0])
    # its n protects nothing and stays
    assert pub[pub["measure"] == "tryghedsindeks"]["n_display"].iloc[0] == "80"


def test_a_model_based_estimate_shows_its_sample_only_as_below_the_minimum() -> None:
    hier = hierarchy({"D1": ["a", "b", "c"]})
    rows = [{"area_code": a, "wave": 2020, "measure": "tryghed_trygge", "n": n,
             "method": "model" if n < 50 else "direct",
             "flags": "model_based" if n < 50 else "", "estimate": 0.8}
            for a, n in {"K": 400, "D1": 400, "a": 30, "b": 170, "c": 200}.items()]
    out = protect(table(rows, hier), SPEC, hier)
    pub = public_view(out, SPEC)
    shown = dict(zip(pub["area_code"], pub["n_display"], strict=True))
    assert shown["a"] == "< 50"
    assert shown["b"] is None  # the smallest sibling protects a's sample size
    assert shown["c"] == "200" and shown["K"] == "400"
