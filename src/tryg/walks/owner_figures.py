"""One owner's figures (an organisation's own actions), answered from the owner index.

:func:`tryg.walks.figures.per_owner` computes every owner's line over all actions, which at
national scale (hundreds of thousands of actions) is a full scan and a Python pass over every
fixed action. A partner's or a municipality's own page needs one line: here it is read
through the index on (organisation, state), so it costs what that owner has, not what the
country has (the index ``walks_action_owner_figures`` covers the action's side of both
queries). The definitions are those of :mod:`tryg.walks.figures`.

Times are read as seconds since the epoch computed by the database (:class:`Epoch`), not as
datetimes, and fetched without Django's per-row conversion: Django's SQLite backend parses
every datetime and runs date casts and differences as Python functions per row, which for a
large owner costs more than the query itself.
"""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

from django.db import connection
from django.db.models import Case, F, FloatField, Func, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from tryg.accounts.models import Organisation
from tryg.walks.figures import HELD, Figures
from tryg.walks.models import Action, Finding, Walk
from tryg.walks.states import OPEN_STATES, ActionState

DAY = 86400.0
EPOCH_DAY = dt.date(1970, 1, 1)


class Epoch(Func):
    """Seconds since 1970-01-01 UTC of a datetime, computed by the database."""

    output_field = FloatField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Django stores naive UTC text, which julianday() reads.
        return self.as_sql(compiler, connection,
                           template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
                           **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection,
                           template="EXTRACT(EPOCH FROM %(expressions)s)::float8", **extra)


def _fetch(rows: QuerySet[Any, Any]) -> list[tuple[Any, ...]]:
    """The rows as the database gives them (numbers): without Django's per-row conversion,
    which costs more than the query for a few thousand rows."""
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


#: When an action's finding was observed (or stored), looked up by its key for each fixed
#: action: a correlated subquery, so PostgreSQL reads the few findings by index instead of
#: hashing a scan of them all (what it plans for a join).
_started = Finding.objects.annotate(
    start=Epoch(Coalesce("observed_at", "created_at"))).values("start").order_by()


def for_owner(organisation: Organisation, today: dt.date | None = None) -> Figures:
    """The figures of the actions ``organisation`` is responsible for.

    Two queries (under load each round trip to the database costs more than its work): the
    owner's actions, one row each, from the covering index (the finding's start looked up
    for the fixed ones only), and the walks held.
    """
    today = today or timezone.localdate()
    today_epoch = (today - EPOCH_DAY).days * DAY
    fixed = Q(state=ActionState.FIXED, closed_at__isnull=False)
    rows = (Action.objects.filter(organisation=organisation)
            .annotate(due_day=Epoch(F("deadline")), closed=Epoch(F("closed_at")),
                      start=Case(When(fixed, then=Subquery(
                          _started.filter(pk=OuterRef("finding_id")))),
                          default=None, output_field=FloatField()))
            .values_list("state", "due_day", "closed", "start").order_by())
    zone = timezone.get_current_timezone()
    days: list[float] = []
    count = open_ = due = on_time = 0
    for state, due_day, closed, start in _fetch(rows):
        count += 1
        open_ += state in OPEN_STATES
        is_fixed = state == ActionState.FIXED
        if due_day is not None and (due_day < today_epoch or is_fixed):
            due += 1
        if start is None or closed is None:
            continue
        days.append(max(0.0, (closed - start) / DAY))
        if due_day is not None and (dt.datetime.fromtimestamp(closed, zone).date()
                                    <= dt.datetime.fromtimestamp(due_day, dt.UTC).date()):
            on_time += 1
    held = (Walk.objects.filter(status__in=HELD)
            .filter(Q(organiser=organisation) | Q(participants__organisation=organisation))
            .values("id").distinct().count())
    return Figures(str(organisation.pk), organisation.name, count, open_, due, on_time,
                   statistics.median(days) if days else None, held)
