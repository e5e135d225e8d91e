"""Re-running a run, and starting a run of a shipped specification, from the analysts' pages.

The runs are real (the demo data stored through the models, as in test_runs); the pages are
driven through Django's test client with CSRF checks on, as a browser would post them.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from support.planted import client_as, plant
from support.stored_demo import store_demo
from tryg import index
from tryg.accounts.models import AuditEvent, Role, User
from tryg.demo import DemoData, generate
from tryg.exports import results_bytes
from tryg.runs.models import IndexRun, ResultRow
from tryg.runs.services import results_frame, run_index
from tryg.surveys.models import Response

SPEC = "dk-tryghedsindeks"


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate(1, "small")


def _analyst(name: str = "ana") -> tuple[User, Client]:
    user = User.objects.create_user(name, role=Role.ANALYST)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return user, client


def _form_token(page: str, action: str) -> str:
    """The CSRF token of the form posting to ``action`` on ``page``."""
    form = page.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert found is not None, f"no CSRF token in the form to {action}"
    return found.group(1)


def _messages(page: str) -> list[str]:
    return re.findall(r'<li class="(?:success|error)">(.*?)</li>', page, re.S)


@pytest.mark.django_db
def test_a_rerun_repeats_the_run_on_unchanged_data(demo: DemoData) -> None:
    store_demo(demo)
    old = run_index(index.load_spec(SPEC))
    assert old.status == IndexRun.Status.DONE, old.log
    user, client = _analyst()
    run_url = reverse("analyse:run", args=[old.pk])
    page = client.get(run_url).content.decode()
    action = reverse("analyse:rerun", args=[old.pk])
    token = _form_token(page, action)
    assert 'name="survey" checked' in page.split(f'action="{action}"')[1]
    # without the token the post is refused, and nothing runs
    assert client.post(action, {"survey": "on"}).status_code == 403
    assert IndexRun.objects.count() == 1

    response = client.post(action, {"survey": "on", "csrfmiddlewaretoken": token})
    new = IndexRun.objects.exclude(pk=old.pk).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("analyse:run", args=[new.pk])
    assert new.status == IndexRun.Status.DONE and new.created_by == user
    assert new.spec == old.spec and new.inputs == old.inputs
    assert new.fingerprint == old.fingerprint
    assert results_bytes(results_frame(new), "csv") == results_bytes(results_frame(old), "csv")
    assert f"re-run of run #{old.pk}" in new.log
    event = AuditEvent.objects.get(action=AuditEvent.Action.RUN, details__run=new.pk)
    assert event.actor == user and event.details["rerun_of"] == old.pk
    assert event.details["fingerprint"] == new.fingerprint
    assert event.details["status"] == "done"
    page = client.get(response["Location"]).content.decode()
    rows = ResultRow.objects.filter(run=new).count()
    assert _messages(page) == [f"Index run {new.pk} (a re-run of run {old.pk}) is done: "
                               f"{rows} result rows, identical to those of run {old.pk}."]
    old.refresh_from_db()
    assert old.status == IndexRun.Status.DONE and not old.is_published  # left as it was


@pytest.mark.django_db
def test_a_rerun_on_changed_data_and_a_failing_rerun(demo: DemoData) -> None:
    store_demo(demo)
    old = run_index(index.load_spec(SPEC))
    user = User.objects.create_user("ana", role=Role.ANALYST)
    client = Client()
    client.force_login(user)
    Response.objects.filter(pk__in=Response.objects.order_by("pk")
                            .values_list("pk", flat=True)[:50]).delete()
    done = client.post(reverse("analyse:rerun", args=[old.pk]), {"survey": "on"}, follow=True)
    assert "identical" not in _messages(done.content.decode())[0]
    changed = IndexRun.objects.order_by("-pk").first()
    assert changed is not None and changed.status == IndexRun.Status.DONE
    assert changed.fingerprint != old.fingerprint
    assert changed.inputs["survey"]["rows"] == old.inputs["survey"]["rows"] - 50
    assert changed.inputs["register"] == old.inputs["register"]

    # an answer outside the scale: the re-run fails, says why, and stores no rows
    response = Response.objects.order_by("pk").first()
    assert response is not None
    response.answers = {**response.answers, "tryg_nabolag": 12}
    response.save()
    reply = client.post(reverse("analyse:rerun", args=[changed.pk]), {"survey": "on"},
                        follow=True)
    failed = IndexRun.objects.order_by("-pk").first()
    assert failed is not None and failed.status == IndexRun.Status.FAILED
    assert reply.redirect_chain == [(reverse("analyse:run", args=[failed.pk]), 302)]
    page = reply.content.decode()
    [message] = _messages(page)
    assert message.startswith(f"Index run {failed.pk} failed and stored no results: ")
    assert "tryg_nabolag" in message
    assert "<details open>" in page and "no results were stored" in page  # the whole log
    assert not ResultRow.objects.filter(run=failed).exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.RUN, details__run=failed.pk)
    assert event.details["status"] == "failed" and event.details["rerun_of"] == changed.pk
    assert event.actor == user


@pytest.mark.django_db
def test_starting_a_run_of_a_shipped_spec(demo: DemoData) -> None:
    store_demo(demo)
    user, client = _analyst()
    runs_url = reverse("analyse:runs")
    page = client.get(runs_url).content.decode()
    action = reverse("analyse:start_run")
    token = _form_token(page, action)
    for spec_id in index.shipped_specs():
        assert f'<option value="{spec_id}">' in page
    # register measures only: the survey box left unticked
    response = client.post(action, {"spec": "rotterdam-wijkprofiel",
                                     "csrfmiddlewaretoken": token}, follow=True)
    run = IndexRun.objects.get()
    assert response.redirect_chain == [(reverse("analyse:run", args=[run.pk]), 302)]
    rows = ResultRow.objects.filter(run=run).count()
    assert _messages(response.content.decode()) == [
        f"Index run {run.pk} is done: {rows} result rows."]
    assert run.status == IndexRun.Status.DONE, run.log
    assert run.spec.spec_id == "rotterdam-wijkprofiel" and run.created_by == user
    assert "survey" not in run.inputs
    assert set(results_frame(run)["method"]) <= {"register", "register_eb", "index"}
    with_survey = client.post(action, {"spec": SPEC, "survey": "on",
                                       "csrfmiddlewaretoken": token}, follow=True)
    second = IndexRun.objects.order_by("-pk").first()
    assert second is not None and second.pk != run.pk
    assert with_survey.redirect_chain == [(reverse("analyse:run", args=[second.pk]), 302)]
    assert second.status == IndexRun.Status.DONE and "survey" in second.inputs
    # the same spec computed directly gives the same results
    direct = run_index(index.load_spec(SPEC))
    assert direct.fingerprint == second.fingerprint
    assert AuditEvent.objects.filter(action=AuditEvent.Action.RUN, actor=user).count() == 2
    # an unknown spec (or a file path) is refused with a message, and nothing runs
    before = IndexRun.objects.count()
    for bad in ("no-such-spec", "/etc/passwd", ""):
        reply = client.post(action, {"spec": bad, "csrfmiddlewaretoken": token}, follow=True)
        assert _messages(reply.content.decode()) == [
            "Choose one of the shipped specifications."]
    assert IndexRun.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "partner", "walker", "coordinator"])
def test_running_is_refused_to_those_without_the_right(who: str) -> None:
    site = plant()
    client = client_as(site, who)
    before = (IndexRun.objects.count(), AuditEvent.objects.count())
    posts = [(reverse("analyse:start_run"), {"spec": SPEC, "survey": "on"})]
    posts += [(reverse("analyse:rerun", args=[run.pk]), {"survey": "on"})
              for run in (site.unpublished, site.published)]
    for url, data in posts:
        response = client.post(url, data)
        if who == "anonymous":
            assert response.status_code == 302 and reverse("login") in response["Location"]
        elif who in ("partner", "walker") and str(site.unpublished.pk) in url.split("/"):
            assert response.status_code == 404  # an unpublished run does not exist for them
        else:
            assert response.status_code == 403, (who, url)
    assert (IndexRun.objects.count(), AuditEvent.objects.count()) == before
    # GET does not run anything either
    assert client_as(site, "analyst").get(
        reverse("analyse:rerun", args=[site.published.pk])).status_code == 405
    if who != "anonymous":
        for run in (site.published,):
            page = client.get(reverse("analyse:run", args=[run.pk])).content.decode()
            assert reverse("analyse:rerun", args=[run.pk]) not in page
        runs = client.get(reverse("analyse:runs")).content.decode()
        assert reverse("analyse:start_run") not in runs


@pytest.mark.django_db
def test_a_run_in_progress_keeps_others_from_starting(demo: DemoData) -> None:
    """Runs started from the pages go one at a time; a run marked running for over an hour
    (its process died) no longer blocks."""
    import datetime

    from django.utils import timezone

    store_demo(demo)
    old = run_index(index.load_spec(SPEC))
    running = IndexRun.objects.create(spec=old.spec)  # status "running", started now
    _user, client = _analyst()
    page = client.get(reverse("analyse:run", args=[old.pk])).content.decode()
    action = reverse("analyse:rerun", args=[old.pk])
    token = _form_token(page, action)
    for url, data in ((action, {"survey": "on"}),
                      (reverse("analyse:start_run"), {"spec": SPEC, "survey": "on"})):
        response = client.post(url, {**data, "csrfmiddlewaretoken": token})
        assert response.status_code == 302
        assert response["Location"] == reverse("analyse:run", args=[running.pk])
        assert IndexRun.objects.count() == 2  # nothing new ran
        shown = _messages(client.get(response["Location"]).content.decode())
        assert any(f"{running.pk} is still running" in m for m in shown), shown
    IndexRun.objects.filter(pk=running.pk).update(
        started_at=timezone.now() - datetime.timedelta(hours=2))
    response = client.post(action, {"survey": "on", "csrfmiddlewaretoken": token})
    new = IndexRun.objects.exclude(pk__in=[old.pk, running.pk]).get()
    assert new.status == IndexRun.Status.DONE and response["Location"].endswith(f"/{new.pk}/")
