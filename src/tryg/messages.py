"""Message templates marked for translation, for code that cannot call gettext.

The pure core (``tryg.geo``, ``tryg.index``) and the readers import no Django, so they cannot
translate; they keep a message as a marked template and its named params and render it in
English, and a page translates the template later (:func:`tryg.imports.problems.localized`).
This module imports nothing of tryg, so the lowest layer (``tryg.geo``) may use it too.

Extraction finds ``mark(...)`` when imported as ``_``::

    from tryg.messages import mark as _
    raise GeometryError(_("arc %(number)s is malformed: %(error)s"), number=3, error=...)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


def mark(text: str) -> str:
    """Mark a message template for translation without translating it (Django's pattern for
    code that cannot call gettext: the core has no Django)."""
    return text


def render(template: str, params: Mapping[str, object]) -> str:
    """``template % params`` (the template itself when there are no params)."""
    return template % params if params else template


@dataclass(frozen=True)
class Marked:
    """A marked template and its params, as one value: a message that is itself a param of
    another (``"feature 3 (0851): %(error)s"`` where the error is a geometry's own message),
    so that a page can translate both. Shown as its English text."""

    template: str
    params: Mapping[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return render(self.template, self.params)
