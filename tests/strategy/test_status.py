"""Status that respects uncertainty (tryg.strategy.status), on data whose truth is known."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest
from scipy import stats as sps

from tryg.strategy.status import (
    Point,
    Status,
    Target,
    assess,
    change_since,
    interval,
    max_age_days,
    path_value,
)

TODAY = date(2026, 12, 6)
BASE = Point(date(2022, 1, 1), 60.0, se=2.0)
TARGETS = [Target(date(2026, 1, 1), 70.0)]


def at(when: date, value: float, se: float | None = 1.0, **kw: object) -> Point:
    return Point(when, value, se=se, **kw)  # type: ignore[arg-type]


def test_path_runs_straight_from_baseline_through_targets() -> None:
    targets = [Target(date(2024, 1, 1), 70.0), Target(date(2026, 1, 1), 66.0)]
    assert path_value(BASE, targets, date(2022, 1, 1)) == 60.0
    assert path_value(BASE, targets, date(2023, 1, 1)) == pytest.approx(
        60 + 10 * 365 / 730)
    assert path_value(BASE, targets, date(2025, 1, 1)) == pytest.approx(70 - 4 * 366 / 731)
    assert path_value(BASE, targets, date(2030, 1, 1)) == 66.0  # held after the last target
    assert path_value(BASE, targets, date(2020, 1, 1)) == 60.0  # flat before the baseline
    # targets given out of order are sorted by date
    assert path_value(BASE, targets[::-1], date(2023, 1, 1)) == path_value(
        BASE, targets, date(2023, 1, 1))
    assert path_value(None, targets, date(2023, 1, 1)) == 70.0
    assert path_value(BASE, [], date(2023, 1, 1)) is None


def test_the_four_lights() -> None:
    when = date(2024, 1, 1)  # path value 65
    expected = path_value(BASE, TARGETS, when)
    assert expected == pytest.approx(65.0, abs=0.01)

    def status(value: float, se: float | None = 1.0, polarity: str = "up") -> Status:
        return assess(baseline=BASE, targets=TARGETS, measurements=[at(when, value, se)],
                      polarity=polarity, today=when).status  # type: ignore[arg-type]

    assert status(68.0) is Status.ON_TRACK
    assert status(62.0) is Status.OFF_TRACK
    assert status(66.5) is Status.UNCERTAIN  # 65 lies in 66.5 ± 1.96
    assert status(63.5) is Status.UNCERTAIN
    assert status(62.0, se=2.0) is Status.UNCERTAIN  # the same value, less precise
    # down is good: the same numbers read the other way
    assert status(68.0, polarity="down") is Status.OFF_TRACK
    assert status(62.0, polarity="down") is Status.ON_TRACK
    with pytest.raises(ValueError, match="polarity"):
        status(62.0, polarity="sideways")


def test_not_assessable_and_its_reasons() -> None:
    def reason(measurements: list[Point], targets: list[Target] = TARGETS,
               max_age_days: int = 730) -> tuple[Status, str]:
        a = assess(baseline=BASE, targets=targets, measurements=measurements, polarity="up",
                   today=TODAY, max_age_days=max_age_days)
        return a.status, a.reason

    na = Status.NOT_ASSESSABLE
    assert reason([]) == (na, "no_data")
    assert reason([at(date(2024, 1, 1), 70.0)]) == (na, "stale")  # 1070 days old
    assert reason([at(date(2024, 1, 1), 70.0)], max_age_days=2000)[0] is Status.ON_TRACK
    assert reason([at(date(2026, 6, 1), 70.0, se=None)]) == (na, "no_interval")
    assert reason([at(date(2026, 6, 1), 70.0)], targets=[]) == (na, "no_target")
    # an interval instead of a standard error is enough
    ok = Point(date(2026, 6, 1), 75.0, low=72.0, high=78.0)
    assert reason([ok]) == (Status.ON_TRACK, "ahead")
    inside = Point(date(2026, 6, 1), 72.0, low=69.0, high=75.0)
    assert reason([inside]) == (Status.UNCERTAIN, "inside_interval")


def test_how_old_a_figure_may_be_follows_its_frequency() -> None:
    """Two periods plus a grace of 92 days: one figure may be missing and the next late."""
    assert max_age_days("annual") == 2 * 365 + 92
    assert max_age_days("quarterly") == 2 * 92 + 92
    assert max_age_days("monthly") == 2 * 31 + 92
    # survey waves: the median gap of the series (a year when it cannot tell)
    yearly = [at(date(y, 12, 31), 70.0) for y in (2019, 2020, 2021, 2022, 2023)]
    assert max_age_days("per_wave", yearly) == 2 * 365 + 92
    every_other = [at(date(y, 12, 31), 70.0) for y in (2015, 2017, 2019, 2021)]
    assert max_age_days("per_wave", every_other) == 2 * 731 + 92  # median gap (leap years)
    assert max_age_days("per_wave", yearly[:1]) == 2 * 365 + 92
    # a wave of 2023 is too old on 2026-12-06 when waves come yearly, not every other year
    last = [at(date(2023, 12, 31), 72.0)]
    for points, status in ((yearly, Status.NOT_ASSESSABLE), (every_other, Status.ON_TRACK)):
        a = assess(baseline=BASE, targets=TARGETS, measurements=last, polarity="up",
                   today=TODAY, max_age_days=max_age_days("per_wave", points))
        assert a.status is status


def test_exact_counts_need_no_interval() -> None:
    base = Point(date(2022, 1, 1), 120.0, estimate=False)
    targets = [Target(date(2026, 1, 1), 80.0)]
    behind = Point(date(2026, 6, 1), 81.0, estimate=False)
    on_path = Point(date(2026, 6, 1), 80.0, estimate=False)
    a = assess(baseline=base, targets=targets, measurements=[behind], polarity="down",
               today=TODAY)
    assert (a.status, a.reason) == (Status.OFF_TRACK, "behind")
    assert a.change == -39.0 and a.change_low == a.change_high == -39.0
    assert a.change_p is None and a.significant is None
    a = assess(baseline=base, targets=targets, measurements=[on_path], polarity="down",
               today=TODAY)
    assert a.status is Status.ON_TRACK


def test_latest_measurement_and_change_since_baseline() -> None:
    ms = [at(date(2026, 3, 1), 64.0, 1.5), at(date(2025, 3, 1), 80.0, 1.5),
          at(date(2026, 3, 1), 66.0, 1.5)]
    a = assess(baseline=BASE, targets=TARGETS, measurements=ms, polarity="up", today=TODAY)
    assert a.latest == ms[2]  # the latest date; among equal dates the last given
    assert a.change == pytest.approx(6.0)
    se = math.hypot(2.0, 1.5)
    assert a.change_low == pytest.approx(6.0 - 1.959963984540054 * se)
    assert a.change_high == pytest.approx(6.0 + 1.959963984540054 * se)
    assert a.change_p == pytest.approx(2 * sps.norm.sf(6.0 / se))
    assert a.significant is True
    # change without a baseline: none
    a = assess(baseline=None, targets=TARGETS, measurements=ms, polarity="up", today=TODAY)
    assert a.change is None and a.expected == 70.0


def test_change_reads_intervals_and_exact_baselines() -> None:
    base = Point(date(2022, 1, 1), 50.0, low=46.0, high=54.0)
    c = change_since(base, at(date(2026, 1, 1), 51.0, 1.0))
    se = math.hypot(4.0 / 1.959963984540054, 1.0)
    assert c.low == pytest.approx(1.0 - 1.959963984540054 * se)
    assert c.significant is False
    exact = Point(date(2022, 1, 1), 50.0, estimate=False)
    c = change_since(exact, at(date(2026, 1, 1), 53.0, 1.0))
    assert c.p == pytest.approx(2 * sps.norm.sf(3.0))
    c = change_since(Point(date(2022, 1, 1), 50.0), at(date(2026, 1, 1), 53.0))
    assert c.change == 3.0 and c.low is None and c.p is None
    assert interval(Point(date(2022, 1, 1), 5.0)) is None


def test_noise_inside_the_interval_never_turns_a_light_red() -> None:
    """Seeded random indicators: whenever the target path lies inside the latest
    measurement's interval the light is 'uncertain' - never red, whatever the polarity, the
    targets, or how far the value moved since baseline."""
    rng = np.random.default_rng(20261206)
    seen_inside = 0
    for _ in range(3000):
        base = Point(date(2020, 1, 1), float(rng.normal(50, 10)), se=float(rng.uniform(0.5, 3)))
        targets = [Target(date(2020 + int(y), 1, 1), float(rng.normal(50, 15)))
                   for y in sorted(rng.choice(np.arange(1, 8), rng.integers(1, 4), False))]
        when = date(2020, 1, 1) + timedelta(days=int(rng.integers(0, 2500)))
        se = float(rng.uniform(0.1, 5))
        latest = at(when, float(rng.normal(50, 15)), se)
        polarity = "up" if rng.random() < 0.5 else "down"
        a = assess(baseline=base, targets=targets, measurements=[latest],
                   polarity=polarity, today=when)  # type: ignore[arg-type]
        assert a.expected is not None
        inside = abs(a.expected - latest.value) <= 1.959963984540054 * se
        if inside:
            seen_inside += 1
            assert a.status is Status.UNCERTAIN
        else:
            assert a.status in (Status.ON_TRACK, Status.OFF_TRACK)
    assert seen_inside > 100


def test_an_indicator_exactly_on_its_path_is_red_only_at_the_noise_rate() -> None:
    """The truth follows the path; measurements are the truth plus sampling noise with the
    stated SE. Red (off track) then happens only when the interval misses the truth on the
    bad side: 2.5 % of the time, within a 99.9 % binomial band; 95 % are 'uncertain'."""
    rng = np.random.default_rng(7)
    reps = 2000
    counts = dict.fromkeys(Status, 0)
    for _ in range(reps):
        when = date(2022, 1, 1) + timedelta(days=int(rng.integers(1, 1460)))
        truth = path_value(BASE, TARGETS, when)
        assert truth is not None
        se = float(rng.uniform(0.5, 4))
        m = at(when, truth + float(rng.normal(0, se)), se)
        counts[assess(baseline=BASE, targets=TARGETS, measurements=[m], polarity="up",
                      today=when).status] += 1
    lo, hi = sps.binom.interval(0.999, reps, 0.025)
    assert lo <= counts[Status.OFF_TRACK] <= hi
    assert lo <= counts[Status.ON_TRACK] <= hi
    lo, hi = sps.binom.interval(0.999, reps, 0.95)
    assert lo <= counts[Status.UNCERTAIN] <= hi
