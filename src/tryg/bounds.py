"""What an entered number, date and text may be, the same in every app that takes them.

Shared by the strategy (measurements, baselines, targets) and the safety walks (a walk's and a
re-walk's date), which are sibling apps and may not import each other; this module imports no
app of tryg, only Django's validation error and gettext, so every Django app may use it. It
sits in the lowest layer of the Django apps (the "Layers" contract in pyproject.toml), not in
``tryg.web``: the model fields carry these validators and the API, which may import no pages
(``tryg.web`` included), reaches the models.

A value, standard error or interval end of 10¹² or more in size (1e308, a pasted account
number) is a typo, never a safety indicator, and breaks the charts' scales and the status
arithmetic; a date outside the years 1900 to 2200 (year 1 sent through the API) is one too.
The model fields carry :func:`check_number` and :func:`check_date` as validators, so the
forms and the API (:func:`tryg.strategy.services.add_measurement` cleans the model) refuse
them with the same sentence; the strategy's file import asks :func:`number_problem` and
:func:`date_problem` for its English cell errors.

Entered text holds no control character (U+0000 to U+001F but tab, newline and carriage
return, and U+007F): nobody types one, a pasted one is invisible on the page, breaks the
Open311 XML and the exports, and PostgreSQL refuses a NUL. A typed number is written with the
digits 0 to 9: Python's ``int``, ``float`` and ``Decimal`` (so Django's number fields) also
take Arabic-Indic "٣" or fullwidth "３", which nobody means in a Danish form. Every form of the
project derives from :class:`Form` or :class:`ModelForm`, whose :class:`CheckedInput` refuses
both for every field in one place (no field can forget it); the API's schemas and the Open311
endpoint ask :func:`control_character` for the same rule.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

#: A value, SE or interval end is smaller than this in size.
MAX_MAGNITUDE = 1e12
#: The first and last year of a measurement's, a baseline's or a target's date (and wave), and
#: of a safety walk's.
FIRST_YEAR, LAST_YEAR = 1900, 2200
#: The control characters no entered text may hold: C0 but tab, LF and CR; and DEL.
CONTROL_CHARACTERS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")


def number_problem(value: float) -> str | None:
    """Why ``value`` is no plausible value (English), or None."""
    if not math.isfinite(value) or abs(value) >= MAX_MAGNITUDE:
        return "is not a plausible value (numbers are smaller than 10^12 in size)"
    return None


def date_problem(when: dt.date) -> str | None:
    """Why ``when`` is no plausible date (English), or None."""
    if not FIRST_YEAR <= when.year <= LAST_YEAR:
        return f"is not a plausible date (years {FIRST_YEAR} to {LAST_YEAR})"
    return None


def check_number(value: float) -> None:
    """A model field's validator: :func:`number_problem` as a translated message."""
    if number_problem(value) is not None:
        raise ValidationError(
            _("%(value)s is not a plausible value (numbers are smaller than 10^12 in size)."),
            code="implausible", params={"value": f"{value:g}"})


def check_date(when: dt.date) -> None:
    """A model field's validator: :func:`date_problem` as a translated message."""
    if date_problem(when) is not None:
        raise ValidationError(
            _("%(date)s is not a plausible date (years %(first)d to %(last)d)."),
            code="implausible", params={"date": when.isoformat(), "first": FIRST_YEAR,
                                        "last": LAST_YEAR})


def control_character(value: str) -> str | None:
    """The first control character in ``value`` named as ``U+001F``, or None."""
    found = _CONTROL.search(value)
    return f"U+{ord(found.group()):04X}" if found else None


def foreign_digit(value: str) -> str | None:
    """The first digit in ``value`` other than 0 to 9 (``"٣"``, ``"３"``, ``"²"``), or None."""
    return next((c for c in value if c.isdigit() and not c.isascii()), None)


def check_text(value: str) -> None:
    """A validator: no :func:`control_character` in ``value``."""
    found = control_character(value)
    if found is not None:
        raise ValidationError(
            _("The text holds an invisible control character (%(character)s), which cannot be "
              "stored. Remove it and send again."),
            code="control_character", params={"character": found})


def check_digits(value: str) -> None:
    """A validator of a typed number: no :func:`foreign_digit` in ``value``."""
    found = foreign_digit(value)
    if found is not None:
        raise ValidationError(
            _("Write the number with the digits 0 to 9 (not %(digit)s)."),
            code="foreign_digit", params={"digit": found})


#: The form fields whose typed value is a number (a model choice is a typed id).
_NUMBER_FIELDS = (forms.IntegerField, forms.FloatField, forms.DecimalField,
                  forms.ModelChoiceField)


class CheckedInput:
    """A form mixin: every field's value as sent (before the field parses or strips it) is
    checked with :func:`check_text`, and a number field's with :func:`check_digits`; a problem
    is that field's error. Checked after the form's own cleaning, on what was sent rather than
    on each field's validators, so fields a form adds in ``__init__`` (a walk's ratings) are
    covered too, and a number field's check sees the digits its ``int()`` would have eaten."""

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        form: Any = self
        if not form.is_bound:
            return
        for bound in form:  # every field's BoundField, hidden ones included
            name = bound.name
            if name in form.errors or bound.field.disabled:
                continue
            sent = bound.data
            values = sent if isinstance(sent, list | tuple) else [sent]
            checks = [check_text]
            if (isinstance(bound.field, _NUMBER_FIELDS)
                    and getattr(bound.field, "to_field_name", None) is None):
                checks.append(check_digits)
            try:
                for value in values:
                    if isinstance(value, str):
                        for check in checks:
                            check(value)
            except ValidationError as exc:
                form.add_error(name, exc)


class Form(CheckedInput, forms.Form):
    """The base of the project's forms (:class:`CheckedInput`)."""


class ModelForm(CheckedInput, forms.ModelForm):  # type: ignore[type-arg]
    """The base of the project's model forms (:class:`CheckedInput`)."""
