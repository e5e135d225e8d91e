"""Public result rows as the templates show them, and as the charts take them.

A row of the public view becomes a dict of display texts (estimate, interval, n, method,
change and difference with their significance, flags). A suppressed row shows none of its
numbers, only that it is suppressed: the public view has already blanked them, and nothing
here could bring them back.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tryg.public.data import finite
from tryg.public.measures import (
    MeasureInfo,
    display_value,
    flag_labels,
    format_change,
    format_value,
    method_label,
)

#: What a page says in place of a hidden figure, by the reason (the methods page quotes these).
NOT_SHOWN = {
    "few": gettext_lazy("Not shown: too few answers"),
    "offences": gettext_lazy("Not shown: too few reported offences"),
    "secondary": gettext_lazy("Not shown: it would give a hidden figure away"),
}


def not_shown(info: MeasureInfo, flags: Any) -> str:
    """Why a suppressed row shows no figure, in the words of :data:`NOT_SHOWN`."""
    if "secondary" in str(flags or "").split(";"):
        return str(NOT_SHOWN["secondary"])
    return str(NOT_SHOWN["offences" if info.kind == "rate" else "few"])


def significance(sig: Any) -> str:
    if sig is None or sig is pd.NA:
        return ""
    return _("significant") if bool(sig) else _("not significant")


def _true(value: Any) -> bool:
    return value is not None and value is not pd.NA and bool(value)


def present(info: MeasureInfo, row: dict[str, Any], language: str) -> dict[str, Any]:
    """The display texts of one public row of ``info``'s measure."""
    suppressed = bool(row.get("suppressed"))
    estimate = None if suppressed else finite(row.get("estimate"))
    low, high = finite(row.get("ci_low")), finite(row.get("ci_high"))
    interval = ""
    if estimate is not None and low is not None and high is not None:
        interval = f"{format_value(info, low, language)} – {format_value(info, high, language)}"
    return {
        "area_code": row.get("area_code"),
        "area_name": row.get("area_name"),
        "level": row.get("level"),
        "wave": row.get("wave"),
        "suppressed": suppressed,
        "not_shown": not_shown(info, row.get("flags")) if suppressed else "",
        "value": repr(estimate) if estimate is not None else "",
        "estimate": format_value(info, estimate, language),
        "interval": interval,
        "n": "" if suppressed else (row.get("n_display") or ""),
        "method": "" if suppressed else method_label(row.get("method")),
        "change": format_change(info, finite(row.get("change_prev")), language),
        "change_sig": significance(row.get("sig_prev")),
        "significant_change": _true(row.get("sig_prev")),
        "parent_diff": format_change(info, finite(row.get("diff_parent_rest")), language),
        "parent_sig": significance(row.get("sig_parent_rest")),
        "parent_significant": _true(row.get("sig_parent_rest")),
        "band": row.get("band") or "",
        "flags": flag_labels(row.get("flags")),
    }


def trend_points(info: MeasureInfo, series: list[tuple[str, list[dict[str, Any]]]]
                 ) -> list[dict[str, Any]]:
    """The rows of a trend chart (tryg.charts.trend_svg): one series per (name, rows), values
    on the display scale (shares in percent); suppressed waves are left out of the picture
    (the table beside it says they are suppressed)."""
    records = []
    for name, rows in series:
        for row in rows:
            estimate = finite(row.get("estimate"))
            if row.get("suppressed") or estimate is None:
                continue
            low, high = finite(row.get("ci_low")), finite(row.get("ci_high"))
            sig = row.get("sig_prev")
            records.append({
                "wave": int(row["wave"]), "estimate": display_value(info, estimate),
                "ci_low": None if low is None else display_value(info, low),
                "ci_high": None if high is None else display_value(info, high),
                "n": row.get("n_display") or "", "method": row.get("method") or "",
                "sig_prev": None if sig is None or sig is pd.NA else bool(sig),
                "series": name,
            })
    return records


def unit_note(info: MeasureInfo) -> str:
    """What the numbers of a measure are, for table captions and axis titles."""
    notes = {
        "share": _("percent"),
        "gap": _("percentage points"),
        "rate": _("per 1,000 residents"),
        "score": _("score 0–100, higher is safer"),
        "composite": _("score 0–100, higher is safer"),
        "mean": _("mean answer"),
    }
    return notes[info.kind]
