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


# -- strategies (tryg.strategy) ------------------------------------------------------------------
# Coordinators (and administrators) make and change strategies, focus areas, initiatives,
# indicators and targets; a partner (or an analyst) enters measurements and notes for the
# initiatives its organisation owns; the public sees published initiatives and measurements.


def can_edit_strategy(user: Any) -> bool:
    return role_of(user) in (Role.ADMINISTRATOR, Role.COORDINATOR)


def can_see_unpublished_initiatives(user: Any) -> bool:
    """Every initiative and measurement, published or not."""
    return role_of(user) in (Role.ADMINISTRATOR, Role.ANALYST, Role.COORDINATOR)


def owns_initiative(user: Any, initiative: Any) -> bool:
    """``user`` belongs to one of the organisations that own ``initiative``."""
    org = getattr(user, "organisation_id", None) if role_of(user) else None
    return org is not None and any(o.pk == org for o in initiative.owners.all())


def can_enter_measurements(user: Any, initiative: Any) -> bool:
    """Measurements and notes: coordinators for every initiative, partners and analysts for
    their own organisation's."""
    if can_edit_strategy(user):
        return True
    return role_of(user) in (Role.PARTNER, Role.ANALYST) and owns_initiative(user, initiative)


def can_see_initiative(user: Any, initiative: Any) -> bool:
    return (bool(initiative.published) or can_see_unpublished_initiatives(user)
            or can_enter_measurements(user, initiative))


def can_see_unpublished_measurements(user: Any, initiative: Any) -> bool:
    return can_see_unpublished_initiatives(user) or can_enter_measurements(user, initiative)


def can_import_measurements(user: Any) -> bool:
    """The measurement upload page: whoever may enter measurements for some initiative
    (coordinators; partners and analysts of an organisation). Each row is checked against
    :func:`can_enter_measurements` for its indicator's initiative."""
    if can_edit_strategy(user):
        return True
    return (role_of(user) in (Role.PARTNER, Role.ANALYST)
            and getattr(user, "organisation_id", None) is not None)
