"""The strategy tests' clock: the pages assess status on a fixed day, never the wall clock."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from strategy_helpers import TODAY  # noqa: E402

from tryg.strategy import services  # noqa: E402


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(services, "clock", lambda: TODAY)
    yield
