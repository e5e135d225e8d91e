"""Figures for reading on a page: shares as percentages with one decimal, other estimates
with two, in the page's language (a decimal comma in Danish). Downloads keep every digit."""

from __future__ import annotations

import math
from typing import Any

from django.utils.formats import number_format

from tryg.index.spec import Spec

#: What a results row shows on the run's page, besides the rounded figures.
ROW_FIELDS = ("area_code", "area_name", "level", "wave", "measure", "estimate", "se",
              "ci_low", "ci_high", "n", "n_display", "n_eff", "method", "band", "suppressed",
              "flags")


def figure(value: Any, *, share: bool) -> str:
    """``value`` rounded for reading: ``0.8870712`` of a share is "88.7 %"; "–" for none."""
    if value is None:
        return "–"
    number = float(value)
    if math.isnan(number):
        return "–"
    # rounded here: number_format cuts the digits off a float, it does not round
    if share:
        return f"{number_format(round(number * 100, 1), 1, use_l10n=True)} %"
    return str(number_format(round(number, 2), 2, use_l10n=True))


def round_rows(rows: list[Any], spec: Spec) -> list[dict[str, Any]]:
    """Result rows (model instances or dicts) as dicts with ``*_text`` figures added."""
    shares = {m.id for m in spec.measures if m.kind == "share"}
    out = []
    for row in rows:
        data = dict(row) if isinstance(row, dict) else {
            f: getattr(row, f, None) for f in ROW_FIELDS}
        share = data.get("measure") in shares
        for column in ("estimate", "se", "ci_low", "ci_high"):
            data[f"{column}_text"] = figure(data.get(column), share=share)
        n_eff = data.get("n_eff")
        data["n_eff_text"] = ("–" if n_eff is None or math.isnan(float(n_eff))
                              else number_format(round(float(n_eff)), 0, use_l10n=True))
        out.append(data)
    return out
