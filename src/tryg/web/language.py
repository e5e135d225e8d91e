"""The language of the page being rendered, as the content (specs, charts, codebook) names
it: ``"en"`` for English, else ``"da"`` (Danish first)."""

from __future__ import annotations

from django.utils.translation import get_language


def page_language() -> str:
    """``"en"`` when the active language is English, else ``"da"``."""
    return "en" if (get_language() or "").startswith("en") else "da"
