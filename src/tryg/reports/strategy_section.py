"""The strategy's section of the report: focus areas, initiatives (owners, public summary),
indicators with their status and change, and the initiatives' before/after evaluations.

Everything comes from the strategy app's own services, with its publication rules:
:func:`tryg.strategy.overview.strategy_view` shows a viewer what the strategy pages show them
(the public, ``user=None``: adopted or ended strategies, published initiatives and
measurements only; an internal report: what the user asking may see), with each indicator's
status computed on the report's date (:mod:`tryg.strategy.status`); the evaluations are the
initiative pages' (:func:`tryg.strategy.presentation.evaluation`, kept in the cache per
publication by :mod:`tryg.strategy.evaluation_cache`, computed once when missing), of the
latest publication like every index indicator of the strategy. Words, labels and numbers are
the strategy pages' too (:mod:`tryg.strategy.presentation`).

The section is left out when no strategy is visible or it has no visible initiative.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tryg.reports.sections import ReportData, Section, SummaryLine
from tryg.strategy import overview, presentation
from tryg.strategy.models import Strategy
from tryg.strategy.overview import IndicatorView, InitiativeView, StrategyView

MEMO = "strategy_view"


def chosen_strategy(report: ReportData) -> Strategy | None:
    """The strategy of the report: ``--strategy`` (its id or name) among those the report's
    reader may see, else the latest by start."""
    user = report.user if report.audience == "internal" else None
    strategies = overview.visible_strategies(user)
    wanted = (report.options.strategy or "").strip()
    if wanted:
        return _named(strategies, wanted).first()
    return strategies.order_by("-period_start", "-pk").first()


def _named(strategies: QuerySet[Strategy], wanted: str) -> QuerySet[Strategy]:
    """The strategies of ``strategies`` that ``wanted`` names: by number when it is ASCII
    digits ("²" and "١٢" are digits to ``str.isdigit``, not to ``int``: a name), else by
    name."""
    if wanted.isascii() and wanted.isdigit():
        return strategies.filter(pk=int(wanted)) if len(wanted) <= 18 else strategies.none()
    return strategies.filter(name=wanted)


def strategy_exists(wanted: str) -> bool:
    """Whether some stored strategy has the number or name ``wanted`` (the report form and
    ``tryg report --strategy`` refuse one that none has, rather than leave the section out
    without a word; whether the report's reader may see it is the section's own rule)."""
    return _named(Strategy.objects.all(), wanted.strip()).exists()


def strategy_view(report: ReportData) -> StrategyView | None:
    """The chosen strategy as the report's reader may see it (once per report)."""
    if MEMO not in report.memo:
        strategy = chosen_strategy(report)
        user = report.user if report.audience == "internal" else None
        today = report.options.created
        report.memo[MEMO] = (None if strategy is None or today is None
                             else overview.strategy_view(strategy, user, today))
    found: StrategyView | None = report.memo[MEMO]
    return found


def _indicator(view: IndicatorView, language: str) -> dict[str, Any]:
    a = view.assessment
    status = presentation.status_context(view, language)
    change = status["change"]
    return {
        "name": view.indicator.name, "unit": view.indicator.unit,
        "status": view.status, "status_label": status["label"], "reason": status["reason"],
        "latest": status["latest"] or "",
        "when": a.latest.when.isoformat() if a.latest is not None else "",
        "expected": status["expected"] or "",
        "change": change["value"] if change else "",
        # an exact count's change has no sampling error: no interval to show
        "change_interval": (f"{change['low']} – {change['high']}"
                            if change and a.change_low is not None
                            and a.change_low != a.change_high else ""),
        "significant": bool(change and change["significant"]),
    }


def _evaluations(iv: InitiativeView, language: str, context: Any) -> list[dict[str, Any]]:
    found = []
    for view in iv.indicators:
        made = presentation.evaluation(iv.initiative, view.indicator, context, language)
        if made is None:
            continue
        if "error" in made:
            found.append({"indicator": view.indicator.name, "error": made["error"]})
            continue
        result = made["result"]
        found.append({
            "indicator": view.indicator.name,
            "estimate": presentation.number(result.estimate, language),
            "interval": (f"{presentation.number(result.low, language)} – "
                         f"{presentation.number(result.high, language)}"),
            "p": made["p"], "significant": result.significant,
            "pre_trend_p": made["pre_trend_p"] or "",
            "mde": ("" if result.minimum_detectable_effect is None
                    else presentation.number(result.minimum_detectable_effect, language)),
            "treated": made["treated"], "comparison": made["comparison"],
            "proposed": made["proposed"], "pre": made["pre"], "post": made["post"]})
    return presentation.collapsed(found)


def _plain(report: ReportData, view: StrategyView) -> dict[str, Any]:
    """The view as plain texts for the template."""
    lang = report.language
    context = overview.context_for(report.user if report.audience == "internal" else None)
    focus_areas = []
    for fa in view.focus_areas:
        initiatives = []
        for iv in fa.initiatives:
            initiative = iv.initiative
            initiatives.append({
                "name": initiative.name, "summary": initiative.public_summary,
                "owners": ", ".join(o.name for o in initiative.owners.all()),
                "published": initiative.published,
                "start": initiative.period_start, "end": initiative.period_end,
                "indicators": [_indicator(v, lang) for v in iv.indicators],
                "evaluations": _evaluations(iv, lang, context)})
        if initiatives:
            focus_areas.append({"name": fa.focus_area.name,
                                "description": fa.focus_area.description,
                                "initiatives": initiatives})
    strategy = view.strategy
    return {"name": strategy.name, "description": strategy.description,
            "period_start": strategy.period_start, "period_end": strategy.period_end,
            "focus_areas": focus_areas,
            "counts": [(presentation.status_label(s), n) for s, n in view.counts],
            "fictional": _fictional(view)}


def _fictional(view: StrategyView) -> bool:
    """Whether any indicator shown has a fictional (demo) measurement: then the section
    says so, as the strategy pages do."""
    from tryg.strategy.models import Measurement

    ids = [v.indicator.pk for fa in view.focus_areas for iv in fa.initiatives
           for v in iv.indicators]
    return Measurement.objects.filter(indicator__in=ids, fictional=True,
                                      published=True).exists()


def build_strategy(report: ReportData) -> dict[str, Any] | None:
    view = strategy_view(report)
    if view is None:
        return None
    context = _plain(report, view)
    if not context["focus_areas"]:
        return None
    return context


def summarise_strategy(report: ReportData) -> list[SummaryLine]:
    """The initiatives' status on the summary page: how many indicators are on track, etc."""
    view = strategy_view(report)
    if view is None:
        return []
    parts = [f"{presentation.status_label(s)}: {n}" for s, n in view.counts if n]
    if not parts:
        return []
    return [SummaryLine(_("The strategy “%(name)s”, its indicators: %(counts)s.") % {
        "name": view.strategy.name, "counts": "; ".join(parts)})]


SECTION = Section("strategy", gettext_lazy("The strategy: initiatives and their status"),
                  "reports/strategy.html", build_strategy, order=400,
                  summary=summarise_strategy)
