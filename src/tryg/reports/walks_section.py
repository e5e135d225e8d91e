"""The safety walks' section of the report: walks held, findings by category and by owner,
the share fixed by the deadline, the median days to fix, and the open items.

The figures are the walks app's (:func:`tryg.walks.figures.report_figures`), for the whole
site, on the report's date (which deadlines have passed). A public report holds counts only,
as the public area pages do; the open items themselves (what, where, who, by when) are listed
in an internal report only. The section is left out while no walk has been held and nothing
has been found.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tryg.charts.labels import format_number
from tryg.reports.sections import ReportData, Section
from tryg.walks.figures import ReportFigures, report_figures


def figures(report: ReportData) -> ReportFigures | None:
    today = report.options.created
    if today is None:
        return None
    return report_figures(today, details=report.audience == "internal")


def _share(share: float | None, language: str) -> str:
    if share is None:
        return ""
    text = f"{100 * share:.0f}"
    return f"{text} %" if language == "da" else f"{text}%"


def build_walks(report: ReportData) -> dict[str, Any] | None:
    found = figures(report)
    if found is None or not (found.walks_held or found.findings):
        return None
    language = report.language
    internal = report.audience == "internal"
    no_owner = _("No owner yet")
    return {
        "walks_held": found.walks_held, "findings": found.findings,
        "by_category": found.by_category,
        "by_owner": [(name or no_owner, n) for name, n in found.by_owner],
        "fixed": found.fixed_by_deadline, "due": found.due,
        "share": _share(found.share_fixed_by_deadline, language),
        "median_days": ("" if found.median_days_to_fix is None
                        else format_number(found.median_days_to_fix, language)),
        "open_items": [{"what": f"{i.category}: {i.text}", "area": i.area_name,
                        "owner": i.owner or no_owner,
                        "deadline": i.deadline.isoformat() if i.deadline else "–",
                        "state": i.state, "overdue": i.overdue}
                       for i in found.open_items] if internal else [],
        "open_count": found.open_count,
        "internal": internal,
    }


SECTION = Section("walks", gettext_lazy("Safety walks"), "reports/walks.html", build_walks,
                  order=500)
