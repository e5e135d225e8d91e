"""Message templates marked for translation, for code that cannot call gettext.

The pure core (``tryg.geo``, ``tryg.index``) and the readers import no Django, so they cannot
translate; they keep a message as a marked template and its named params and render it in
English, and a page translates the template later (:func:`tryg.imports.problems.localized`).
This module imports nothing of tryg, so the lowest layer (``tryg.geo``) may use it too.

Extraction finds ``mark(...)`` when imported as ``_``::

    from tryg.messages import mark as _
    raise GeometryError(_("arc %(number)s is malformed: %(error)s"), number=3, error=...)

A quantity in a message is a :class:`Number` param, not a formatted text: English shows it as
``1,536.0`` and a Danish page as ``1.536,0`` (a Dane reads the comma as the decimal point).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Integral


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


@dataclass(frozen=True)
class Number:
    """A quantity as a param, so that a page can show it the way its language writes numbers
    (:func:`tryg.imports.problems.localized`: Danish ``1.536,0 MB``, ``1.234.567``); shown as
    its English text (``1,536.0 MB``, ``1,234,567``).

    ``decimals``: places after the point, rounded; ``None`` for as few as needed, as Python's
    ``g`` format (``12.5``, ``1e+09``). ``grouping``: thousands separated (``1,234``).
    ``unit``: text after the number and a space (``MB``), the same in every language.

    Only for quantities: an id, a code, a year or a wave label is not one ("2022", never
    "2.022") and stays a plain param.
    """

    value: int | float
    decimals: int | None = 0
    grouping: bool = True
    unit: str = ""

    def __post_init__(self) -> None:
        # a numpy scalar as the plain Python number it is (stored as JSON, formatted alike)
        plain = int(self.value) if isinstance(self.value, Integral) else float(self.value)
        object.__setattr__(self, "value", plain)

    def digits(self) -> str:
        """The number without grouping, as English writes it (``-1536.0``, ``1e+09``): the
        digits every language shows, rounded once, here, so that languages agree."""
        if self.decimals is None:
            return f"{self.value:g}"
        if isinstance(self.value, int) and self.decimals == 0:
            return str(self.value)
        return f"{self.value:.{self.decimals}f}"

    def finite(self) -> bool:
        """Not ``inf`` or ``nan`` (every whole number is finite, however large)."""
        return isinstance(self.value, int) or math.isfinite(self.value)

    def places(self) -> int | None:
        """Places after the point in :meth:`digits`; ``None`` when it is not a plain decimal
        (an exponent, ``inf``, ``nan``)."""
        text = self.digits()
        if not self.finite() or "e" in text:
            return None
        return len(text.partition(".")[2])

    def __str__(self) -> str:
        spec = "," if self.grouping else ""
        if self.decimals is None:
            text = f"{self.value:{spec}g}"
        elif isinstance(self.value, int) and self.decimals == 0:
            text = f"{self.value:{spec}}"
        else:
            text = f"{self.value:{spec}.{self.decimals}f}"
        return f"{text} {self.unit}" if self.unit else text
