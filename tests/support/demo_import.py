"""The demo municipality imported through the real import services and run, as `tryg demo`
does: shared by the tests of the public pages (call inside a database transaction)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from tryg.accounts.models import Role, User
from tryg.demo.files import write_demo_data
from tryg.imports.areas import import_areas
from tryg.imports.population import import_population
from tryg.imports.register import import_register
from tryg.imports.survey import import_survey
from tryg.index import load_spec
from tryg.runs.models import IndexRun
from tryg.runs.services import publish, run_index


def imported_demo_run(files: Path, analyst_name: str) -> tuple[IndexRun, User]:
    """Write the small demo (seed 1) to ``files``, import it as a new analyst and run
    ``dk-tryghedsindeks`` on it (not published); the run and the analyst."""
    write_demo_data(files, seed=1, size="small")
    analyst = get_user_model().objects.create_user(analyst_name, role=Role.ANALYST)
    for report in (
        import_areas(files / "areas.geojson", user=analyst, level="nabolag"),
        import_areas(files / "areas.csv", user=analyst, replace=True),
        import_population(files / "population.csv", user=analyst),
        import_register(files / "register_counts.csv", user=analyst, format="counts"),
        import_survey(files / "survey.csv", user=analyst, synthetic=True),
    ):
        assert report.ok, report.lines()
    run = run_index(load_spec("dk-tryghedsindeks"), user=analyst)
    assert run.status == IndexRun.Status.DONE, run.log
    return run, analyst


def published_demo_run(django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory,
                       name: str) -> Iterator[IndexRun]:
    """The imported demo run, published, for a module's tests; rolled back afterwards (the
    body of a module-scoped fixture: ``yield from published_demo_run(...)``)."""
    files = tmp_path_factory.mktemp(f"{name}-demo")
    with django_db_blocker.unblock(), transaction.atomic():
        run, analyst = imported_demo_run(files, f"{name}-analyst")
        publish(run, analyst)
        yield run
        transaction.set_rollback(True)
