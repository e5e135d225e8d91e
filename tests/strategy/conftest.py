"""The strategy tests' clock: the pages assess status on a fixed day, never the wall clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from strategy.strategy_helpers import TODAY
from tryg.strategy import services


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(services, "clock", lambda: TODAY)
    yield
