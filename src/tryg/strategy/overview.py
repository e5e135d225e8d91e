"""What the pages show: strategies, initiatives and indicators as a viewer may see them, with
each indicator's status computed in Python from rows read up front.

A strategy's overview reads a fixed number of queries whatever its size (strategy, partners,
focus areas, initiatives, owners, areas, indicators with baselines, targets, measurements,
and the published run once): no query per indicator (bench/strategy_overview.py and
tests/strategy/test_overview_queries.py).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet, Window
from django.db.models.functions import Least, RowNumber

from tryg.accounts import roles
from tryg.strategy import sources
from tryg.strategy.models import (
    Baseline,
    FocusArea,
    Indicator,
    Initiative,
    InitiativeArea,
    Measurement,
    Strategy,
    Target,
)
from tryg.strategy.status import Assessment, Point, Status, assess, max_age_days
from tryg.strategy.status import Target as PathTarget

#: Order in which statuses are counted and shown.
STATUSES: tuple[Status, ...] = (Status.ON_TRACK, Status.UNCERTAIN, Status.OFF_TRACK,
                                Status.NOT_ASSESSABLE)


def visible_strategies(user: Any) -> QuerySet[Strategy]:
    """Strategies ``user`` may see: all for coordinators, analysts and administrators;
    adopted and ended ones for everyone else."""
    found = Strategy.objects.all()
    if roles.can_see_unpublished_initiatives(user):
        return found
    return found.exclude(status=Strategy.Status.DRAFT)


def visible_initiatives(user: Any) -> QuerySet[Initiative]:
    found = Initiative.objects.all()
    if roles.can_see_unpublished_initiatives(user):
        return found
    found = found.filter(focus_area__strategy__in=visible_strategies(user))
    org = getattr(user, "organisation_id", None) if roles.role_of(user) else None
    if org is not None and roles.role_of(user) in ("partner", "analyst"):
        return found.filter(Q(published=True) | Q(owners=org)).distinct()
    return found.filter(published=True)


def _indicator_queryset() -> QuerySet[Indicator]:
    return (Indicator.objects.select_related("baseline").order_by("order", "id")
            .prefetch_related(Prefetch("targets", queryset=Target.objects.order_by("when", "id")),
                              Prefetch("measurements",
                                       queryset=Measurement.objects.order_by("when", "id"))))


def initiatives_queryset(user: Any) -> QuerySet[Initiative]:
    """Visible initiatives with owners, areas and indicators (and theirs) prefetched."""
    return (visible_initiatives(user).select_related("focus_area__strategy")
            .order_by("order", "id")
            .prefetch_related("owners",
                              Prefetch("areas", queryset=InitiativeArea.objects.order_by("code")),
                              Prefetch("indicators", queryset=_indicator_queryset())))


@dataclass
class IndicatorView:
    indicator: Indicator
    points: list[Point]
    baseline: Point | None
    targets: list[PathTarget]
    assessment: Assessment
    measurements: list[Measurement] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.assessment.status)


@dataclass
class InitiativeView:
    initiative: Initiative
    indicators: list[IndicatorView]
    can_enter: bool
    can_edit: bool

    @property
    def counts(self) -> list[tuple[str, int]]:
        found = Counter(v.status for v in self.indicators)
        return [(str(s), found[str(s)]) for s in STATUSES if found[str(s)]]


def baseline_point(baseline: Baseline | None) -> Point | None:
    if baseline is None:
        return None
    return Point(when=baseline.when, value=baseline.value, se=baseline.se, low=baseline.low,
                 high=baseline.high, n=baseline.n,
                 estimate=not (baseline.se is None and baseline.low is None))


def _assess(indicator: Indicator, points: list[Point], baseline: Point | None,
            targets: list[PathTarget], today: dt.date) -> Assessment:
    """The status: against the stored baseline, else the first point (when there are more)."""
    after = points
    if baseline is None and len(points) > 1:
        baseline, after = points[0], points[1:]
    return assess(baseline=baseline, targets=targets, measurements=after,
                  polarity="down" if indicator.polarity == "down" else "up", today=today,
                  max_age_days=max_age_days(indicator.frequency, points))


def indicator_view(indicator: Indicator, context: sources.SeriesContext, today: dt.date,
                   show_unpublished: bool) -> IndicatorView:
    """One indicator with its measurements, targets and baseline prefetched (the initiative
    page: :func:`initiatives_queryset`)."""
    points = sources.series(indicator, context)
    try:
        stored: Baseline | None = indicator.baseline
    except Baseline.DoesNotExist:
        stored = None
    baseline = baseline_point(stored)
    targets = [PathTarget(when=t.when, value=t.value) for t in indicator.targets.all()]
    assessment = _assess(indicator, points, baseline, targets, today)
    if baseline is None and len(points) > 1:
        baseline = points[0]
    measurements = [m for m in indicator.measurements.all()
                    if m.published or show_unpublished]
    return IndicatorView(indicator, points, baseline, targets, assessment, measurements)


def initiative_view(initiative: Initiative, user: Any, context: sources.SeriesContext,
                    today: dt.date) -> InitiativeView:
    unpublished = roles.can_see_unpublished_measurements(user, initiative)
    views = [indicator_view(i, context, today, unpublished)
             for i in initiative.indicators.all()]
    return InitiativeView(initiative, views, roles.can_enter_measurements(user, initiative),
                          roles.can_edit_strategy(user))


def context_for(user: Any) -> sources.SeriesContext:
    def unpublished(indicator: Indicator) -> bool:
        return roles.can_see_unpublished_measurements(user, indicator.initiative)

    return sources.SeriesContext(unpublished=unpublished)


@dataclass
class FocusAreaView:
    focus_area: FocusArea
    initiatives: list[InitiativeView]


@dataclass
class StrategyView:
    strategy: Strategy
    focus_areas: list[FocusAreaView]

    @property
    def counts(self) -> list[tuple[str, int]]:
        found: Counter[str] = Counter()
        for fa in self.focus_areas:
            for iv in fa.initiatives:
                found.update(v.status for v in iv.indicators)
        return [(str(s), found[str(s)]) for s in STATUSES]


def strategy_view(strategy: Strategy, user: Any, today: dt.date) -> StrategyView:
    """The whole strategy as ``user`` may see it, statuses computed.

    Read for a page of thousands of indicators: initiatives, owners and areas prefetched,
    indicators as objects, but baselines, targets and measurements as plain rows (building
    20,000 model objects would take most of the page's time), in a fixed number of queries.
    An entered indicator's :attr:`IndicatorView.points` are here its first and latest
    measurement only: what its status is computed from.
    """
    initiatives = list(visible_initiatives(user).filter(focus_area__strategy=strategy)
                       .select_related("focus_area__strategy").order_by("order", "id")
                       .prefetch_related("owners", Prefetch(
                           "areas", queryset=InitiativeArea.objects.order_by("code")),
                           Prefetch("indicators", queryset=Indicator.objects.order_by(
                               "order", "id"))))
    ids = [i.pk for i in initiatives]
    unpublished = {i.pk for i in initiatives
                   if roles.can_see_unpublished_measurements(user, i)}
    of_strategy = {"indicator__initiative__in": ids}
    # Only the first and the latest visible measurement decide the status (the first stands
    # in for a missing baseline): the database picks those two rows per indicator.
    def edge(order: list[Any]) -> Window:
        return Window(RowNumber(), partition_by=[F("indicator_id")], order_by=order)

    visible = Q(published=True) | Q(indicator__initiative__in=sorted(unpublished))
    rows = (Measurement.objects.filter(visible, **of_strategy)
            .annotate(edge=Least(edge([F("when").asc(), F("id").asc()]),
                                 edge([F("when").desc(), F("id").desc()])))
            .filter(edge=1).order_by("indicator_id", "when", "id")
            .values_list("indicator_id", "when", "value", "se", "low", "high", "n", "exact"))
    manual: dict[int, list[Point]] = {}
    for indicator_id, when, value, se, low, high, n, exact in rows:
        manual.setdefault(indicator_id, []).append(
            Point(when=when, value=value, se=se, low=low, high=high, n=n, estimate=not exact))
    targets: dict[int, list[PathTarget]] = {}
    for indicator_id, when, value in Target.objects.filter(**of_strategy).order_by(
            "when", "id").values_list("indicator_id", "when", "value"):
        targets.setdefault(indicator_id, []).append(PathTarget(when=when, value=value))
    baselines = {row[0]: Point(when=row[1], value=row[2], se=row[3], low=row[4], high=row[5],
                               n=row[6], estimate=not (row[3] is None and row[4] is None))
                 for row in Baseline.objects.filter(**of_strategy).values_list(
                     "indicator_id", "when", "value", "se", "low", "high", "n")}
    context = context_for(user)
    context.manual = manual
    by_area: dict[int, list[InitiativeView]] = {}
    for initiative in initiatives:
        views = []
        for indicator in initiative.indicators.all():
            points = sources.series(indicator, context)
            baseline = baselines.get(indicator.pk)
            goals = targets.get(indicator.pk, [])
            views.append(IndicatorView(indicator, points, baseline, goals,
                                       _assess(indicator, points, baseline, goals, today)))
        by_area.setdefault(initiative.focus_area_id, []).append(InitiativeView(
            initiative, views, roles.can_enter_measurements(user, initiative),
            roles.can_edit_strategy(user)))
    focus_areas = list(strategy.focus_areas.all())
    return StrategyView(strategy, [FocusAreaView(fa, by_area.get(fa.pk, []))
                                   for fa in focus_areas])


def area_initiatives(code: str, today: dt.date) -> list[InitiativeView]:
    """The published initiatives working in area ``code``, as the public sees them."""
    initiatives = initiatives_queryset(None).filter(areas__code=code).distinct()
    context = context_for(None)
    return [initiative_view(i, None, context, today) for i in initiatives]
