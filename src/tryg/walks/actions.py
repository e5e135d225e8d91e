"""Moving actions through their states, assigning them, commenting: always with history.

The allowed moves are in :mod:`tryg.walks.states`; this module applies them and writes an
:class:`~tryg.walks.models.ActionEvent` for each change, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tryg.accounts import roles
from tryg.accounts.models import Organisation
from tryg.bounds import check_date
from tryg.walks import states
from tryg.walks.models import Action, ActionEvent, Finding
from tryg.walks.states import ActionState


class NotADuplicateError(states.StateMoveError):
    """A move to ``duplicate`` that names no other finding (none, or the action's own)."""


def _actor(user: Any) -> tuple[Any, str]:
    if getattr(user, "is_authenticated", False):
        return user, str(user.get_username())
    return None, str(user or "")


def move(action: Action, target: str, *, user: Any, comment: str = "",
         duplicate_of: Finding | None = None, now: dt.datetime | None = None) -> ActionEvent:
    """Move ``action`` to ``target`` (a :class:`StateMoveError` if the table forbids it).
    A duplicate names the other finding it repeats (:class:`NotADuplicateError` otherwise):
    the id comes from a form, so it may be of no finding, or of the action's own."""
    now = now or timezone.now()
    partner = roles.is_partner(user)
    with transaction.atomic():
        locked = Action.objects.select_for_update().get(pk=action.pk)
        states.check_move(locked.state, target, partner=partner)
        if target == ActionState.DUPLICATE and (
                duplicate_of is None or duplicate_of.pk in (None, locked.finding_id)):
            raise NotADuplicateError(_("A duplicate names another finding's number."))
        before = locked.state
        locked.state = target
        locked.closed_at = now if states.is_closed(target) else None
        if target == ActionState.DUPLICATE:
            locked.duplicate_of = duplicate_of
        locked.save(update_fields=["state", "closed_at", "duplicate_of", "updated_at"])
        actor, name = _actor(user)
        event = ActionEvent.objects.create(
            action=locked, at=now, actor=actor, actor_name=name, kind=ActionEvent.Kind.STATE,
            from_state=before, to_state=target, comment=comment)
    action.refresh_from_db()
    return event


def assign(action: Action, *, organisation: Organisation | None, deadline: dt.date | None,
           promise: str | None = None, user: Any, comment: str = "",
           now: dt.datetime | None = None) -> ActionEvent | None:
    """Give the action an owner and a deadline (and what was promised); None if unchanged.

    A ``deadline`` outside :mod:`tryg.bounds` (year 1, 9999) is refused with ValidationError,
    as the form refuses it.
    """
    if deadline is not None:
        check_date(deadline)
    now = now or timezone.now()
    with transaction.atomic():
        locked = Action.objects.select_for_update().get(pk=action.pk)
        changes = []
        if locked.organisation_id != (organisation.pk if organisation else None):
            changes.append(f"{locked.organisation or '–'} → {organisation or '–'}")
            locked.organisation = organisation
        if locked.deadline != deadline:
            changes.append(f"{locked.deadline or '–'} → {deadline or '–'}")
            locked.deadline = deadline
        if promise is not None and promise != locked.promise:
            locked.promise = promise
            changes.append(promise[:200])
        if not changes:
            return None
        locked.save()
        actor, name = _actor(user)
        event = ActionEvent.objects.create(
            action=locked, at=now, actor=actor, actor_name=name, kind=ActionEvent.Kind.ASSIGN,
            from_state=locked.state, to_state=locked.state,
            comment="; ".join([*changes, comment] if comment else changes))
    action.refresh_from_db()
    return event


def add_comment(action: Action, text: str, *, user: Any,
                now: dt.datetime | None = None) -> ActionEvent:
    actor, name = _actor(user)
    return ActionEvent.objects.create(
        action=action, at=now or timezone.now(), actor=actor, actor_name=name,
        kind=ActionEvent.Kind.COMMENT, from_state=action.state, to_state=action.state,
        comment=text)


def visible_actions(user: Any) -> Any:
    """The actions ``user`` may see: all for planners, a partner's organisation's own."""
    rows = Action.objects.select_related("finding", "organisation", "finding__walk")
    if roles.can_plan_walks(user):
        return rows
    if roles.can_see_actions(user):
        return rows.filter(organisation_id=user.organisation_id)
    return rows.none()
