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


# -- background jobs (tryg.jobs) -----------------------------------------------------------------


def can_see_jobs(user: Any) -> bool:
    """Background jobs (their state, progress and results) and retrying a failed one: those
    who start them (index runs, imports)."""
    return can_run_index(user) or can_import(user)


# -- safety walks (tryg.walks) ---------------------------------------------------------------


def can_plan_walks(user: Any) -> bool:
    """Plan walks, invite, enter findings for anyone, assign actions, hold closing meetings."""
    return role_of(user) in (Role.ADMINISTRATOR, Role.ANALYST, Role.COORDINATOR)


def can_moderate_reports(user: Any) -> bool:
    """Approve or reject citizens' reports (and see the reporter's contact details)."""
    return role_of(user) in (Role.ADMINISTRATOR, Role.ANALYST, Role.COORDINATOR)


def can_record_on_walk(user: Any, walk: Any) -> bool:
    """Record findings on ``walk``: its planners, and its participants with an account."""
    if can_plan_walks(user):
        return True
    return role_of(user) is not None and walk.participants.filter(user=user).exists()


def can_see_actions(user: Any) -> bool:
    """The list of actions at all (a partner sees only its organisation's)."""
    return can_plan_walks(user) or (role_of(user) == Role.PARTNER
                                    and user.organisation_id is not None)


def can_see_action(user: Any, action: Any) -> bool:
    """One action: the planners, and the partner organisation responsible for it."""
    if can_plan_walks(user):
        return True
    return (role_of(user) == Role.PARTNER and action.organisation_id is not None
            and action.organisation_id == user.organisation_id)


def can_update_action(user: Any, action: Any) -> bool:
    """Move an action's state, comment, add a photo of the fix: as :func:`can_see_action`."""
    return can_see_action(user, action)


def is_partner(user: Any) -> bool:
    return role_of(user) == Role.PARTNER


def can_see_walk_figures(user: Any) -> bool:
    """The per-owner figures page (counts only, no positions or texts): anyone logged in."""
    return role_of(user) is not None


def can_build_report(user: Any) -> bool:
    """The council's follow-up report (tryg.reports), public or internal: analysts,
    coordinators and administrators (the public reads the published figures on the pages)."""
    return role_of(user) in (Role.ADMINISTRATOR, Role.ANALYST, Role.COORDINATOR)


def can_see_job(user: Any, created_by_id: int | None) -> bool:
    """One background job's page: who sees jobs, and the user who asked for it (e.g. a
    coordinator's report)."""
    if can_see_jobs(user):
        return True
    return role_of(user) is not None and created_by_id is not None and created_by_id == user.pk


def can_download_report(user: Any, created_by_id: int | None) -> bool:
    """A report made in the background: only the user who asked for it (it may be an
    internal report with what only they may see), while they may make reports."""
    return (can_build_report(user) and created_by_id is not None
            and created_by_id == user.pk)


def can_import_measurements(user: Any) -> bool:
    """The measurement upload page: whoever may enter measurements for some initiative
    (coordinators; partners and analysts of an organisation). Each row is checked against
    :func:`can_enter_measurements` for its indicator's initiative."""
    if can_edit_strategy(user):
        return True
    return (role_of(user) in (Role.PARTNER, Role.ANALYST)
            and getattr(user, "organisation_id", None) is not None)
