"""What each role may see and do: the one place the rules live.

* administrator: everything, including accounts;
* analyst (municipality or police): imports, record-level register data, survey answers,
  index runs, publication;
* strategy coordinator: index runs (read), published and unpublished aggregates;
* partner (bound to an organisation) and walk participant: published aggregates only;
* the anonymous public: published, suppressed aggregates only.
"""

from __future__ import annotations

from typing import Any

from tryg.accounts.models import Role


def _role(user: Any) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMINISTRATOR
    return str(user.role)


def is_administrator(user: Any) -> bool:
    return _role(user) == Role.ADMINISTRATOR


def can_see_microdata(user: Any) -> bool:
    """Record-level register data and survey answers."""
    return _role(user) in (Role.ADMINISTRATOR, Role.ANALYST)


def can_import(user: Any) -> bool:
    return _role(user) in (Role.ADMINISTRATOR, Role.ANALYST)


def can_run_index(user: Any) -> bool:
    return _role(user) in (Role.ADMINISTRATOR, Role.ANALYST)


def can_publish(user: Any) -> bool:
    return _role(user) in (Role.ADMINISTRATOR, Role.ANALYST)


def can_see_unpublished(user: Any) -> bool:
    """Runs not yet published, and internal (unsuppressed) results."""
    return _role(user) in (Role.ADMINISTRATOR, Role.ANALYST, Role.COORDINATOR)
