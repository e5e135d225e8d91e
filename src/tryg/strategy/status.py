"""Status of an indicator against its target path (PLACEHOLDER: strategy-eval writes the real
module with exactly this interface; the lead takes that version at merge)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal


class Status(StrEnum):
    ON_TRACK = "on_track"
    UNCERTAIN = "uncertain"
    OFF_TRACK = "off_track"
    NOT_ASSESSABLE = "not_assessable"


Polarity = Literal["up", "down"]


@dataclass(frozen=True)
class Point:
    when: date
    value: float
    se: float | None = None
    low: float | None = None
    high: float | None = None
    n: int | None = None
    estimate: bool = True


@dataclass(frozen=True)
class Target:
    when: date
    value: float


@dataclass(frozen=True)
class Assessment:
    status: Status
    reason: str
    expected: float | None
    latest: Point | None
    change: float | None
    change_low: float | None
    change_high: float | None
    change_p: float | None
    significant: bool | None


def _se(p: Point) -> float | None:
    if p.se is not None:
        return p.se
    if p.low is not None and p.high is not None:
        return (p.high - p.low) / (2 * 1.959964)
    return None if p.estimate else 0.0


def _path(baseline: Point | None, targets: Sequence[Target], when: date) -> float | None:
    knots = sorted([(t.when, t.value) for t in targets])
    if baseline is not None:
        knots = [(baseline.when, baseline.value)] + [k for k in knots if k[0] > baseline.when]
    if not knots:
        return None
    if when <= knots[0][0] or len(knots) == 1:
        return knots[0][1] if len(knots) == 1 or when <= knots[0][0] else knots[-1][1]
    for (d0, v0), (d1, v1) in itertools.pairwise(knots):
        if d0 <= when <= d1:
            span = (d1 - d0).days or 1
            return v0 + (v1 - v0) * (when - d0).days / span
    return knots[-1][1]


def assess(*, baseline: Point | None, targets: Sequence[Target], measurements: Sequence[Point],
           polarity: Polarity, today: date, max_age_days: int = 730) -> Assessment:
    latest = max(measurements, key=lambda p: p.when) if measurements else None
    change = low = high = p_value = None
    significant: bool | None = None
    if latest is not None and baseline is not None:
        change = latest.value - baseline.value
        s1, s0 = _se(latest), _se(baseline)
        if s1 is not None and s0 is not None:
            se = math.hypot(s1, s0)
            low, high = change - 1.959964 * se, change + 1.959964 * se
            p_value = math.erfc(abs(change) / se / math.sqrt(2)) if se > 0 else (
                0.0 if change else 1.0)
            significant = p_value < 0.05

    def done(status: Status, reason: str, expected: float | None = None) -> Assessment:
        return Assessment(status, reason, expected, latest, change, low, high, p_value,
                          significant)

    if latest is None:
        return done(Status.NOT_ASSESSABLE, "no_data")
    if (today - latest.when).days > max_age_days:
        return done(Status.NOT_ASSESSABLE, "stale")
    latest_se = _se(latest)
    if latest_se is None:
        return done(Status.NOT_ASSESSABLE, "no_interval")
    se = latest_se
    expected = _path(baseline, targets, latest.when)
    if expected is None:
        return done(Status.NOT_ASSESSABLE, "no_target")
    lo = latest.low if latest.low is not None else latest.value - 1.959964 * se
    hi = latest.high if latest.high is not None else latest.value + 1.959964 * se
    if lo <= expected <= hi and se > 0:
        return done(Status.UNCERTAIN, "inside_interval", expected)
    good = latest.value >= expected if polarity == "up" else latest.value <= expected
    return done(Status.ON_TRACK if good else Status.OFF_TRACK, "ahead" if good else "behind",
                expected)
