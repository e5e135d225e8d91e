"""The strategy's bounds are the shared ones of :mod:`tryg.bounds` (kept under this name: the
strategy's modules, its migration 0002 and callers elsewhere import them from here)."""

from tryg.bounds import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_MAGNITUDE,
    check_date,
    check_number,
    date_problem,
    number_problem,
)

__all__ = ["FIRST_YEAR", "LAST_YEAR", "MAX_MAGNITUDE", "check_date", "check_number",
           "date_problem", "number_problem"]
