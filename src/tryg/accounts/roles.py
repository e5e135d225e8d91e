"""What each role may see and do: the one place the rules live.

* administrator (role, or a superuser): everything, including accounts;
* analyst (municipality or police): imports, record-level register data, survey answers,
  index runs, publication;
* strategy coordinator: index runs (read), published and unpublished aggregates;
* partner (bound to an organisation) and walk participant: published aggregates only;
* the anonymous public: published, suppressed aggregates only.

An inactive account has no role at all. Pages and API endpoints ask these functions, never
``user.role`` directly, so a rule changes here and nowhere else.
"""

from __future__ import annotations

from typing import Any

from tryg.accounts.models import Role


def role_of(user: Any) -> str | None:
    """The effective role of ``user``; None for the anonymous public and inactive accounts."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMINISTRATOR
    return str(user.role)


def is_administrator(user: Any) -> bool:
    return role_of(user) == Role.ADMINISTRATOR


def can_manage_accounts(user: Any) -> bool:
    return role_of(user) == Role.ADMINISTRATOR


def can_see_microdata(user: Any) -> bool:
    """Record-level register data and survey answers."""
    return role_of(user) in (Role.ADMINISTRATOR, Role.ANALYST)


def can_import(user: Any) -> bool:
    return role_of(user) in (Role.ADMINISTRATOR, Role.ANALYST)


def can_run_index(user: Any) -> bool:
    return role_of(user) in (Role.ADMINISTRATOR, Role.ANALYST)


def can_publish(user: Any) -> bool:
    return role_of(user) in (Role.ADMINISTRATOR, Role.ANALYST)


def can_see_unpublished(user: Any) -> bool:
    """Runs not yet published, and internal (unsuppressed) results."""
    return role_of(user) in (Role.ADMINISTRATOR, Role.ANALYST, Role.COORDINATOR)


def can_see_run(user: Any, run: Any) -> bool:
    """A run at all: a published one is public (in its public view), others are internal."""
    return bool(run.is_published) or can_see_unpublished(user)


def can_build_report(user: Any) -> bool:
    """The council's follow-up report (tryg.reports), public or internal: analysts,
    coordinators and administrators (the public reads the published figures on the pages)."""
    return role_of(user) in (Role.ADMINISTRATOR, Role.ANALYST, Role.COORDINATOR)
