"""Template filters of the walk pages: the role checks the navigation needs."""

from __future__ import annotations

from typing import Any

from django import template

from tryg.accounts import roles

register = template.Library()


@register.filter
def can_plan_walks(user: Any) -> bool:
    return roles.can_plan_walks(user)


@register.filter
def can_see_actions(user: Any) -> bool:
    return roles.can_see_actions(user)


@register.filter
def state_label(state: str) -> str:
    from tryg.walks.states import label

    return label(state) if state else ""


@register.filter
def category_label(code: str) -> str:
    from tryg.walks.checklists import category_label as name

    return name(code)


@register.filter
def percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.0f} %"


@register.filter
def days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"
