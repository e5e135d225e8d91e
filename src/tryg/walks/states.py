"""The states of an action and of a walk, and the allowed moves between them: the one place.

An action follows FixMyStreet's richer-than-open/closed states (domain notes §4). Open311
exposes only ``open``/``closed`` (:func:`open311_status`) with the detail in ``status_notes``.
A move not listed here is refused by :func:`check_move`; services and views never compare
states themselves.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ActionState(models.TextChoices):
    NEW = "new", _("New")
    CONFIRMED = "confirmed", _("Confirmed")
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    FIXED = "fixed", _("Fixed")
    NOT_RESPONSIBLE = "not_responsible", _("Not the owner's responsibility")
    DUPLICATE = "duplicate", _("Duplicate")
    NO_FURTHER_ACTION = "no_further_action", _("No further action")


S = ActionState

#: Where each state may go. A closed action can be reopened (to ``confirmed``), e.g. by a
#: re-walk that finds the problem is back; ``not_responsible`` goes back to ``new`` so the
#: coordinator can give it another owner.
ACTION_MOVES: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.CONFIRMED, S.PLANNED, S.IN_PROGRESS, S.FIXED, S.NOT_RESPONSIBLE,
                      S.DUPLICATE, S.NO_FURTHER_ACTION}),
    S.CONFIRMED: frozenset({S.PLANNED, S.IN_PROGRESS, S.FIXED, S.NOT_RESPONSIBLE,
                            S.DUPLICATE, S.NO_FURTHER_ACTION}),
    S.PLANNED: frozenset({S.IN_PROGRESS, S.FIXED, S.NOT_RESPONSIBLE, S.NO_FURTHER_ACTION,
                          S.CONFIRMED}),
    S.IN_PROGRESS: frozenset({S.FIXED, S.PLANNED, S.NOT_RESPONSIBLE, S.NO_FURTHER_ACTION}),
    S.FIXED: frozenset({S.CONFIRMED}),
    S.NOT_RESPONSIBLE: frozenset({S.NEW}),
    S.DUPLICATE: frozenset({S.CONFIRMED}),
    S.NO_FURTHER_ACTION: frozenset({S.CONFIRMED}),
}

#: States in which the action needs no more work (Open311 ``closed``).
CLOSED_STATES: frozenset[str] = frozenset(
    {S.FIXED, S.NOT_RESPONSIBLE, S.DUPLICATE, S.NO_FURTHER_ACTION})
OPEN_STATES: frozenset[str] = frozenset(ActionState.values) - CLOSED_STATES

#: Moves a partner organisation may make on its own actions; the rest (duplicate, reopening)
#: belong to the coordinators. ``not_responsible`` hands the action back.
PARTNER_MOVES: frozenset[tuple[str, str]] = frozenset(
    (a, b) for a, targets in ACTION_MOVES.items() for b in targets
    if a in OPEN_STATES and b in {S.CONFIRMED, S.PLANNED, S.IN_PROGRESS, S.FIXED,
                                  S.NOT_RESPONSIBLE, S.NO_FURTHER_ACTION})


class StateMoveError(ValueError):
    """A move the table does not allow."""


def allowed_moves(state: str, *, partner: bool = False) -> list[str]:
    """The states ``state`` may move to, in the order of :class:`ActionState`."""
    targets = ACTION_MOVES.get(state, frozenset())
    return [s for s in ActionState.values if s in targets
            and (not partner or (state, s) in PARTNER_MOVES)]


def check_move(state: str, target: str, *, partner: bool = False) -> None:
    if target not in allowed_moves(state, partner=partner):
        raise StateMoveError(_("An action cannot go from “%(from)s” to “%(to)s”.") % {
            "from": label(state), "to": label(target)})


def is_closed(state: str) -> bool:
    return state in CLOSED_STATES


def open311_status(state: str) -> str:
    return "closed" if state in CLOSED_STATES else "open"


def label(state: str) -> str:
    try:
        return str(ActionState(state).label)
    except ValueError:
        return state


class WalkStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", _("Walked")
    MEETING_HELD = "meeting_held", _("Closing meeting held")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


W = WalkStatus

WALK_MOVES: dict[str, frozenset[str]] = {
    W.PLANNED: frozenset({W.HELD, W.CANCELLED}),
    W.HELD: frozenset({W.MEETING_HELD}),
    W.MEETING_HELD: frozenset({W.CLOSED}),
    W.CLOSED: frozenset(),
    W.CANCELLED: frozenset({W.PLANNED}),
}


#: Statuses in which a walk takes no new findings: its closing meeting has grouped what was
#: found, or it is closed or cancelled. A phone's queue may still send findings later; they
#: are refused for good (409), not kept for another try.
NO_NEW_FINDINGS: frozenset[str] = frozenset({W.MEETING_HELD, W.CLOSED, W.CANCELLED})


def accepts_findings(status: str) -> bool:
    return status not in NO_NEW_FINDINGS


def check_walk_move(status: str, target: str) -> None:
    if target not in WALK_MOVES.get(status, frozenset()):
        raise StateMoveError(_("A walk cannot go from “%(from)s” to “%(to)s”.") % {
            "from": status, "to": target})


class Moderation(models.TextChoices):
    """A citizen's report is shown publicly only once approved."""

    NOT_NEEDED = "not_needed", _("Not needed")
    PENDING = "pending", _("Awaiting moderation")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
