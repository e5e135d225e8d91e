"""Fixtures shared by the whole test suite.

Resources outside the repository (the shared data folder, R, nginx) are skipped when missing on a
developer's machine, but fail the run under CI (``CI=true``), so CI cannot go green by skipping.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest
from hypothesis import settings as hypothesis_settings

# No test waits on the wall clock: Hypothesis's per-example deadline is a wall-clock limit that a
# busy machine (CI's two cores) trips at random, so it is off for the whole suite; the number of
# examples bounds each property test instead.
hypothesis_settings.register_profile("tryg", deadline=None)
hypothesis_settings.load_profile("tryg")


def pytest_configure(config: pytest.Config) -> None:
    """The coverage floor (``--cov-fail-under`` in pyproject's addopts) is for the whole suite
    (``pytest``, or ``pytest -m "not browser"``: the browser tests exercise a server in another
    process, which is not measured). A run of some folders or tests (paths, ``-k``, any other
    ``-m`` such as ``django_db`` or ``"not slow"``) covers less by design, so it is not held
    to the floor; its coverage is still measured."""
    whole = (config.args_source == pytest.Config.ArgsSource.TESTPATHS
             and not config.option.keyword and not config.option.collectonly
             and (config.option.markexpr or "").strip() in ("", "not browser"))
    if not whole and getattr(config.known_args_namespace, "cov_fail_under", None) is not None:
        config.known_args_namespace.cov_fail_under = None


def _missing(reason: str) -> NoReturn:
    """Skip the test locally; fail it under CI, where everything must be present."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


#: Text planted in area, wave and measure names by the CSV-injection tests: one per first
#: character a spreadsheet takes for a formula (OWASP: = + - @ tab carriage-return).
FORMULA_TEXTS = ('=HYPERLINK("http://example.org/x","klik")', "+1+cmd|' /C calc'!A0",
                 "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def formula_cells(data: bytes) -> list[str]:
    """The cells of a CSV file that a spreadsheet would run as a formula: those beginning with
    = + - @ tab or carriage return that are not plain numbers (checked independently of
    tryg.exports, with the csv module)."""
    rows = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    return [cell for row in rows for cell in row
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.fullmatch(cell)]


@pytest.fixture(name="formula_cells")
def formula_cells_fixture() -> Callable[[bytes], list[str]]:
    """:func:`formula_cells` for the tests of every CSV the site and the CLI write."""
    return formula_cells


@pytest.fixture(name="formula_texts")
def formula_texts_fixture() -> tuple[str, ...]:
    """:data:`FORMULA_TEXTS`, to plant in names."""
    return FORMULA_TEXTS


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder: ``$TRYG_SHARED_DATA``, else ``shared/data`` beside the checkout."""
    env = os.environ.get("TRYG_SHARED_DATA")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    if not path.is_dir():
        _missing(f"shared data folder not found: {path} (set TRYG_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def rscript() -> Path:
    """Path to ``Rscript``, if R with the ``survey`` package works here."""
    found = shutil.which("Rscript")
    if found is None:
        _missing("Rscript not found (install r-base-core r-cran-survey)")
    try:
        result = subprocess.run(
            [found, "-e", "library(survey)"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        _missing(f"Rscript could not run: {exc}")
    if result.returncode != 0:
        _missing(f"R package survey not usable: {result.stderr.strip()[-500:]}")
    return Path(found)


@pytest.fixture(scope="session")
def nginx() -> Path:
    """Path to Debian's ``nginx`` (reverse-proxy tests); /usr/sbin may not be on PATH."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        _missing("nginx not found (apt-get install nginx)")
    return Path(found)


def _postgres_reachable(url: str) -> str | None:
    """None if PostgreSQL answers at ``url``, else why not."""
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure to connect means "not here"
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ``TRYG_TEST_DB=postgres``: skip (locally) or fail (CI) when PostgreSQL is absent."""
    from django.conf import settings

    if getattr(settings, "TEST_DATABASE", "sqlite") != "postgres":
        return
    url = os.environ.get("TRYG_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
    problem = _postgres_reachable(url)
    if problem is None:
        return
    reason = f"PostgreSQL not reachable at {url}: {problem}"
    if os.environ.get("CI") == "true":
        raise pytest.UsageError(f"{reason} (CI=true: database tests must not skip)")
    for item in items:
        item.add_marker(pytest.mark.skip(reason=reason))
