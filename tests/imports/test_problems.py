"""Problems shown in the active language."""

from __future__ import annotations

from django.utils import translation

from tryg.imports.problems import localized
from tryg.index.inputs import Problem


def test_a_problem_is_shown_in_the_active_language() -> None:
    problem = Problem.of("svar.csv", 2, "weight", "%(value)s is not a number", value="'x'")
    with translation.override("da"):
        assert localized(problem).message == "'x' er ikke et tal"
    with translation.override("en"):
        assert localized(problem).message == "'x' is not a number"
    assert localized(problem) == Problem("svar.csv", 2, "weight", "'x' is not a number")


def test_a_problem_without_a_template_keeps_its_english_message() -> None:
    plain = Problem("svar.csv", None, None, "100% broken")
    with translation.override("da"):
        assert localized(plain).message == "100% broken"
