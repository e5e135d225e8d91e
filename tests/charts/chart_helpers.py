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
