"""Index runs from stored data: inputs, results, fingerprints, failures and publication.

The demo data set is stored straight through the models here (as the import services store
it), so these tests check the run service on its own; tests/cli/test_demo_command.py
goes through the import services and the CLI.
"""

from __future__ import annotations

import pandas as pd
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied

from support.stored_demo import store_demo
from tryg import index
from tryg.accounts.models import AuditEvent, Role
from tryg.demo import DemoData, generate
from tryg.exports import results_bytes
from tryg.index.inputs import InputError
from tryg.index.results import RESULT_COLUMNS
from tryg.runs.inputs import load_inputs
from tryg.runs.models import IndexRun, ResultRow, StoredSpec
from tryg.runs.services import (
    PublicationError,
    fingerprint,
    public_results,
    publish,
    results_frame,
    run_index,
    stored_table,
    unpublish,
)
from tryg.surveys.models import Response

SPEC = "dk-tryghedsindeks"


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate(1, "small")


@pytest.fixture
def spec() -> index.Spec:
    return index.load_spec(SPEC)


@pytest.mark.django_db
def test_stored_inputs_equal_the_generated_ones(demo: DemoData, spec: index.Spec) -> None:
    store_demo(demo)
    inputs = load_inputs([it.column for it in spec.items])
    assert inputs.survey is not None and inputs.register is not None
    key = ["wave", "respondent_id"]
    got = inputs.survey.responses.sort_values(key).reset_index(drop=True)
    want = demo.survey.responses.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(got[list(want.columns)], want, check_dtype=False)
    reg_key = ["area_code", "quarter", "offence"]
    pd.testing.assert_frame_equal(
        inputs.register.counts.reset_index(drop=True),
        demo.register.counts.sort_values(reg_key).reset_index(drop=True), check_dtype=False)
    assert len(inputs.population.table) == len(demo.population.table)
    assert set(inputs.fingerprints) == {"areas", "population", "survey", "register"}
    assert inputs.fingerprints["survey"].rows == len(demo.survey.responses)


@pytest.mark.django_db
def test_a_run_stores_its_results_reproducibly(demo: DemoData, spec: index.Spec) -> None:
    store_demo(demo)
    steps: list[str] = []
    first = run_index(spec, progress=lambda step, _f: steps.append(step))
    assert first.status == IndexRun.Status.DONE, first.log
    assert "reading the stored inputs" in steps and "done" in steps
    table = results_frame(first)
    assert list(table.columns) == list(RESULT_COLUMNS)
    assert len(table) == ResultRow.objects.filter(run=first).count() > 1000
    assert set(table["spec_hash"]) == {spec.hash}
    # the stored rows give back the computed table, byte for byte
    inputs = load_inputs([it.column for it in spec.items])
    computed = index.run(spec, survey=inputs.survey, register=inputs.register,
                         population=inputs.population, areas=inputs.areas).table
    assert results_bytes(table, "csv") == results_bytes(stored_table(computed), "csv")
    assert results_bytes(table, "json") == results_bytes(stored_table(computed), "json")
    assert fingerprint(table) == first.fingerprint
    # a second run on unchanged data: the same inputs, the same bytes, the same fingerprint
    second = run_index(spec)
    assert second.pk != first.pk and second.status == IndexRun.Status.DONE
    assert second.fingerprint == first.fingerprint
    assert second.inputs == first.inputs
    assert results_bytes(results_frame(second), "csv") == results_bytes(table, "csv")
    assert StoredSpec.objects.count() == 1
    headline = table[(table["measure"] == "tryghed_trygge") & (table["level"] == "kommune")]
    assert headline["estimate"].between(0.8, 0.95).all()
    runs = AuditEvent.objects.filter(action=AuditEvent.Action.RUN)
    assert runs.count() == 2
    assert runs.first().details["fingerprint"] == first.fingerprint  # type: ignore[union-attr]


@pytest.mark.django_db
def test_a_changed_spec_changes_the_hash_and_the_results(demo: DemoData,
                                                         spec: index.Spec) -> None:
    store_demo(demo)
    first = run_index(spec)
    changed = index.parse_spec(spec.source.replace("min_n = 50", "min_n = 60"))
    second = run_index(changed)
    assert second.status == IndexRun.Status.DONE
    assert second.spec.sha256 == changed.hash != first.spec.sha256
    assert set(results_frame(second)["spec_hash"]) == {changed.hash}
    assert second.fingerprint != first.fingerprint
    assert second.inputs == first.inputs
    assert StoredSpec.objects.count() == 2


@pytest.mark.django_db
def test_without_survey_only_register_measures(demo: DemoData, spec: index.Spec) -> None:
    store_demo(demo, survey=False)
    run = run_index(spec)
    assert run.status == IndexRun.Status.DONE, run.log
    assert "survey" not in run.inputs
    methods = set(results_frame(run)["method"])
    assert methods <= {"register", "register_eb", "index"}, methods
    assert "register" in methods


@pytest.mark.django_db
def test_a_failed_run_stores_no_results(demo: DemoData, spec: index.Spec) -> None:
    store_demo(demo)
    # an answer outside the item's scale: the core rejects the inputs
    response = Response.objects.order_by("pk").first()
    assert response is not None
    response.answers = {**response.answers, "tryg_nabolag": 12}
    response.save()
    run = run_index(spec)
    assert run.status == IndexRun.Status.FAILED
    assert run.finished_at is not None
    assert "tryg_nabolag" in run.log and "no results were stored" in run.log
    # the problems are stored as data, one text each, the same as the log lists them
    assert run.problems and all("tryg_nabolag" in p for p in run.problems)
    assert run.log.splitlines()[1:] == run.problems
    assert run.warnings == []
    assert not ResultRow.objects.filter(run=run).exists()
    assert run.fingerprint == ""
    assert run.inputs["survey"]["rows"] == len(demo.survey.responses)
    event = AuditEvent.objects.get(action=AuditEvent.Action.RUN)
    assert event.details["status"] == "failed" and event.details["errors"]
    with pytest.raises(PublicationError):
        publish(run)
    with pytest.raises(InputError):  # the same inputs fail the core directly as well
        inputs = load_inputs([it.column for it in spec.items])
        index.run(spec, survey=inputs.survey, register=inputs.register,
                  population=inputs.population, areas=inputs.areas)


@pytest.mark.django_db
def test_replaced_imports_are_left_out(demo: DemoData, spec: index.Spec) -> None:
    batches = store_demo(demo)
    first = load_inputs()
    assert first.survey is not None
    batches["survey-2019"].replaced_at = pd.Timestamp("2024-01-01", tz="UTC")
    batches["survey-2019"].save()
    second = load_inputs()
    assert second.survey is not None
    assert 2019 not in set(second.survey.responses["wave"])
    assert second.fingerprints["survey"].sha256 != first.fingerprints["survey"].sha256
    assert batches["survey-2019"].pk not in second.fingerprints["survey"].batches


@pytest.mark.django_db
def test_no_stored_data_fails_cleanly(spec: index.Spec) -> None:
    run = run_index(spec)
    assert run.status == IndexRun.Status.FAILED
    assert run.log.startswith("2 problem(s)")
    [areas, answers] = run.problems
    assert "no areas are stored" in areas and "no survey answers" in answers
    assert IndexRun.objects.get(pk=run.pk).problems == run.problems  # stored, not in memory
    assert not ResultRow.objects.exists()


@pytest.mark.django_db
def test_publish_and_unpublish_are_audited(demo: DemoData, spec: index.Spec) -> None:
    store_demo(demo)
    users = get_user_model()
    analyst = users.objects.create_user("ana", password="x" * 12, role=Role.ANALYST)
    walker = users.objects.create_user("wal", password="x" * 12, role=Role.WALKER)
    with pytest.raises(PermissionDenied):
        run_index(spec, user=walker)
    run = run_index(spec, user=analyst)
    assert run.created_by == analyst
    with pytest.raises(PermissionDenied):
        publish(run, walker)
    with pytest.raises(PublicationError):
        unpublish(run, analyst)
    publish(run, analyst)
    run.refresh_from_db()
    assert run.is_published and run.published_by == analyst
    public = public_results(run)
    assert "n_display" in public.columns and len(public) == len(results_frame(run))
    assert public.loc[public["suppressed"], "estimate"].isna().all()
    unpublish(run, analyst)
    run.refresh_from_db()
    assert not run.is_published
    actions = list(AuditEvent.objects.filter(actor=analyst).order_by("pk")
                   .values_list("action", flat=True))
    assert actions == [AuditEvent.Action.RUN, AuditEvent.Action.PUBLISH,
                       AuditEvent.Action.UNPUBLISH]


@pytest.mark.django_db
def test_a_failed_runs_problems_are_shown_in_the_page_language(spec: index.Spec) -> None:
    """The run's page lists its problems in the reader's language (kept with their templates
    in ``problem_data``); the stored lines and the log stay English."""
    from django.test import Client
    from django.urls import reverse

    run = run_index(spec)
    assert [p.template for p in run.stored_problems("problems")] == [
        "no areas are stored: import the areas first (tryg import areas)",
        "no survey answers and no register data are stored: import either or both (tryg "
        "import survey, tryg import register)"]
    client = Client()
    client.force_login(get_user_model().objects.create_user(
        "analytiker", password="a long password 1", role=Role.ANALYST))
    url = reverse("analyse:run", args=[run.pk])
    client.get("/sprog/da/", {"next": url})
    page = client.get(url).content.decode()
    assert ("<li>database: der er ikke gemt nogen områder: importér områderne først (tryg "
            "import areas)</li>") in page
    client.get("/sprog/en/", {"next": url})
    page = client.get(url).content.decode()
    assert ("<li>database: no areas are stored: import the areas first (tryg import "
            "areas)</li>") in page
