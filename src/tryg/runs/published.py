"""Runs as the pages and the API show them: which runs a user may know of, the public view of
a published run's results, rows as records.

The stored results table and its public view come from :mod:`tryg.runs.services`
(``results_frame``, and the core's :func:`tryg.index.results.public_view` applied with the
run's own specification); nothing here re-implements the publication rules. Who may see what
is decided in :mod:`tryg.accounts.roles`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.db.models import QuerySet

from tryg.accounts import roles
from tryg.runs import services
from tryg.runs.models import IndexRun


def visible_runs(user: Any) -> QuerySet[IndexRun]:
    """The runs ``user`` may know of: all for those who see unpublished runs, else published."""
    runs = IndexRun.objects.select_related("spec")
    if roles.can_see_unpublished(user):
        return runs
    return runs.filter(published_at__isnull=False)


def public_results(run: IndexRun) -> pd.DataFrame:
    """The run's results as they may be published (suppression and small counts applied).

    Refuses an unpublished run, so that a caller cannot serve one by mistake.
    """
    if not run.is_published:
        raise ValueError(f"run {run.pk} is not published")
    return services.public_results(run)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with missing values as None (for templates and JSON)."""
    out = frame.astype(object).where(frame.notna(), None)
    return [dict(zip(out.columns, row, strict=True)) for row in out.itertuples(index=False)]
