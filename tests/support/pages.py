"""What the public-page tests read from a test client's answer."""

from __future__ import annotations

import gzip
from typing import Any


def page_html(response: Any) -> str:
    """The page's HTML of a 200 answer, gzip-decoded when it came compressed."""
    assert response.status_code == 200, response.status_code
    body: bytes = response.content
    if response.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return body.decode()
