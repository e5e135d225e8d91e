"""Migration runs/0005: a run's problems and warnings are kept once, as data. A run stored
before (English lines only, or lines beside their data) keeps what its page showed."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("runs", "0004_run_problem_data")]
AFTER = [("runs", "0005_run_problems_data_only")]


def _migrate(to: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(to)
    return executor.loader.project_state(to).apps


@pytest.mark.django_db(transaction=True)
def test_lines_move_into_the_data_and_back() -> None:
    apps = _migrate(BEFORE)
    spec = apps.get_model("runs", "StoredSpec").objects.create(
        spec_id="s", version="1", sha256="h", text="")
    IndexRun = apps.get_model("runs", "IndexRun")
    old = IndexRun.objects.create(spec=spec, status="failed",
                                  problems=["survey.csv, row 3: answer 9 is outside the scale"])
    kept = {"warnings": [{"source": "survey.csv", "row": 4, "column": "q1", "message": "odd",
                          "template": "odd", "params": {}}]}
    new = IndexRun.objects.create(spec=spec, status="done", warnings=["survey.csv: odd"],
                                  problem_data=kept)
    apps = _migrate(AFTER)
    IndexRun = apps.get_model("runs", "IndexRun")
    assert IndexRun.objects.get(pk=old.pk).problem_data == {"problems": [
        {"source": "", "row": None, "column": None, "template": "", "params": {},
         "message": "survey.csv, row 3: answer 9 is outside the scale"}]}
    assert IndexRun.objects.get(pk=new.pk).problem_data == kept  # the data wins over its text

    from tryg.runs.models import IndexRun as Model

    assert Model.objects.get(pk=old.pk).problems == [
        "survey.csv, row 3: answer 9 is outside the scale"]
    assert Model.objects.get(pk=new.pk).warnings == ["survey.csv, row 4, column 'q1': odd"]
    apps = _migrate(BEFORE)  # backwards: the lines again, from the messages
    IndexRun = apps.get_model("runs", "IndexRun")
    assert IndexRun.objects.get(pk=old.pk).problems == [
        "survey.csv, row 3: answer 9 is outside the scale"]
    assert IndexRun.objects.get(pk=new.pk).warnings == ["odd"]
    _migrate(AFTER)
