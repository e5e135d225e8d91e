"""Shared checks for the chart tests: the SVG parses and is accessible and self-contained."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def parse(svg: str) -> ET.Element:
    """The SVG's root element (raises if it is not well-formed XML)."""
    return ET.fromstring(svg)


def assert_accessible(svg: str, title: str) -> ET.Element:
    """role="img", a <title> equal to ``title`` as first child, an aria-label naming it; no
    style attribute anywhere (the site's CSP allows no inline style: the class tryg-chart
    sizes the chart from the stylesheet)."""
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert "tryg-chart" in (root.get("class") or "").split()
    assert [e.tag for e in root.iter() if e.get("style") is not None] == []
    assert root.get("role") == "img"
    label = root.get("aria-label") or ""
    assert label.startswith(title)
    first = root[0]
    assert first.tag == f"{SVG}title"
    assert first.text == title
    assert root[1].tag == f"{SVG}desc"
    assert root[1].text
    return root


def http_references(svg: str) -> list[str]:
    """Every http(s) URL in the text, up to its closing quote, except the XML namespaces."""
    found = re.findall(r"""https?://[^"'<>\s]*""", svg, flags=re.IGNORECASE)
    return [url for url in found if url not in NAMESPACES]


def assert_styled_by_classes(svg: str) -> None:
    """No ``style`` attribute or element (a CSP without 'unsafe-inline' would refuse them);
    the root carries the class the page's stylesheet sizes."""
    root = parse(svg)
    assert "tryg-chart" in (root.get("class") or "").split()
    assert not [e.tag for e in root.iter() if e.get("style") is not None]
    assert not list(root.iter(f"{SVG}style"))


def assert_texts_fit(svg: str) -> None:
    """Every text (at its estimated width, tryg.charts.draw.text_width) lies inside the drawing:
    no label is cut off at the edge."""
    from tryg.charts.draw import text_width

    root = parse(svg)
    width, height = float(root.get("width") or 0), float(root.get("height") or 0)
    for element in root.iter(f"{SVG}text"):
        if element.get("transform"):  # the rotated axis title: checked by its height
            continue
        x, y = float(element.get("x") or 0), float(element.get("y") or 0)
        size = float(element.get("font-size") or 11)
        offset = _group_offset(root, element)
        x, y = x + offset[0], y + offset[1]
        w = text_width(element.text or "", size)
        anchor = element.get("text-anchor") or "start"
        left = x - (w if anchor == "end" else w / 2 if anchor == "middle" else 0)
        assert left >= 0 and left + w <= width, (element.text, left, w, width)
        assert y - size >= 0 and y <= height, (element.text, y, height)


def _group_offset(root: ET.Element, target: ET.Element) -> tuple[float, float]:
    """The translation of the <g> elements around ``target``."""
    parents = {child: parent for parent in root.iter() for child in parent}
    dx = dy = 0.0
    node = parents.get(target)
    while node is not None:
        found = re.match(r"translate\(([-\d.]+),([-\d.]+)\)", node.get("transform") or "")
        if found:
            dx, dy = dx + float(found.group(1)), dy + float(found.group(2))
        node = parents.get(node)
    return dx, dy
