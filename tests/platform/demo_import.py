"""The demo municipality imported through the real import services and run, as `tryg demo`
does: shared by the tests of the public pages (call inside a database transaction)."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model

from tryg.accounts.models import Role, User
from tryg.demo.files import write_demo_data
from tryg.imports.areas import import_areas
from tryg.imports.population import import_population
from tryg.imports.register import import_register
from tryg.imports.survey import import_survey
from tryg.index import load_spec
from tryg.runs.models import IndexRun
from tryg.runs.services import run_index


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
