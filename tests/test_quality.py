"""Code-quality gates run as tests, so one pytest run checks everything CI checks.

Each tool runs as a subprocess from the same virtual environment as the tests, from the
repository root, with its configuration from pyproject.toml.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    tool = BIN / args[0]
    if not tool.exists():
        pytest.fail(f"{tool} not found: install the dev extras (pip install -e '.[dev]')")
    return subprocess.run(
        [str(tool), *args[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def assert_clean(result: subprocess.CompletedProcess[str]) -> None:
    command = " ".join(str(a) for a in result.args)
    assert result.returncode == 0, (
        f"`{command}` exited with {result.returncode}:\n{result.stdout}\n{result.stderr}"
    )


def test_ruff_check() -> None:
    assert_clean(run_tool("ruff", "check", "--no-cache", "src", "tests", "bench"))


def test_mypy_strict() -> None:
    # No paths: mypy reads `files` and `strict` from [tool.mypy] in pyproject.toml.
    result = run_tool("mypy")
    assert_clean(result)
    assert "Success" in result.stdout


def test_import_contracts() -> None:
    result = run_tool("lint-imports", "--no-cache")
    assert_clean(result)
    assert "broken" in result.stdout  # the summary line: "Contracts: N kept, 0 broken."
