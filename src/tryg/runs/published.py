"""A run's results for pages and the API: only published runs get a public view.

The stored results table and its public view come from :mod:`tryg.runs.services`
(``results_frame``, and the core's :func:`tryg.index.results.public_view` applied with the
run's own specification); nothing here re-implements the publication rules.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from tryg.index.spec import Spec
from tryg.runs import services
from tryg.runs.models import IndexRun


def run_spec(run: IndexRun) -> Spec:
    return services.run_spec(run)


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
