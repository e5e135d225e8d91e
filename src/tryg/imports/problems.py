"""Problems with an input, shown in the reader's language.

The readers and the index core cannot call gettext (they import no Django), so they keep a
problem's English message together with its marked template and params
(:meth:`tryg.index.inputs.Problem.of`); here the template is translated into the active
language and filled. A problem without a template, or a translation that does not fit its
params, keeps its English message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from django.utils.translation import gettext

from tryg.index.inputs import Problem


def localized(problem: Problem) -> Problem:
    """``problem`` with its message in the active language."""
    if not problem.template:
        return problem
    translated = gettext(problem.template)
    try:
        message = translated % problem.params if problem.params else translated
    except (KeyError, ValueError, TypeError):
        return problem
    return replace(problem, message=message)


def localized_all(problems: Iterable[Problem]) -> list[Problem]:
    return [localized(p) for p in problems]
