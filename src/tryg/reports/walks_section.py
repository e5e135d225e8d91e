"""The safety walks' section of the report: walks held, findings by category and by owner,
the share fixed by the deadline, and (internal reports) the open items.

Written against the walks app as it is being built (``tryg.walks``, not on this branch when
this was written): it lights up when that app is installed and has walks in the period, and is
silent otherwise. What it assumes (the lead adapts :func:`_figures` if the app differs):

* ``tryg.walks.figures.report_figures(until=date, areas=codes or None, public=bool)`` → an
  object with

  - ``walks_held``: int (walks held up to ``until``),
  - ``findings_by_category``: list of (category name, count),
  - ``findings_by_owner``: list of (owner name, count),
  - ``fixed_by_deadline``: (fixed by their deadline, with a deadline passed) as two ints,
  - ``open_items``: list of objects with ``title``, ``area``, ``owner``, ``deadline`` (a date
    or None); for ``public=True`` the walks app leaves out what the public may not see
    (citizens' names, photos, items not yet published).

The app is imported inside the provider (never at module level), so this module loads
without it.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tryg.reports.sections import ReportData, Section


def _figures(report: ReportData) -> Any | None:
    if not apps.is_installed("tryg.walks"):
        return None
    try:
        figures: Any = importlib.import_module("tryg.walks.figures")
    except ImportError:
        return None
    return figures.report_figures(until=report.options.created,
                                  areas=list(report.options.areas) or None,
                                  public=report.audience == "public")


def _share(fixed: int, due: int, language: str) -> str:
    if not due:
        return ""
    text = f"{100 * fixed / due:.0f}"
    return f"{text} %" if language == "da" else f"{text}%"


def build_walks(report: ReportData) -> dict[str, Any] | None:
    found = _figures(report)
    if found is None or not found.walks_held:
        return None
    fixed, due = found.fixed_by_deadline
    internal = report.audience == "internal"
    return {
        "walks_held": found.walks_held,
        "by_category": list(found.findings_by_category),
        "by_owner": list(found.findings_by_owner),
        "fixed": fixed, "due": due, "share": _share(fixed, due, report.language),
        "share_text": _("%(fixed)s of %(due)s findings whose deadline has passed were fixed "
                        "by it.") % {"fixed": fixed, "due": due} if due else "",
        "open_items": [{"title": i.title, "area": i.area, "owner": i.owner,
                        "deadline": i.deadline.isoformat() if i.deadline else ""}
                       for i in found.open_items] if internal else [],
        "open_count": len(found.open_items),
        "internal": internal,
    }


SECTION = Section("walks", gettext_lazy("Safety walks"), "reports/walks.html", build_walks,
                  order=500)
