"""Errors raised by the statistics engine.

Every error says what is wrong in terms of the data the user gave (a column, a stratum, a
margin), because the person reading it is an analyst, not the author of the code.
"""

from __future__ import annotations


class DesignError(ValueError):
    """The survey design cannot be built or used as given."""


class CalibrationError(ValueError):
    """Weights cannot be adjusted to the population figures given."""


class EstimationError(ValueError):
    """An estimate was asked for in a way the data cannot answer."""
