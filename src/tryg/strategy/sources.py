"""Where an indicator's figures come from: a small registry keyed by the source kind.

* ``index``: a measure of an area in the published index runs, read when asked (no copy): the
  public view of the latest published run, so a newly published run shows at once, with its
  estimate, standard error, interval and n (suppressed figures are not shown);
* ``register``: a register measure of the same runs (a rate with its Poisson interval);
* ``manual``: the measurements entered on the pages, by the API or imported from a file;
* ``plugin``: a function another module registers under a name (:func:`register_plugin`),
  e.g. the safety walks' figures.

Each source is a function ``(indicator, context) -> list[Point]``. :class:`SeriesContext`
carries what the caller has read already (the published data, whether unpublished
measurements may be shown), so a page of 2,000 indicators reads the published run once.

A later module plugs in through the same interface, without this app knowing it: it registers
a function under a name when its app is ready, and an indicator whose source is ``plugin``
and whose module field (``Indicator.plugin``) holds that name gets its points from it - with
status, trend chart, table, overview and API like every other indicator. For example the
safety walks (``tryg.walks``, their ``figures`` module)::

    # tryg/walks/figures.py
    import datetime as dt

    from tryg.strategy.models import Indicator
    from tryg.strategy.sources import SeriesContext, register_plugin
    from tryg.strategy.status import Point


    def fixed_findings(indicator: Indicator, context: SeriesContext) -> list[Point]:
        # findings of the walks in the indicator's areas fixed within three months, per
        # year: exact counts (no sampling error); published findings only unless
        # context.unpublished(indicator)
        codes = [a.code for a in indicator.initiative.areas.all()]
        return [Point(when=dt.date(year, 12, 31), value=float(count), estimate=False)
                for year, count in fixed_per_year(codes)]  # the walks' own query


    # tryg/walks/apps.py
    class WalksConfig(AppConfig):
        def ready(self) -> None:
            from tryg.walks.figures import fixed_findings

            register_plugin("walks.fixed_findings", fixed_findings)

A name nobody registered gives no points (the status says: no measurement yet). The
function is called once per indicator on a page: on the overview of 2,000 indicators it should
read what it needs once (e.g. cache on ``context``), not query per call. A share from a
sample is an estimate: give it a standard error or interval (``estimate=True``), or the
status is *not assessable*.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from tryg.strategy.models import Indicator
from tryg.strategy.status import Point

#: The date a survey wave (a year) stands for when set against dated targets.
WAVE_MONTH_DAY = (12, 31)


def wave_date(wave: int) -> dt.date:
    return dt.date(wave, *WAVE_MONTH_DAY)


@dataclass
class SeriesContext:
    """What the sources of one page share. ``unpublished``: show unpublished measurements
    (a function of the indicator, asked per initiative)."""

    unpublished: Callable[[Indicator], bool] = field(default=lambda _i: False)
    #: Entered measurements read already (visible ones only), by indicator id.
    manual: dict[int, list[Point]] | None = None

    @cached_property
    def published(self) -> Any:
        """The latest published run's public data (None before any publication)."""
        from tryg.public.data import latest_published_run, published

        run = latest_published_run()
        return published(run) if run is not None else None


Source = Callable[[Indicator, SeriesContext], list[Point]]
SOURCES: dict[str, Source] = {}
PLUGINS: dict[str, Source] = {}


def register(kind: str) -> Callable[[Source], Source]:
    def add(function: Source) -> Source:
        SOURCES[kind] = function
        return function

    return add


def register_plugin(name: str, function: Source) -> None:
    """Let a module (e.g. ``tryg.walks``) feed indicators whose source is ``plugin`` and
    whose module field is ``name``."""
    PLUGINS[name] = function


def series(indicator: Indicator, context: SeriesContext | None = None) -> list[Point]:
    """The indicator's points in date order."""
    context = context or SeriesContext()
    source = SOURCES.get(indicator.source)
    points = source(indicator, context) if source is not None else []
    return sorted(points, key=lambda p: p.when)


def area_of(indicator: Indicator) -> str | None:
    """The area of an index or register indicator: its own, else its initiative's first."""
    if indicator.area_code:
        return indicator.area_code
    codes = sorted(a.code for a in indicator.initiative.areas.all())
    return codes[0] if codes else None


def _count(value: Any) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None  # "< 5": withheld


def published_points(indicator: Indicator, context: SeriesContext) -> list[Point]:
    data = context.published
    code = area_of(indicator)
    if data is None or code is None or not indicator.measure_id:
        return []
    from tryg.public.data import rows

    # shares as the pages show them: in percent
    scale = 100.0 if data.info(indicator.measure_id).in_percent else 1.0

    def scaled(value: Any) -> float | None:
        return None if value is None else scale * float(value)

    points = []
    for row in rows(data, area_code=code, measure=indicator.measure_id):
        if row["suppressed"] or row["estimate"] is None:
            continue
        points.append(Point(when=wave_date(int(row["wave"])),
                            value=scale * float(row["estimate"]),
                            se=scaled(row["se"]), low=scaled(row["ci_low"]),
                            high=scaled(row["ci_high"]), n=_count(row.get("n_display")),
                            estimate=True))
    return points


register(Indicator.Source.INDEX)(published_points)
register(Indicator.Source.REGISTER)(published_points)


@register(Indicator.Source.MANUAL)
def entered_points(indicator: Indicator, context: SeriesContext) -> list[Point]:
    if context.manual is not None:
        return list(context.manual.get(indicator.pk, ()))
    show_all = context.unpublished(indicator)
    return [Point(when=m.when, value=m.value, se=m.se, low=m.low, high=m.high, n=m.n,
                  estimate=not m.exact)
            for m in indicator.measurements.all() if m.published or show_all]


@register(Indicator.Source.PLUGIN)
def plugin_points(indicator: Indicator, context: SeriesContext) -> list[Point]:
    function = PLUGINS.get(indicator.plugin)
    return function(indicator, context) if function is not None else []
