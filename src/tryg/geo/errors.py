"""The one error the geometry core raises.

Geometry comes from files the user chose, so a bad ring or an unknown coordinate system is an
input problem, not a bug: readers catch :class:`GeometryError` and turn it into an
``InputError`` that names the file. Keeping it a ``ValueError`` lets plain callers treat it as
one.

The core cannot translate (no Django), so the error keeps its marked template and params
besides the English text (``str(exc)``); a reader passes those on to its ``Problem`` and the
page shows the message in its own language.
"""

from __future__ import annotations

from tryg.messages import Marked, render


class GeometryError(ValueError):
    """Geometry that cannot be used: the message says which feature or area and why.

    Raised with a marked template and its params (``GeometryError(_("arc %(number)s is
    malformed: %(error)s"), number=3, error=...)``); ``str(exc)`` is the English message.
    """

    def __init__(self, template: str, /, **params: object) -> None:
        super().__init__(render(template, params))
        self.template = template
        self.params: dict[str, object] = dict(params)

    @property
    def marked(self) -> Marked:
        """The message as a value another message can hold (``error=exc.marked``)."""
        return Marked(self.template, self.params)
