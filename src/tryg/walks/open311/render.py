"""The GeoReport v2 formats: the same data as XML or JSON, fields in the specification's order.

A response is built from plain data: a record is a ``dict`` whose key order is the field order
the specification lists; a list inside a record is written in XML as repeated elements named
by :data:`ITEMS` (``attributes`` → ``<attribute>``), in JSON as an array. A list response
(services, requests, errors) is a JSON array at the top and ``<services><service>…`` in XML;
a single object (discovery, a service definition) is a JSON object and one XML element.
Empty values are empty elements in XML and ``null`` in JSON; booleans are ``true``/``false``.
XML 1.0 cannot hold a NUL or another C0 control character but tab and newlines, not even as a
reference: such a character (from an echoed parameter, a stored text) is written as U+FFFD in
XML, keeping the document well-formed; JSON escapes it as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse

#: The element name of one item of a list, by the list's name.
ITEMS: dict[str, str] = {
    "services": "service", "service_requests": "request", "errors": "error",
    "attributes": "attribute", "values": "value", "endpoints": "endpoint",
    "formats": "format",
}
CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
FORMATS = tuple(CONTENT_TYPES)
#: What XML 1.0 does not allow in text: C0 controls but tab, LF and CR; lone surrogates
#: (which UTF-8 cannot write); U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("\ufffd", str(value))


def _fill(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _fill(element, key, inner)
    elif isinstance(value, list | tuple):
        for item in value:
            _fill(element, ITEMS[name], item)
    else:
        element.text = _text(value)


def to_xml(root: str, data: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> bytes:
    """``data`` under the element ``root`` (a list: one ``ITEMS[root]`` element per item)."""
    top = ET.Element(root)
    if isinstance(data, Mapping):
        for key, value in data.items():
            _fill(top, key, value)
    else:
        for item in data:
            _fill(top, ITEMS[root], item)
    return bytes(ET.tostring(top, encoding="utf-8", xml_declaration=True))


def respond(fmt: str, root: str, data: Mapping[str, Any] | Sequence[Mapping[str, Any]],
            *, status: int = 200) -> HttpResponse:
    """The response in ``fmt`` ("xml" or "json")."""
    if fmt == "xml":
        body = to_xml(root, data)
    else:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def errors(fmt: str, status: int, *descriptions: str) -> HttpResponse:
    """The specification's error list, one ``error`` (code, description) per message."""
    return respond(fmt, "errors", [{"code": status, "description": d} for d in descriptions],
                   status=status)
