"""The charts of the public pages, drawn by :mod:`tryg.charts` (SVG on the server).

A chart that cannot be drawn (an unusual boundary, a missing renderer) must not take the page
down: the numbers are always in the table beside it, so the page is rendered without the
picture and the failure is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.utils.safestring import SafeString, mark_safe

log = logging.getLogger(__name__)


def _draw(name: str, *args: Any, **kwargs: Any) -> SafeString | None:
    try:
        from tryg import charts
    except ImportError:  # the charts package is optional for the pages' numbers
        log.warning("tryg.charts is not installed; pages show tables only")
        return None
    function: Callable[..., str] = getattr(charts, name)
    try:
        svg = function(*args, **kwargs)
    except Exception:  # a chart is an illustration of the table beside it
        log.exception("could not draw %s", name)
        return None
    # The SVG is made by tryg.charts from our own numbers and names (escaped by the renderer).
    return mark_safe(svg)


def trend(points: Any, *, title: str, language: str) -> SafeString | None:
    return _draw("trend_svg", points, title=title, language=language)


def components(frame: Any, *, title: str, language: str) -> SafeString | None:
    return _draw("components_svg", frame, title=title, language=language)


def choropleth(features: list[dict[str, Any]], *, title: str, language: str,
               bands: list[tuple[float, float, str]] | None,
               legend_title: str,
               classes: list[tuple[str, str]] | None = None) -> SafeString | None:
    return _draw("choropleth_svg", features, title=title, language=language, bands=bands,
                 legend_title=legend_title, classes=classes)
