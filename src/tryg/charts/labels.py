"""The charts' own words in Danish and English, and number formatting per language.

The charts are drawn outside Django (no gettext here), so the few labels they need live in one
small table. Callers pass the page's language; ``"da"``, ``"en"`` and regional variants such as
``"en-gb"`` or ``"da_DK"`` are accepted.
"""

from __future__ import annotations

import math
from typing import Final, Literal

#: Languages the charts speak (the site's LANGUAGES).
LANGUAGES: Final = ("da", "en")

_LABELS: Final[dict[str, dict[str, str]]] = {
    "da": {
        "wave": "Måling",
        "estimate": "Estimat",
        "series": "Område",
        "points": "Punkter",
        "direct": "Direkte estimat",
        "model": "Modelbaseret estimat",
        "significant": "Signifikant ændring fra forrige måling",
        "interval": "95 %-konfidensinterval",
        "suppressed": "Ikke vist (for få svar)",
        "no_data": "Ingen data",
        "not_shown": "Uden tal",
        "withheld": "Ikke vist",
        "n": "n",
        "trend_summary": "Udvikling over {waves} målinger for {series}.",
        "trend_summary_sig": "Signifikante ændringer ved: {marks}.",
        "components_summary": "{count} mål med estimat og interval: {items}.",
        "map_summary": "Kort over {count} områder, farvet efter {legend}.",
        "map_summary_hidden": "{suppressed} områder er ikke vist (for få svar), "
                              "{no_data} uden data.",
        "method_direct": "direkte",
        "method_composite": "sammensat",
        "method_model": "modelbaseret",
        "method_synthetic": "syntetisk (model)",
        "method_register": "register",
        "method_register_eb": "register (udglattet)",
    },
    "en": {
        "wave": "Wave",
        "estimate": "Estimate",
        "series": "Area",
        "points": "Points",
        "direct": "Direct estimate",
        "model": "Model-based estimate",
        "significant": "Significant change from the previous wave",
        "interval": "95% confidence interval",
        "suppressed": "Not shown (too few answers)",
        "no_data": "No data",
        "not_shown": "Without figures",
        "withheld": "Not shown",
        "n": "n",
        "trend_summary": "Trend over {waves} waves for {series}.",
        "trend_summary_sig": "Significant changes at: {marks}.",
        "components_summary": "{count} measures with estimate and interval: {items}.",
        "map_summary": "Map of {count} areas, coloured by {legend}.",
        "map_summary_hidden": "{suppressed} areas are not shown (too few answers), "
                              "{no_data} without data.",
        "method_direct": "direct",
        "method_composite": "composite",
        "method_model": "model-based",
        "method_synthetic": "synthetic (model)",
        "method_register": "register",
        "method_register_eb": "register (smoothed)",
    },
}

#: ``method`` values (tryg.index results) drawn as model-based points; all others are direct.
MODEL_METHODS: Final = frozenset({"model", "model_based", "model-based", "synthetic",
                                  "register_eb"})

#: d3-format locales handed to vl-convert for axis numbers.
FORMAT_LOCALES: Final[dict[str, Literal["da-DK", "en-GB"]]] = {"da": "da-DK", "en": "en-GB"}


def normalise_language(language: str) -> str:
    """``"da"`` or ``"en"`` for a language code such as ``"en-gb"``; ValueError otherwise."""
    primary = language.replace("_", "-").split("-", 1)[0].strip().lower()
    if primary not in LANGUAGES:
        raise ValueError(f"charts speak {', '.join(LANGUAGES)}, not {language!r}")
    return primary


def label(key: str, language: str) -> str:
    """The label ``key`` in ``language`` (already normalised)."""
    return _LABELS[language][key]


def method_label(method: object, language: str) -> str:
    """A reader's name for a results ``method`` value (unknown values are shown as given)."""
    key = f"method_{method}"
    return _LABELS[language].get(key, str(method))


def is_model_based(method: object) -> bool:
    """Whether a point with this ``method`` is drawn as model-based."""
    return str(method) in MODEL_METHODS


def is_missing(value: object) -> bool:
    """None, NaN and pandas' NA count as missing."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and pd.NA (NA != NA is NA, whose bool raises)
    except TypeError:
        return True


def format_number(value: float, language: str) -> str:
    """A value for screen readers: a few significant digits, Danish decimal comma in ``da``."""
    if not math.isfinite(value):
        return str(value)
    size = abs(value)
    decimals = 0 if size >= 100 or size == 0 else 1 if size >= 10 else 2 if size >= 1 else 3
    text = f"{value:,.{decimals}f}"
    if language == "da":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text
