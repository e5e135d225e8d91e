"""Server-drawn SVG charts and maps for the public pages (Vega-Lite through vl-convert).

Each chart has a pure spec builder (``*_spec``: plain dicts, testable without drawing) and a
``*_svg`` function returning an accessible, self-contained SVG to inline in a page (inline, not
``<img>``, or the map's links will not work). No Django here: labels come from
:mod:`tryg.charts.labels` in Danish or English.
"""

from tryg.charts.choropleth import choropleth_spec, choropleth_svg
from tryg.charts.components import components_spec, components_svg
from tryg.charts.trend import trend_spec, trend_svg

__all__ = [
    "choropleth_spec",
    "choropleth_svg",
    "components_spec",
    "components_svg",
    "trend_spec",
    "trend_svg",
]
