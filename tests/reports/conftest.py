"""The report's tests use the demo and planted-site helpers of tests/platform."""

from __future__ import annotations

import sys
from pathlib import Path

PLATFORM = str(Path(__file__).resolve().parents[1] / "platform")
if PLATFORM not in sys.path:
    sys.path.insert(0, PLATFORM)
