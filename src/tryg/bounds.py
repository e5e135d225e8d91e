"""What an entered number and date may be, the same in every app that takes them.

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
"""

from __future__ import annotations

import datetime as dt
import math

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

#: A value, SE or interval end is smaller than this in size.
MAX_MAGNITUDE = 1e12
#: The first and last year of a measurement's, a baseline's or a target's date (and wave), and
#: of a safety walk's.
FIRST_YEAR, LAST_YEAR = 1900, 2200


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
