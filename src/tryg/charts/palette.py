"""Colour-blind-safe colours for the charts.

Series use the Okabe-Ito palette (distinguishable under the common colour-vision deficiencies);
map values use viridis, which is perceptually uniform and readable in grey scale. Suppressed
areas are hatched grey, a texture no viridis colour can be mistaken for.
"""

from __future__ import annotations

from typing import Final

#: Okabe & Ito (2008), without black and yellow (too dark / too light for lines on white).
SERIES: Final = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#000000")

#: viridis at 11 evenly spaced stops (matplotlib's values), dark purple to yellow.
_VIRIDIS: Final = (
    "#440154", "#482374", "#404387", "#345e8d", "#29788e", "#20908d",
    "#22a884", "#42be71", "#7ad151", "#bddf26", "#fde725",
)

#: The hatching drawn for suppressed areas (pattern injected into the SVG by tryg.charts.svg).
HATCH_BACKGROUND: Final = "#d9d9d9"
HATCH_LINE: Final = "#636363"
#: Areas without any figure (not suppressed, simply absent): near-white, outlined.
NO_DATA: Final = "#f2f2f2"
#: Outline of map areas and the no-data fill's edge.
OUTLINE: Final = "#ffffff"
NO_DATA_OUTLINE: Final = "#969696"


def series_colours(count: int) -> list[str]:
    """``count`` series colours (cycling after seven; more series than that are unreadable)."""
    return [SERIES[i % len(SERIES)] for i in range(count)]


def _mix(a: str, b: str, t: float) -> str:
    """The colour a fraction ``t`` of the way from ``a`` to ``b`` (both ``#rrggbb``)."""
    ca = [int(a[i : i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb, strict=True))


def viridis(count: int) -> list[str]:
    """``count`` viridis colours from dark to light (one class: the middle colour)."""
    if count <= 0:
        return []
    if count == 1:
        return [_VIRIDIS[len(_VIRIDIS) // 2]]
    out: list[str] = []
    for k in range(count):
        pos = k * (len(_VIRIDIS) - 1) / (count - 1)
        low = min(int(pos), len(_VIRIDIS) - 2)
        out.append(_mix(_VIRIDIS[low], _VIRIDIS[low + 1], pos - low))
    return out
