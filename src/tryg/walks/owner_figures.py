"""One owner's figures (an organisation's own actions), answered from the owner index.

:func:`tryg.walks.figures.per_owner` computes every owner's line over all actions, which at
national scale (hundreds of thousands of actions) is a full scan and a Python pass over every
fixed action. A partner's or a municipality's own page needs one line: here it is read
through the index on (organisation, state), so it costs what that owner has, not what the
country has. The definitions are those of :mod:`tryg.walks.figures`.
"""

from __future__ import annotations

import datetime as dt
import statistics

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from tryg.accounts.models import Organisation
from tryg.walks.figures import HELD, Figures
from tryg.walks.models import Action, Participant, Walk
from tryg.walks.states import OPEN_STATES, ActionState


def for_owner(organisation: Organisation, today: dt.date | None = None) -> Figures:
    """The figures of the actions ``organisation`` is responsible for."""
    today = today or timezone.localdate()
    actions = Action.objects.filter(organisation=organisation)
    c = actions.aggregate(
        findings=Count("id"),
        open=Count("id", filter=Q(state__in=OPEN_STATES)),
        due=Count("id", filter=Q(deadline__isnull=False)
                  & (Q(deadline__lt=today) | Q(state=ActionState.FIXED))),
        on_time=Count("id", filter=Q(state=ActionState.FIXED, deadline__isnull=False,
                                     closed_at__date__lte=F("deadline"))))
    # The durations are computed by the database: one interval a row, not three datetimes
    # parsed in Python.
    took = ExpressionWrapper(
        F("closed_at") - Coalesce("finding__observed_at", "finding__created_at"),
        output_field=DurationField())
    days = [max(0.0, d.total_seconds() / 86400.0) for d in actions.filter(
        state=ActionState.FIXED, closed_at__isnull=False).annotate(took=took)
        .values_list("took", flat=True)]
    organised = set(Walk.objects.filter(status__in=HELD, organiser=organisation)
                    .values_list("id", flat=True))
    joined = set(Participant.objects.filter(walk__status__in=HELD, organisation=organisation)
                 .values_list("walk_id", flat=True))
    return Figures(str(organisation.pk), organisation.name, c["findings"], c["open"],
                   c["due"], c["on_time"], statistics.median(days) if days else None,
                   len(organised | joined))
