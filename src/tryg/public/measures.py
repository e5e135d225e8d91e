"""The measures of a specification as the public pages present them: label, kind and unit.

Everything here is read from the run's own specification (labels in Danish and English, which
way is safer, bands), so a new spec needs no code. ``kind`` decides how a value is written:
shares as percentages, changes of shares in percentage points, scores and rates with one
decimal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tryg.index.spec import Spec

Kind = Literal["share", "mean", "rate", "score", "composite", "gap"]

#: The results table's name of the gap measure (see tryg.index.compute).
GAP = "gap"


@dataclass(frozen=True)
class MeasureInfo:
    id: str
    label_da: str
    label_en: str
    kind: Kind
    higher_is_safer: bool
    bands: tuple[float, ...] = ()
    headline: bool = False

    def label(self, language: str) -> str:
        return self.label_en if language == "en" else self.label_da

    @property
    def in_percent(self) -> bool:
        """Shown as a percentage (shares) or in percentage points (the gap of a share)."""
        return self.kind in ("share", "gap")


def catalogue(spec: Spec) -> dict[str, MeasureInfo]:
    """Every measure a run of ``spec`` can hold, in the spec's order (the results' order)."""
    out: dict[str, MeasureInfo] = {}
    for m in spec.measures:
        out[m.id] = MeasureInfo(m.id, m.label.da, m.label.en,
                                "share" if m.kind == "share" else "mean", m.higher_is_safer,
                                m.bands, m.headline)
    for r in spec.register:
        out[r.id] = MeasureInfo(r.id, r.label.da, r.label.en, "rate", False)
        if r.smoothing != "none":
            out[f"{r.id}_eb"] = MeasureInfo(f"{r.id}_eb", f"{r.label.da} (udglattet)",
                                            f"{r.label.en} (smoothed)", "rate", False)
    for s in spec.subindices:
        out[s.id] = MeasureInfo(s.id, s.label.da, s.label.en, "score", True, s.bands)
    if spec.composite is not None and spec.composite.transform != "none":
        c = spec.composite
        out[c.id] = MeasureInfo(c.id, c.label.da, c.label.en, "composite", True, c.bands)
    if spec.gap.enabled:
        out[GAP] = MeasureInfo(
            GAP, "Kløft mellem oplevet utryghed og anmeldt kriminalitet",
            "Gap between felt unsafety and reported crime", "gap", False)
    return out


def composite_id(spec: Spec) -> str | None:
    c = spec.composite
    return c.id if c is not None and c.transform != "none" else None


def component_ids(spec: Spec) -> list[str]:
    """The sub-indices that make up the composite (all sub-indices without one)."""
    c = spec.composite
    if c is None or c.transform == "none":
        return [s.id for s in spec.subindices]
    return [sid for sid, _w in c.weights]


def key_figure_ids(spec: Spec) -> list[str]:
    """The front page's figures after the headline: the composite, its components and the
    register measures (raw rates), as the spec names them."""
    ids = [i for i in (composite_id(spec),) if i is not None]
    ids += component_ids(spec)
    ids += [r.id for r in spec.register]
    return ids


def _number(value: float, decimals: int, language: str) -> str:
    text = f"{value:,.{decimals}f}"
    if language == "da":
        text = text.translate(str.maketrans(",.", ".,"))
    return text.replace("-", "−")


def display_value(info: MeasureInfo, value: float) -> float:
    """The number a reader sees: shares (and their gaps) in percent."""
    return 100.0 * value if info.in_percent else value


def format_value(info: MeasureInfo, value: float | None, language: str) -> str:
    """An estimate as text: "88,6 %" / "88.6%" for a share, "69,4" for a score."""
    if value is None or not math.isfinite(value):
        return ""
    text = _number(display_value(info, value), 1, language)
    if info.kind == "share":
        return f"{text} %" if language == "da" else f"{text}%"
    if info.kind == "gap":
        return f"{text} {_('percentage points')}"
    return text


def format_change(info: MeasureInfo, value: float | None, language: str) -> str:
    """A change or a difference, signed: "+1,5 procentpoint" for shares, "−2,1" otherwise."""
    if value is None or not math.isfinite(value):
        return ""
    shown = display_value(info, value)
    text = _number(abs(shown), 1, language)
    sign = "+" if shown > 0 else ("−" if shown < 0 else "±")
    unit = f" {_('percentage points')}" if info.in_percent else ""
    return f"{sign}{text}{unit}"


#: How an estimate was made (msgids; translated when shown).
_METHODS: dict[str, str] = {
    "direct": gettext_noop("direct estimate"),
    "model": gettext_noop("model-based (small-area model)"),
    "composite": gettext_noop("combined from the sub-indices"),
    "register": gettext_noop("police register"),
    "register_eb": gettext_noop("police register, smoothed"),
}


def method_label(method: str | None) -> str:
    """How an estimate was made, in words."""
    found = _METHODS.get(method or "")
    return _(found) if found else (method or "")


#: The flags of a result row (msgids; translated when shown).
_FLAGS: dict[str, str] = {
    "uncertain": gettext_noop("uncertain (few answers)"),
    "small_count": gettext_noop("few reported offences"),
    "method_break": gettext_noop("method changed this wave"),
    "model_based": gettext_noop("model-based"),
    "fear_ahead_of_crime": gettext_noop("felt unsafety higher than reported crime suggests"),
    "fear_behind_crime": gettext_noop("felt unsafety lower than reported crime suggests"),
    "secondary": gettext_noop(
        "not shown, so that a hidden figure cannot be worked out from it"),
    "n_withheld": gettext_noop(
        "number of answers not shown, so that a hidden one cannot be worked out from it"),
    "prev_withheld": gettext_noop(
        "change since the previous wave not shown (that wave is hidden)"),
    "pooled_withheld": gettext_noop(
        "change against the earlier waves not shown (one of them is hidden)"),
    "rest_withheld": gettext_noop(
        "difference from the rest of the parent area not shown (the other side is hidden)"),
}


def flag_labels(flags: str | None) -> list[str]:
    """The ";"-joined flags of a result row, in words."""
    if not flags:
        return []
    return [_(_FLAGS[f]) if f in _FLAGS else f for f in flags.split(";") if f]
