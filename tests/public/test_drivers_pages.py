"""Drivers of insecurity in index runs and on the pages (issue 18, point 5).

The small demo is imported through the real import services and run with the shipped
``dk-tryghedsindeks`` (run A, with its ``[drivers]`` table), and again with the same table
but ``min_n = 400`` (run B, published), which leaves some bydel cells (area and wave) without
a model. Checked: run A stores drivers for the kommune in every wave and for the bydele, and
the area problems; the public pages, the analysts' page and the API show run B's drivers in
Danish and English, with their intervals and sentences, and nothing of a hidden cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client

from support.demo_import import imported_demo_run
from tryg.accounts.models import Organisation, Role, User
from tryg.areas.models import Area
from tryg.index import load_spec
from tryg.index.spec import parse_spec
from tryg.public.data import forget_publication
from tryg.runs.drivers import drivers_frame, problems_frame
from tryg.runs.models import AreaProblemRow, DriverRow, IndexRun
from tryg.runs.services import publish, run_index

#: run B's drivers minimum: above some of the small demo's bydel cells (some 300-550 answers)
HIGH_MIN_N = 400


@dataclass(frozen=True)
class Runs:
    a: IndexRun
    b: IndexRun
    analyst: User
    partner: User


@pytest.fixture(scope="module")
def runs(django_db_setup: Any, django_db_blocker: Any,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    files = tmp_path_factory.mktemp("drivers-pages")
    with django_db_blocker.unblock(), transaction.atomic():
        a, analyst = imported_demo_run(files, "drivers-analyst")
        text = load_spec("dk-tryghedsindeks").source.replace("min_n = 200",
                                                             f"min_n = {HIGH_MIN_N}")
        b = run_index(parse_spec(text), user=analyst)
        assert b.status == IndexRun.Status.DONE, b.log
        publish(b, analyst)
        housing = Organisation.objects.create(name="Drivers boliger", kind="housing")
        partner = User.objects.create_user("drivers-partner", role=Role.PARTNER,
                                           organisation=housing)
        yield Runs(a, b, analyst, partner)
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _fresh() -> None:
    cache.clear()
    forget_publication()


def _hidden(runs: Runs) -> tuple[str, int]:
    """A bydel cell of the latest wave that run A models and run B hides (fewer than
    HIGH_MIN_N answers)."""
    b = drivers_frame(runs.b)
    latest = int(b["wave"].max())
    hidden = b[(b["level"] == "bydel") & (b["wave"] == latest) & b["suppressed"]
               & (b["n"] < HIGH_MIN_N)]
    a = drivers_frame(runs.a)
    modelled = a[(a["level"] == "bydel") & (a["wave"] == latest) & ~a["suppressed"]]
    both = sorted(set(hidden["area_code"]) & set(modelled["area_code"]))
    assert both, "the demo should have a bydel cell under the raised minimum"
    return both[0], latest


def _text(html: bytes) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.decode()))


@pytest.mark.django_db
def test_the_run_stores_drivers_and_area_problems(runs: Runs) -> None:
    frame = drivers_frame(runs.a)
    kommune = frame[frame["level"] == "kommune"]
    waves = sorted(set(kommune["wave"]))
    assert len(waves) == 5 and not kommune["suppressed"].any()
    for _wave, cell in kommune.groupby("wave"):
        assert sorted(cell["rank"]) == [1, 2, 3, 4]  # four problems, ranked
        assert (cell["ci_low"] <= cell["effect"]).all()
        assert (cell["effect"] <= cell["ci_high"]).all()
    # the demo's answers go together: reporting a problem goes with feeling unsafe
    assert (kommune["effect"] > 0).mean() > 0.9
    bydel = frame[frame["level"] == "bydel"]
    assert set(bydel["wave"]) == set(waves) and (~bydel["suppressed"]).sum() > 20
    problems = problems_frame(runs.a)
    assert set(problems["level"]) == {"bydel", "boligomraade"}
    assert problems["more_often"].any()
    assert AreaProblemRow.objects.filter(run=runs.a).count() == len(problems)
    assert f"{DriverRow.objects.filter(run=runs.a).count()} driver rows" in runs.a.log


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "words"), [
    ("da", ("Hvad hænger sammen med utryghed", "procentpoint", "handel med narkotika")),
    ("en", ("What goes with feeling unsafe", "percentage points", "drug dealing")),
])
def test_the_methods_page_shows_the_drivers(runs: Runs, language: str,
                                            words: tuple[str, ...]) -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE=language).get("/methods/")
    assert response.status_code == 200
    text = _text(response.content)
    for word in words:
        assert word in text
    assert 'id="drivers"' in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["da", "en"])
def test_an_area_page_lists_its_problems_against_the_rest(runs: Runs, language: str) -> None:
    problems = problems_frame(runs.b)
    latest = int(problems["wave"].max())
    more = problems[(problems["wave"] == latest) & problems["more_often"]
                    & ~problems["suppressed"]]
    code = str(more["area_code"].iloc[0])
    response = Client(HTTP_ACCEPT_LANGUAGE=language).get(f"/areas/{code}/")
    assert response.status_code == 200
    text = _text(response.content)
    heading = ("Nabolagsproblemer her og i resten af" if language == "da"
               else "Neighbourhood problems here and in the rest of the parent area")
    assert heading in text
    significantly = ("markant oftere" if language == "da" else "significantly more often")
    assert significantly in text


@pytest.mark.django_db
def test_a_cell_under_min_n_is_on_no_page_and_in_no_answer(runs: Runs) -> None:
    code, wave = _hidden(runs)
    name = Area.objects.get(code=code).name
    caption = f"What goes with feeling unsafe, {name} {wave}"
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert caption not in _text(english.get(f"/areas/{code}/").content)
    answer = english.get(f"/api/drivers?area={code}&wave={wave}").json()
    assert answer["run"] == runs.b.pk and answer["count"] == 0
    every = english.get("/api/drivers?level=bydel&limit=10000").json()["drivers"]
    assert (code, wave) not in {(d["area_code"], d["wave"]) for d in every}
    assert every and all(d["n"] >= HIGH_MIN_N for d in every)
    # a partner sees the published run's public view on the analysts' page too
    partner = Client(HTTP_ACCEPT_LANGUAGE="en")
    partner.force_login(runs.partner)
    page = partner.get(f"/analyse/runs/{runs.b.pk}/drivers/?level=bydel&wave={wave}")
    assert page.status_code == 200
    assert name not in _text(page.content).split("significantly more often")[0]
    # an analyst sees it listed as a cell without a model; run A's page shows its model
    analyst = Client(HTTP_ACCEPT_LANGUAGE="en")
    analyst.force_login(runs.analyst)
    internal = _text(analyst.get(
        f"/analyse/runs/{runs.b.pk}/drivers/?level=bydel&wave={wave}&page=1").content)
    a_page = _text(analyst.get(
        f"/analyse/runs/{runs.a.pk}/drivers/?level=bydel&wave={wave}").content)
    assert "What goes with feeling unsafe" in a_page and "Rank" in a_page
    assert "Internal view" in internal


@pytest.mark.django_db
def test_the_analysts_page_is_refused_where_the_run_is(runs: Runs) -> None:
    partner = Client()
    partner.force_login(runs.partner)
    assert partner.get(f"/analyse/runs/{runs.a.pk}/drivers/").status_code == 404
    assert Client().get(f"/analyse/runs/{runs.b.pk}/drivers/").status_code in (302, 403)
    assert Client().get(f"/api/drivers?run={runs.a.pk}").status_code == 404
    assert Client().get(f"/api/area-problems?run={runs.a.pk}").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["da", "en"])
def test_the_analysts_page_shows_ranked_drivers_with_sentences(runs: Runs,
                                                              language: str) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(runs.analyst)
    run_page = client.get(f"/analyse/runs/{runs.a.pk}/")
    assert f"/analyse/runs/{runs.a.pk}/drivers/" in run_page.content.decode()
    response = client.get(f"/analyse/runs/{runs.a.pk}/drivers/?level=kommune")
    assert response.status_code == 200
    text = _text(response.content)
    among = "Blandt beboere, der oplever" if language == "da" else "Among residents who report"
    assert among in text
    assert text.count("95") >= 4
    area_problems = client.get(f"/api/area-problems?run={runs.b.pk}&level=bydel").json()
    assert area_problems["count"] > 0
    assert all(p["n"] >= 50 and p["rest_n"] >= 50 for p in area_problems["problems"])
