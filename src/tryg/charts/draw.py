"""Drawing SVG directly: scales, ticks, text widths and the accessible document around a chart.

The trend and components charts are simple enough to write as SVG here, in microseconds, rather
than through a JavaScript engine (vl-convert takes a quarter of a second per chart). What a
chart draws is split in two: the **geometry** (positions, paths, gridlines; the same in every
language, so it is computed once per data and kept in a small in-process cache) and the
**words** (title, axis titles, tick numbers, legend, descriptions; per language).

The SVG carries no ``style`` attributes (a Content-Security-Policy without ``'unsafe-inline'``
would refuse them): colours and sizes are presentation attributes, and the page's stylesheet
sizes the chart through its class ``tryg-chart``. Nothing in it refers to the network.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from html import escape
from typing import Final

#: The root's class, styled by the page (max-width: 100%; height: auto).
CHART_CLASS: Final = "tryg-chart"
FONT: Final = "sans-serif"
TEXT: Final = "#1a1a1a"
MUTED: Final = "#4d4d4d"
#: Type sizes (px) of every chart: axis and legend text, and the title.
TICK_SIZE: Final = 11.0
TITLE_SIZE: Final = 13.0
GRID: Final = "#dddddd"
AXIS: Final = "#888888"

# Advance widths of a typical sans-serif (Helvetica/Arial/DejaVu metrics, in em), rounded up
# so a label measured here is never wider on the reader's screen than the room made for it.
_NARROW: Final = frozenset("iljtfrI.,:;'|!()[] ")
_WIDE: Final = frozenset("mwMWÆæŒœ%@")
_CAPITAL_EXTRA: Final = 0.12
#: How much wider bold text is (DejaVu Sans Bold against DejaVu Sans: ~12 %), rounded up.
_BOLD: Final = 1.15


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """A generous estimate of ``text``'s width in pixels at font size ``size``."""
    em = 0.0
    for char in text:
        if char in _NARROW:
            em += 0.32
        elif char in _WIDE:
            em += 0.9
        elif char.isdigit():
            em += 0.58
        elif char.isupper():
            em += 0.6 + _CAPITAL_EXTRA
        else:
            em += 0.58
    return em * size * 1.06 * (_BOLD if bold else 1.0)


def nice_step(span: float, count: int) -> float:
    """d3's tick step: 1, 2 or 5 times a power of ten, about ``count`` steps over ``span``."""
    raw = span / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    error = raw / power
    factor = 10 if error >= math.sqrt(50) else 5 if error >= math.sqrt(10) else (
        2 if error >= math.sqrt(2) else 1)
    return float(factor * power)


def nice_domain(values: Iterable[float], count: int = 5) -> tuple[float, float, list[float]]:
    """A domain covering ``values`` with round ends, and its ticks (not from zero)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        finite = [0.0, 1.0]
    low, high = min(finite), max(finite)
    if high - low < 1e-12:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    step = nice_step(high - low, count)
    start, stop = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    ticks = [round(k * step, 12) for k in range(start, stop + 1)]
    return ticks[0], ticks[-1], ticks


def tick_label(value: float, step: float, language: str) -> str:
    """A tick's number with as many decimals as the step needs, in the language's style
    (da: 1.234,5; en: 1,234.5)."""
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0
    text = f"{value:,.{decimals}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]
    if language == "da":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text.replace("-", "−")


def linear(domain: tuple[float, float], extent: tuple[float, float]
           ) -> Callable[[float], float]:
    """The linear map from ``domain`` onto ``extent`` (pixel positions)."""
    d0, d1 = domain
    r0, r1 = extent
    scale = (r1 - r0) / (d1 - d0) if d1 != d0 else 0.0

    def position(value: float) -> float:
        return r0 + (value - d0) * scale
    return position


def num(value: float) -> str:
    """A coordinate with at most two decimals (no trailing zeros)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def path(points: Sequence[tuple[float, float]], close: bool = False) -> str:
    """An SVG path through ``points``."""
    d = "M" + "L".join(f"{num(x)},{num(y)}" for x, y in points)
    return d + ("Z" if close else "")


def symbol(kind: str, x: float, y: float, area: float) -> str:
    """A path ``d`` for a symbol of ``area`` px² centred on (x, y): circle, triangle or star."""
    if kind == "circle":
        r = math.sqrt(area / math.pi)
        return (f"M{num(x - r)},{num(y)}a{num(r)},{num(r)} 0 1,0 {num(2 * r)},0"
                f"a{num(r)},{num(r)} 0 1,0 {num(-2 * r)},0Z")
    if kind == "triangle":
        side = math.sqrt(4 * area / math.sqrt(3))
        h = side * math.sqrt(3) / 2
        return path([(x, y - 2 * h / 3), (x + side / 2, y + h / 3),
                     (x - side / 2, y + h / 3)], close=True)
    if kind == "star":
        outer = math.sqrt(area) * 0.62
        inner = outer * 0.382
        corners = []
        for k in range(10):
            r = outer if k % 2 == 0 else inner
            angle = -math.pi / 2 + k * math.pi / 5
            corners.append((x + r * math.cos(angle), y + r * math.sin(angle)))
        return path(corners, close=True)
    raise ValueError(f"unknown symbol {kind!r}")


def text(x: float, y: float, content: str, *, size: float = 11, anchor: str = "start",
         fill: str = TEXT, weight: str = "", rotate: bool = False, extra: str = "") -> str:
    """A ``<text>`` element (content escaped)."""
    attrs = f'x="{num(x)}" y="{num(y)}" font-size="{num(size)}" fill="{fill}"'
    if anchor != "start":
        attrs += f' text-anchor="{anchor}"'
    if weight:
        attrs += f' font-weight="{weight}"'
    if rotate:
        attrs += f' transform="rotate(-90 {num(x)} {num(y)})"'
    return f"<text {attrs}{extra}>{escape(content, quote=False)}</text>"


def two_lines(label: str, size: float, room: float, *, bold: bool = False) -> list[str]:
    """``label`` in full on one line when it fits ``room`` pixels, else broken at the space
    that best balances two lines (a label is never cut: the lines may exceed ``room`` when a
    word is long)."""
    if text_width(label, size, bold=bold) <= room or " " not in label.strip():
        return [label]
    words = label.split(" ")
    best: list[str] = [label]
    widest = math.inf
    for k in range(1, len(words)):
        lines = [" ".join(words[:k]), " ".join(words[k:])]
        w = max(text_width(line, size, bold=bold) for line in lines)
        if w < widest:
            best, widest = lines, w
    return best


def fit(label: str, size: float, room: float) -> str:
    """``label`` shortened with an ellipsis to fit ``room`` pixels (as it is when it fits)."""
    if text_width(label, size) <= room:
        return label
    while label and text_width(label + "…", size) > room:
        label = label[:-1]
    return label.rstrip() + "…"


def document(width: float, height: float, *, title: str, summary: str, body: str,
             kind: str) -> str:
    """The finished, accessible SVG: role="img", an aria-label, <title> and <desc> first."""
    title, summary = str(title), str(summary)
    label = escape(title if not summary else f"{title}. {summary}", quote=True)
    w, h = math.ceil(width), math.ceil(height)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="{CHART_CLASS} {CHART_CLASS}-{kind}" '
            f'width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{label}" '
            f'font-family="{FONT}">'
            f"<title>{escape(title, quote=False)}</title><desc>{escape(summary, quote=False)}"
            f"</desc>{body}</svg>")
