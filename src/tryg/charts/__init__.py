"""Server-drawn SVG charts and maps for the public pages.

Trend and components charts are written as SVG directly (:mod:`tryg.charts.draw`: no
JavaScript engine, microseconds per chart); the choropleth map is drawn by Vega-Lite through
vl-convert (``choropleth_spec`` is its pure spec builder). Each ``*_svg`` function returns an
accessible, self-contained SVG to inline in a page (inline, not ``<img>``, or the map's links
will not work). No Django here: labels come from :mod:`tryg.charts.labels` in Danish or
English.
"""

from tryg.charts.choropleth import choropleth_spec, choropleth_svg
from tryg.charts.components import components_svg
from tryg.charts.trend import trend_svg

__all__ = [
    "choropleth_spec",
    "choropleth_svg",
    "components_svg",
    "trend_svg",
]
