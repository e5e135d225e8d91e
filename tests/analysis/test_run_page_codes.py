"""The run's page shows no raw codes (the outside probe found ``direct``, ``uncertain``,
``areas``, ``population`` on Danish pages): a result row's method and flags, its measure and
the inputs the run read are in the page's language, in the public pages' words; the
downloads keep the codes."""

from __future__ import annotations

import html
import io
import re

import pandas as pd
import pytest
from django.test import Client
from django.urls import reverse

from support.stored_demo import store_demo
from tryg import index
from tryg.accounts.models import Role, User
from tryg.demo import DemoData, generate
from tryg.runs.models import IndexRun
from tryg.runs.services import results_frame, run_index

pytestmark = pytest.mark.django_db

#: Measures whose first page holds every method and the commonest flags of the demo run.
MEASURES = ("tryghed_trygge", "tryghedsindeks", "anmeldelser_vold", "anmeldelser_vold_eb",
            "gap", "oplevet_tryghed")
INPUTS = ("areas", "population", "register", "survey")
CELL = re.compile(r"<t([dh])[^>]*>(.*?)</t\1>", re.S)
CODE = re.compile(r"<code>.*?</code>", re.S)


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate(1, "small")


def _cells(page: str) -> list[str]:
    """The text of every table cell (header cells included), identifiers in <code> left out."""
    return [html.unescape(re.sub(r"<[^>]+>", "", CODE.sub("", c))).strip()
            for _kind, c in CELL.findall(page)]


def _shown(client: Client, run: IndexRun) -> list[str]:
    url = reverse("analyse:run", args=[run.pk])
    cells = _cells(client.get(url).content.decode())  # the inputs' table
    for measure in MEASURES:
        response = client.get(url, {"measure": measure})
        assert response.status_code == 200
        cells += _cells(response.content.decode())
    return cells


def test_the_run_page_shows_words_not_codes_in_danish_and_english(demo: DemoData) -> None:
    store_demo(demo)
    run = run_index(index.load_spec("dk-tryghedsindeks"))
    assert run.status == IndexRun.Status.DONE, run.log
    table = results_frame(run)
    codes = set(table["method"].dropna()) | {
        f for flags in table["flags"].dropna() for f in str(flags).split(";") if f}
    assert {"direct", "model", "register", "composite", "uncertain"} <= codes
    codes |= set(INPUTS)
    client = Client(HTTP_ACCEPT_LANGUAGE="da")  # the suite's default language is English
    client.force_login(User.objects.create_user("analyst", role=Role.ANALYST))

    danish = _shown(client, run)
    parts = {p for cell in danish for p in cell.split("; ")}
    assert not parts & codes, sorted(parts & codes)
    for words in ("direkte estimat", "politiets anmeldelser", "usikkert (få svar)",
                  "Befolkning", "Områder", "Tryghed"):
        assert any(words in cell for cell in danish), words

    client.get("/sprog/en/")
    english = _shown(client, run)
    parts = {p for cell in english for p in cell.split("; ")}
    assert not parts & codes, sorted(parts & codes)
    for words in ("direct estimate", "police register", "uncertain (few answers)",
                  "Population", "Areas"):
        assert any(words in cell for cell in english), words

    # the download keeps the codes: it is data, explained by the codebook
    csv = pd.read_csv(io.BytesIO(client.get(
        reverse("analyse:download", args=[run.pk, "csv"])).content))
    assert "direct" in set(csv["method"]) and csv["flags"].str.contains("uncertain").any()
