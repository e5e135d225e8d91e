"""The strategy's section of the report: focus areas, initiatives, indicators with their status.

Written against the strategy app as it is being built (``tryg.strategy``, not on this branch
when this was written): it lights up when that app is installed and holds a strategy, and is
silent otherwise. What it assumes (the lead adapts :func:`_strategy_view` and
:func:`_plain` if the app differs):

* ``tryg.strategy.overview.visible_strategies(user)``: a queryset of the strategies ``user``
  (None: the public) may see, with ``pk``, ``name``, ``description``, ``period_start``,
  ``period_end``;
* ``tryg.strategy.overview.strategy_view(strategy, user, today)`` → an object with
  ``strategy`` and ``focus_areas``, each with ``focus_area`` (``name``, ``description``) and
  ``initiatives``, each with ``initiative`` (``name``, ``public_summary``, ``owners``) and
  ``indicators``, each with ``indicator`` (``name``, ``unit``), ``status`` (a value of
  :class:`tryg.strategy.status.Status`: on_track, uncertain, off_track, not_assessable, as
  :func:`tryg.strategy.status.assess` decides) and ``assessment`` (``reason``, ``latest``
  with ``value``/``when``, ``change``, ``significant``);
* for the public (``user=None``) only published initiatives and measurements are in the
  view: the publication rules are the strategy app's, applied by its own queries.

The app is imported inside the provider (never at module level), so this module loads
without it.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tryg.reports.sections import ReportData, Section, SummaryLine

STATUS_LABELS = {
    "on_track": gettext_lazy("On track"),
    "uncertain": gettext_lazy("Too uncertain to tell"),
    "off_track": gettext_lazy("Off track"),
    "not_assessable": gettext_lazy("Cannot be assessed yet"),
}
STATUS_ORDER = tuple(STATUS_LABELS)


def _number(value: Any, language: str) -> str:
    if value is None:
        return ""
    text = f"{float(value):,.1f}"
    return text.translate(str.maketrans(",.", ".,")) if language == "da" else text


def _strategy_view(report: ReportData) -> Any | None:
    """The strategy's view (see the module's docstring), or None without the app or a
    strategy."""
    if not apps.is_installed("tryg.strategy"):
        return None
    try:
        overview: Any = importlib.import_module("tryg.strategy.overview")
    except ImportError:
        return None
    user = report.user if report.audience == "internal" else None
    strategies = overview.visible_strategies(user)
    wanted = report.options.strategy
    if wanted:
        found = (strategies.filter(pk=int(wanted)) if wanted.isdigit()
                 else strategies.filter(name=wanted))
        strategy = found.first()
    else:
        strategy = strategies.order_by("-period_start", "-pk").first()
    if strategy is None:
        return None
    today = report.options.created
    return overview.strategy_view(strategy, user, today)


def _plain(report: ReportData, view: Any) -> dict[str, Any]:
    """The view as plain texts for the template."""
    lang = report.language
    counts = dict.fromkeys(STATUS_ORDER, 0)
    focus_areas = []
    for fa in view.focus_areas:
        initiatives = []
        for iv in fa.initiatives:
            initiative = iv.initiative
            indicators = []
            for ind in iv.indicators:
                status = str(ind.status)
                counts[status] = counts.get(status, 0) + 1
                a = ind.assessment
                latest = getattr(a, "latest", None)
                indicators.append({
                    "name": ind.indicator.name, "unit": getattr(ind.indicator, "unit", ""),
                    "status": status, "status_label": STATUS_LABELS.get(status, status),
                    "latest": _number(latest.value, lang) if latest is not None else "",
                    "when": latest.when.isoformat() if latest is not None else "",
                    "change": _number(a.change, lang) if a.change is not None else "",
                    "significant": bool(a.significant),
                    "reason": getattr(a, "reason", ""),
                })
            owners = ", ".join(o.name for o in initiative.owners.all())
            initiatives.append({"name": initiative.name,
                                "summary": getattr(initiative, "public_summary", ""),
                                "owners": owners, "indicators": indicators})
        focus_areas.append({"name": fa.focus_area.name,
                            "description": getattr(fa.focus_area, "description", ""),
                            "initiatives": initiatives})
    strategy = view.strategy
    return {"name": strategy.name, "description": getattr(strategy, "description", ""),
            "period_start": strategy.period_start, "period_end": strategy.period_end,
            "focus_areas": focus_areas,
            "counts": [(STATUS_LABELS[s], counts[s]) for s in STATUS_ORDER]}


def build_strategy(report: ReportData) -> dict[str, Any] | None:
    view = _strategy_view(report)
    if view is None:
        return None
    context = _plain(report, view)
    if not any(fa["initiatives"] for fa in context["focus_areas"]):
        return None
    return context


def summarise_strategy(report: ReportData) -> list[SummaryLine]:
    """The initiatives' status on the summary page: how many indicators are on track, etc."""
    view = _strategy_view(report)
    if view is None:
        return []
    context = _plain(report, view)
    parts = [f"{label}: {n}" for label, n in context["counts"] if n]
    if not parts:
        return []
    return [SummaryLine(_("The strategy “%(name)s”, its indicators: %(counts)s.") % {
        "name": context["name"], "counts": "; ".join(str(p) for p in parts)})]


SECTION = Section("strategy", gettext_lazy("The strategy: initiatives and their status"),
                  "reports/strategy.html", build_strategy, order=400,
                  summary=summarise_strategy)
