"""The role rules in templates: ``{% load tryg_roles %}{% if user|may:"see_unpublished" %}``.

Only the rules of :mod:`tryg.accounts.roles` named here can be asked, so a template cannot
invent its own.
"""

from __future__ import annotations

from typing import Any

from django import template

from tryg.accounts import roles

register = template.Library()

RULES = {
    "see_unpublished": roles.can_see_unpublished,
    "see_microdata": roles.can_see_microdata,
    "run_index": roles.can_run_index,
    "import": roles.can_import,
    "publish": roles.can_publish,
    "build_report": roles.can_build_report,
}


@register.filter
def may(user: Any, rule: str) -> bool:
    """Whether ``user`` may do ``rule`` (a key of :data:`RULES`)."""
    return bool(RULES[rule](user))
