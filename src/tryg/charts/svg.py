"""Render a Vega-Lite spec to an SVG fit to be inlined in a public page (the choropleth map;
the trend and components charts are written directly, :mod:`tryg.charts.draw`).

vl-convert draws the chart; this module then makes the SVG self-contained and accessible:

* the root gets ``role="img"``, an ``aria-label``, a ``<title>``/``<desc>`` pair and the class
  ``tryg-chart`` (sized by the page's stylesheet: no ``style`` attribute, which a
  Content-Security-Policy without ``'unsafe-inline'`` would refuse);
* each link (a map's area) gets a ``<title>`` with its description (name and value), which
  browsers show on hover, as screen readers read the ``aria-label`` on focus;
* links keep the caller's ``href`` (Vega resolves relative links against its data base URL,
  ``https://vega.github.io/vega-datasets/``, which is stripped again here);
* every ``id`` is prefixed with a hash of the drawing, so several charts inline on one page
  cannot collide (Vega numbers its gradients and clip paths per process);
* a hatch pattern can be injected (Vega has no patterns, but passes ``fill="url(#…)"`` through);
* anything that would make the browser fetch from the network raises (no web fonts or images:
  text uses the reader's own fonts, :data:`FONT`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from html import escape
from typing import Any, Final

import vl_convert

from tryg.charts.draw import CHART_CLASS
from tryg.charts.labels import FORMAT_LOCALES
from tryg.charts.palette import HATCH_BACKGROUND, HATCH_LINE

#: Where vl-convert's loader resolves relative URLs (and so relative hrefs) by default.
VEGA_BASE_URL: Final = "https://vega.github.io/vega-datasets/"
#: The id used in specs for the suppressed-area hatching (``fill: "url(#tryg-hatch)"``).
HATCH_ID: Final = "tryg-hatch"
HATCH_FILL: Final = f"url(#{HATCH_ID})"

_HATCH_DEFS: Final = (
    f'<defs><pattern id="{HATCH_ID}" patternUnits="userSpaceOnUse" width="6" height="6" '
    'patternTransform="rotate(45)">'
    f'<rect width="6" height="6" fill="{HATCH_BACKGROUND}"/>'
    f'<line x1="0" y1="0" x2="0" y2="6" stroke="{HATCH_LINE}" stroke-width="2"/>'
    "</pattern></defs>"
)
_NAMESPACES: Final = frozenset({"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"})
_ID = re.compile(r'\sid="([^"]+)"')
#: An id Vega numbers with a counter of its own (``gradient_7``): stem and number.
_COUNTED = re.compile(r"(.*_)([0-9]+)")
_HREF = re.compile(r'((?:xlink:)?href)="' + re.escape(VEGA_BASE_URL))
_HTTP = re.compile(r"https?://", re.IGNORECASE)
#: The charts' font: a wide sans-serif that Vega measures its labels with as the reader's
#: browser draws them (DejaVu Sans on Linux, Verdana elsewhere, both about as wide), so no
#: label or legend title reaches outside the picture; a narrower fallback only leaves room.
FONT: Final = "DejaVu Sans, Verdana, sans-serif"
#: A linked mark (a map's area) and its description, which becomes its hover name.
_LINKED = re.compile(r'(<a\s[^>]*>)(<path\b[^>]*?\saria-label="([^"]*)")')


class ExternalReferenceError(RuntimeError):
    """The drawing would load something from the network."""


def to_svg(spec: Mapping[str, Any], *, language: str, title: str, summary: str,
           links: Collection[str] = (), hatch: bool = False) -> str:
    """Draw ``spec`` and return the finished SVG (see the module docstring).

    ``language`` is already normalised (``"da"``/``"en"``); ``links`` are the hrefs the caller
    put into the chart (absolute ones are allowed through the external-reference check).
    """
    spec = {**spec, "config": {"font": FONT, **spec.get("config", {})}}
    raw = vl_convert.vegalite_to_svg(spec, allowed_base_urls=[],
                                     format_locale=FORMAT_LOCALES[language])
    return finish(raw, title=title, summary=summary, links=links, hatch=hatch)


def finish(raw: str, *, title: str, summary: str, links: Collection[str] = (),
           hatch: bool = False) -> str:
    """Post-process a vl-convert SVG (pure; split from :func:`to_svg` for testing)."""
    title, summary = str(title), str(summary)  # lazy translations welcome
    svg = _HREF.sub(r'\1="', raw)
    open_end = svg.index(">", svg.index("<svg")) + 1
    head = svg[:open_end]
    head = re.sub(r'\s(?:role|aria-label|style|class)="[^"]*"', "", head)
    label = escape(title if not summary else f"{title}. {summary}", quote=True)
    # No style attribute: the site's Content-Security-Policy allows no inline styles; the
    # stylesheets size the chart (svg.tryg-chart: max-width 100%, height auto).
    head = re.sub(r'\sclass="([^"]*)"', rf' class="\1 {CHART_CLASS}"', head, count=1) \
        if ' class="' in head else head[:-1] + f' class="{CHART_CLASS}">'
    head = head[:-1] + f' role="img" aria-label="{label}">'
    inner = f"<title>{escape(title)}</title><desc>{escape(summary)}</desc>"
    if hatch:
        inner += _HATCH_DEFS
    svg = head + inner + svg[open_end:]
    svg = _LINKED.sub(r"\1<title>\3</title>\2", svg)  # the name on hover, as on focus
    svg = _prefix_ids(svg)
    check_no_external_references(svg, links)
    return svg


def _replace_id(svg: str, old: str, new: str) -> str:
    return (svg.replace(f' id="{old}"', f' id="{new}"')
               .replace(f"url(#{old})", f"url(#{new})")
               .replace(f'href="#{old}"', f'href="#{new}"'))


def _renumber_ids(svg: str) -> str:
    """Number Vega's counted ids (``gradient_7``) from 0 in the order they appear: Vega counts
    them per process, so the same chart drawn twice would differ (the council's report must
    be the same file for the same data)."""
    found = list(dict.fromkeys(_ID.findall(svg)))
    counted = [i for i in found if _COUNTED.fullmatch(i)]
    if not counted:
        return svg
    seen: dict[str, int] = {}
    renames: dict[str, str] = {}
    for old in counted:
        stem = _COUNTED.sub(r"\1", old)
        renames[old] = f"{stem}{seen.get(stem, 0)}"
        seen[stem] = seen.get(stem, 0) + 1
    temporary = {old: f"tryg-renumber-{n}" for n, old in enumerate(counted)}
    for old in sorted(counted, key=len, reverse=True):
        svg = _replace_id(svg, old, temporary[old])
    for old in counted:
        svg = _replace_id(svg, temporary[old], renames[old])
    return svg


def _prefix_ids(svg: str) -> str:
    """Make every id (and its references) unique to this drawing (and the same each time
    the same drawing is made)."""
    svg = _renumber_ids(svg)
    ids = set(_ID.findall(svg))
    if not ids:
        return svg
    prefix = "c" + hashlib.sha1(svg.encode("utf-8")).hexdigest()[:10]
    for old in sorted(ids, key=len, reverse=True):
        svg = _replace_id(svg, old, f"{prefix}-{old}")
    return svg


def check_no_external_references(svg: str, links: Collection[str] = ()) -> None:
    """Raise unless every http(s) URL in ``svg`` is a namespace or one of the caller's links.

    Each URL is taken up to the closing quote of its attribute and must match exactly, so text
    or styles that mention a URL (a font, an image, ``url(http…)``) are refused too.
    """
    allowed = set(_NAMESPACES) | {escape(link, quote=True) for link in links}
    for match in _HTTP.finditer(svg):
        end = svg.find('"', match.start())
        value = svg[match.start(): end if end >= 0 else len(svg)]
        if value not in allowed:
            raise ExternalReferenceError(
                f"the chart refers to an external resource: {value[:200]}")
