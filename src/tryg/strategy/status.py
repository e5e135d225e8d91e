"""How an indicator is doing against its targets, honestly: noise never turns a light red.

The *target path* runs in straight lines from the baseline through the targets by date (flat
before the first point and after the last target: a target once reached is to be held). The
latest measurement is compared with the path's value at its date:

* **on track** - on the good side of the path, and the path lies outside the measurement's 95 %
  interval;
* **uncertain** - the path lies inside the interval: the data cannot tell ahead from behind;
* **off track** - on the bad side, with the path outside the interval;
* **not assessable** - no measurement, the latest is older than ``max_age_days`` (by default
  two periods of the indicator's frequency plus a grace, :func:`max_age_days`), an estimate
  without a standard error or interval, or no target to compare with.

So a measurement can be off track only when its own interval excludes the path: a change that
lies inside its interval never turns a light red.

The change since baseline (latest minus baseline) gets a 95 % interval and a two-sided p-value
under the normal approximation, with baseline and latest taken as independent samples (their
variances add); an interval given instead of a standard error is read as a symmetric normal
interval (half width / 1.96). Exact counts (``estimate=False``) carry no sampling error.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

from scipy import special

#: Two-sided 95 % normal quantile.
Z95 = 1.959963984540054


class Status(StrEnum):
    ON_TRACK = "on_track"
    UNCERTAIN = "uncertain"
    OFF_TRACK = "off_track"
    NOT_ASSESSABLE = "not_assessable"


Polarity = Literal["up", "down"]  # up is good / down is good


@dataclass(frozen=True)
class Point:
    """One measurement (or the baseline)."""

    when: date
    value: float
    se: float | None = None  # standard error when the value is an estimate
    low: float | None = None  # or a 95 % interval instead of se
    high: float | None = None
    n: int | None = None
    estimate: bool = True  # False for exact counts (register, hand-counted): no interval needed


@dataclass(frozen=True)
class Target:
    when: date
    value: float


@dataclass(frozen=True)
class Assessment:
    status: Status
    #: short machine code: "no_data", "stale", "no_interval", "inside_interval", "ahead",
    #: "behind", "no_target"
    reason: str
    expected: float | None  # target path value at the latest measurement's date
    latest: Point | None
    change: float | None  # latest - baseline
    change_low: float | None  # 95 % interval of the change (baseline and latest independent)
    change_high: float | None
    change_p: float | None  # two-sided p-value of the change
    significant: bool | None


def point_se(point: Point) -> float | None:
    """The standard error of a point: 0 for an exact count, its ``se``, or the half width of
    its 95 % interval / 1.96; None when an estimate has neither."""
    if not point.estimate:
        return 0.0
    if point.se is not None and math.isfinite(point.se) and point.se >= 0:
        return float(point.se)
    if point.low is not None and point.high is not None and point.high >= point.low:
        return (point.high - point.low) / (2 * Z95)
    return None


def interval(point: Point) -> tuple[float, float] | None:
    """The 95 % interval of a point (its own when given, else value ± 1.96 se; a single value
    for an exact count); None for an estimate without either."""
    if not point.estimate:
        return point.value, point.value
    if point.low is not None and point.high is not None and point.high >= point.low:
        return point.low, point.high
    se = point_se(point)
    if se is None:
        return None
    return point.value - Z95 * se, point.value + Z95 * se


def path_value(baseline: Point | None, targets: Sequence[Target], when: date) -> float | None:
    """The target path's value on ``when``: linear between the baseline and the targets (in
    date order), flat before the first point and after the last. None without targets."""
    if not targets:
        return None
    points = sorted(((t.when, t.value) for t in targets), key=lambda p: p[0])
    if baseline is not None and baseline.when < points[0][0]:
        points.insert(0, (baseline.when, baseline.value))
    if when <= points[0][0]:
        return points[0][1]
    for (d0, v0), (d1, v1) in itertools.pairwise(points):
        if when <= d1:
            span = (d1 - d0).days
            return v1 if span == 0 else v0 + (v1 - v0) * (when - d0).days / span
    return points[-1][1]


@dataclass(frozen=True)
class Change:
    change: float
    low: float | None
    high: float | None
    p: float | None
    significant: bool | None


def change_since(baseline: Point, latest: Point) -> Change:
    """Latest minus baseline, with its 95 % interval and p-value (independent samples)."""
    diff = latest.value - baseline.value
    se0, se1 = point_se(baseline), point_se(latest)
    if se0 is None or se1 is None:
        return Change(diff, None, None, None, None)
    if not baseline.estimate and not latest.estimate:
        return Change(diff, diff, diff, None, None)  # exact counts: no sampling error
    se = math.hypot(se0, se1)
    if se == 0:
        return Change(diff, diff, diff, None, None)
    p = float(2 * special.ndtr(-abs(diff) / se))
    return Change(diff, diff - Z95 * se, diff + Z95 * se, p, p < 0.05)


#: Days of one period of each frequency of measurement ("per_wave": read from the series).
PERIOD_DAYS = {"annual": 365, "half_yearly": 183, "quarterly": 92, "monthly": 31}
#: Days a figure may be late beyond two periods (fieldwork, counting and publishing take time).
GRACE_DAYS = 92


def max_age_days(frequency: str, points: Sequence[Point] = ()) -> int:
    """How old the latest figure may be and still be assessed: two periods of the indicator's
    frequency plus :data:`GRACE_DAYS` - one figure may be missing and the next be late. A
    survey wave's period is the median gap between the series' points (a year when there are
    fewer than two)."""
    period = PERIOD_DAYS.get(frequency)
    if period is None:
        days = sorted({p.when for p in points})
        gaps = sorted((b - a).days for a, b in itertools.pairwise(days))
        period = gaps[len(gaps) // 2] if gaps else 365
    return 2 * period + GRACE_DAYS


def assess(*, baseline: Point | None, targets: Sequence[Target], measurements: Sequence[Point],
           polarity: Polarity, today: date, max_age_days: int = 730) -> Assessment:
    """The status of an indicator on ``today`` (see the module docstring for the rules)."""
    if polarity not in ("up", "down"):
        raise ValueError(f"polarity must be 'up' or 'down', not {polarity!r}")
    if not measurements:
        return Assessment(Status.NOT_ASSESSABLE, "no_data", None, None, None, None, None, None,
                          None)
    # the latest by date; among several on one date the last given
    latest = max(enumerate(measurements), key=lambda im: (im[1].when, im[0]))[1]
    change = change_since(baseline, latest) if baseline is not None else None

    def result(status: Status, reason: str, expected: float | None) -> Assessment:
        if change is None:
            return Assessment(status, reason, expected, latest, None, None, None, None, None)
        return Assessment(status, reason, expected, latest, change.change, change.low,
                          change.high, change.p, change.significant)

    expected = path_value(baseline, targets, latest.when)
    if (today - latest.when).days > max_age_days:
        return result(Status.NOT_ASSESSABLE, "stale", expected)
    bounds = interval(latest)
    if bounds is None:
        return result(Status.NOT_ASSESSABLE, "no_interval", expected)
    if expected is None:
        return result(Status.NOT_ASSESSABLE, "no_target", None)
    low, high = bounds
    if high > low and low <= expected <= high:
        return result(Status.UNCERTAIN, "inside_interval", expected)
    good = latest.value >= expected if polarity == "up" else latest.value <= expected
    if good:
        return result(Status.ON_TRACK, "ahead", expected)
    return result(Status.OFF_TRACK, "behind", expected)
