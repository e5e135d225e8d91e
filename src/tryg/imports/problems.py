"""Problems with an input, shown in the reader's language.

The readers and the index core cannot call gettext (they import no Django), so they keep a
problem's English message together with its marked template and params
(:meth:`tryg.index.inputs.Problem.of`); here the template is translated into the active
language and filled. A problem without a template, or a translation that does not fit its
params, keeps its English message.

A param may itself be a marked message (:class:`tryg.messages.Marked`: a boundary file's
geometry error inside "feature 3 (0851): %(error)s"); it is translated first. A quantity
(:class:`tryg.messages.Number`) is written the way the language writes numbers: Danish
``1.536,0 MB`` where English has ``1,536.0 MB``.

A problem shown later than it was found (an import's warnings on its page, a run's problems)
is stored as data (:func:`as_data`, :func:`from_data`), so the page can still translate it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from django.utils.formats import get_format, number_format
from django.utils.translation import gettext

from tryg.index.inputs import Problem
from tryg.messages import Marked, Number


def number_text(number: Number) -> str:
    """``number`` as the active language writes it (Danish ``1.234.567``, ``1.536,0 MB``).

    Django's ``number_format`` cuts a float's places rather than rounding them, so it is
    given the digits :meth:`Number.digits` rounded, as a ``Decimal``: every language shows
    the same digits. A number with an exponent (``1e+09``) keeps it, with the language's
    decimal sign."""
    places, digits = number.places(), number.digits()
    if places is None:
        text = digits.replace(".", str(get_format("DECIMAL_SEPARATOR")))
    else:
        text = str(number_format(Decimal(digits), places, use_l10n=True,
                                 force_grouping=number.grouping))
        if digits.startswith("-") and not text.startswith("-"):  # "-0.0": Django drops the
            text = f"-{text}"                                      # sign, English keeps it
    return f"{text} {number.unit}" if number.unit else text


def _shown(value: object) -> object:
    """A param as the active language shows it: a marked message translated, a quantity in
    the language's number format, anything else as it is."""
    if isinstance(value, Marked):
        return _translate(value.template, value.params)
    if isinstance(value, Number):
        return number_text(value)
    return value


def _translate(template: str, params: Mapping[str, object]) -> str:
    """``gettext(template) % params``, a marked param translated and a quantity formatted
    too; raises ``KeyError``, ``ValueError`` or ``TypeError`` when the translation does not
    fit the params."""
    translated = gettext(template)
    if not params:
        return translated
    return translated % {k: _shown(v) for k, v in params.items()}


def localized(problem: Problem) -> Problem:
    """``problem`` with its message in the active language."""
    if not problem.template:
        return problem
    try:
        message = _translate(problem.template, problem.params)
    except (KeyError, ValueError, TypeError):
        return problem
    return replace(problem, message=message)


def localized_all(problems: Iterable[Problem]) -> list[Problem]:
    return [localized(p) for p in problems]


def text(problem: Problem) -> str:
    """One line for a log or the CLI: where (when the problem says) and what, in English."""
    located = problem.source or problem.row is not None or problem.column
    return str(problem) if located else problem.message


def _plain(value: object) -> object:
    """A param as JSON holds it: text, whole and real numbers and truth values as they are, a
    marked message as ``{"template": ..., "params": ...}``, a quantity as ``{"number": ...,
    "decimals": ..., "grouping": ..., "unit": ...}`` (one that is not finite, which JSON has
    no number for, as its text), anything else (a numpy integer, a list) as the text it is
    shown as."""
    if isinstance(value, Marked):
        return {"template": value.template,
                "params": {k: _plain(v) for k, v in value.params.items()}}
    if isinstance(value, Number):
        if not value.finite():
            return str(value)
        return {"number": value.value, "decimals": value.decimals,
                "grouping": value.grouping, "unit": value.unit}
    return value if isinstance(value, str | int | float | bool) else str(value)


def _number(value: Mapping[str, Any]) -> Number | str:
    """A stored quantity back as :class:`Number`; its English text when the record is not one
    :func:`_plain` could write."""
    number, decimals = value.get("number"), value.get("decimals")
    if not isinstance(number, int | float) or isinstance(number, bool) or not (
            decimals is None or (isinstance(decimals, int) and 0 <= decimals <= 20)):
        return str(number)
    return Number(number, decimals, bool(value.get("grouping", True)),
                  str(value.get("unit") or ""))


def _param(value: object) -> object:
    """A stored param back as :func:`_plain` wrote it (a marked message as :class:`Marked`, a
    quantity as :class:`Number`); a param stored before quantities were kept (their English
    text) stays that text."""
    if isinstance(value, Mapping) and "number" in value and "template" not in value:
        return _number(value)
    if isinstance(value, Mapping):
        params = value.get("params")
        return Marked(str(value.get("template", "")),
                      {str(k): _param(v) for k, v in params.items()}
                      if isinstance(params, Mapping) else {})
    return value


def as_data(problem: Problem) -> dict[str, Any]:
    """``problem`` as JSON data (:func:`from_data` reads it back)."""
    return {"source": problem.source, "row": problem.row, "column": problem.column,
            "message": problem.message, "template": problem.template,
            "params": {k: _plain(v) for k, v in problem.params.items()}}


def from_data(data: Mapping[str, Any] | str) -> Problem:
    """A problem stored by :func:`as_data`; a stored text (an older record) is its message."""
    if isinstance(data, str):
        return Problem("", None, None, data)
    row = data.get("row")
    return Problem(str(data.get("source") or ""), int(row) if row is not None else None,
                   data.get("column"), str(data.get("message", "")),
                   str(data.get("template") or ""),
                   {str(k): _param(v) for k, v in (data.get("params") or {}).items()})


def located(problem: Problem) -> str:
    """``problem`` as one line in the active language: where (file, row, column, as far as
    the problem says) and what (a page's list of warnings)."""
    shown = localized(problem)
    where = [shown.source] if shown.source else []
    if shown.row is not None:
        where.append(gettext("row %(row)s") % {"row": shown.row})
    if shown.column:
        where.append(gettext("column %(column)s") % {"column": repr(shown.column)})
    return f"{', '.join(where)}: {shown.message}" if where else shown.message
