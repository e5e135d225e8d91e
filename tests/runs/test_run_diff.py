"""The difference between two index runs: the pure comparison, and the page and CSV file.

The pure part (:mod:`tryg.runs.diff`) is checked on small hand-made results tables. The
page is checked on two real runs of the demo data, before and after deleting some survey
answers: the rows it reports as changed are exactly those whose stored values differ, found
here by a plain row-by-row comparison of the two runs' stored rows.
"""

from __future__ import annotations

import csv
import io
import math
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.test import Client
from django.urls import reverse

from support.planted import client_as, plant
from support.stored_demo import store_demo
from tryg import index
from tryg.accounts.models import Role, User
from tryg.analysis import diff_views
from tryg.demo import DemoData, generate
from tryg.index.results import RESULT_COLUMNS, conform
from tryg.runs import diff
from tryg.runs.models import IndexRun, ResultRow
from tryg.runs.services import compare_runs, previous_run, run_index
from tryg.surveys.models import Response

SPEC = "dk-tryghedsindeks"


def _table(*rows: dict[str, Any]) -> pd.DataFrame:
    base: dict[str, Any] = dict.fromkeys(RESULT_COLUMNS)
    base.update(area_name="Midtby", level="district", method="direct", band="", flags="",
                suppressed=False, spec_id="s", spec_hash="h" * 64, wave=2024, measure="m")
    return conform(pd.DataFrame([{**base, **r} for r in rows], columns=list(RESULT_COLUMNS)))


# --- the pure comparison ---------------------------------------------------------------------

def test_rows_are_sorted_into_changed_only_a_only_b_and_unchanged() -> None:
    a = _table({"area_code": "1", "estimate": 0.5, "se": 0.01, "n": 100},
               {"area_code": "2", "estimate": np.nan, "n": None, "sig_prev": True},
               {"area_code": "3", "estimate": 0.7, "n": 80},
               {"area_code": "1", "measure": "other", "estimate": 2.0})
    b = _table({"area_code": "1", "estimate": 0.625, "se": 0.01, "n": 90,
                "suppressed": True, "flags": "suppressed_small_n"},
               {"area_code": "2", "estimate": np.nan, "n": None, "sig_prev": True},
               {"area_code": "4", "estimate": 0.7, "n": 80},
               {"area_code": "1", "measure": "other", "estimate": 2.0, "spec_hash": "x"})
    d = diff.compare(a, b)
    assert (d.changed, d.only_a, d.only_b, d.unchanged) == (1, 1, 1, 2)
    assert not d.identical
    changed = d.table(status="changed").iloc[0]
    assert changed["area_code"] == "1" and changed["measure"] == "m"
    assert changed["estimate_a"] == 0.5 and changed["estimate_b"] == 0.625
    assert changed["estimate_diff"] == 0.125
    assert (changed["n_a"], changed["n_b"]) == (100, 90)
    assert (changed["suppressed_a"], changed["suppressed_b"]) == (False, True)
    assert changed["flags_b"] == "suppressed_small_n"
    assert changed["changed_columns"] == "estimate;n;suppressed;flags"
    only_a = d.table(status="only_a").iloc[0]
    assert only_a["area_code"] == "3" and only_a["estimate_a"] == 0.7
    assert pd.isna(only_a["estimate_b"]) and pd.isna(only_a["estimate_diff"])
    assert d.table(status="only_b")["area_code"].tolist() == ["4"]
    assert d.table(measure="other").empty  # the spec hash alone does not count
    assert list(d.rows.columns) == list(diff.TABLE_COLUMNS)


def test_identical_tables_and_a_table_against_nothing() -> None:
    a = _table({"area_code": "1", "estimate": 0.5, "n": 10}, {"area_code": "2", "n": 3})
    same = diff.compare(a, a.copy())
    assert same.identical and same.unchanged == 2 and same.rows.empty
    assert same.csv_bytes().decode().splitlines() == [",".join(diff.TABLE_COLUMNS)]
    empty = diff.compare(a.iloc[:0], a)
    assert (empty.only_b, empty.only_a, empty.changed, empty.unchanged) == (2, 0, 0, 0)


def test_a_tolerance_ignores_small_float_differences_only() -> None:
    a = _table({"area_code": "1", "estimate": 0.5, "se": 0.1, "n": 10})
    b = _table({"area_code": "1", "estimate": 0.5 + 1e-12, "se": 0.1, "n": 10})
    assert diff.compare(a, b).changed == 1
    assert diff.compare(a, b, tolerance=1e-9).unchanged == 1
    c = _table({"area_code": "1", "estimate": 0.5, "se": 0.1, "n": 11})
    assert diff.compare(a, c, tolerance=5.0).changed == 1  # counts are not floats
    with pytest.raises(ValueError, match="tolerance"):
        diff.compare(a, b, tolerance=-1.0)


def test_a_duplicated_key_is_refused() -> None:
    a = _table({"area_code": "1", "estimate": 0.5}, {"area_code": "1", "estimate": 0.6})
    with pytest.raises(ValueError, match="more than one result row"):
        diff.compare(a, _table({"area_code": "1"}))


def test_counts_per_measure_list_every_measure() -> None:
    a = _table({"area_code": "1", "estimate": 0.5}, {"area_code": "2", "measure": "k"})
    b = _table({"area_code": "1", "estimate": 0.6}, {"area_code": "3", "measure": "k"})
    counts = diff.compare(a, b).by_measure(["k", "m", "z"])
    assert counts.to_dict("records") == [
        {"measure": "k", "changed": 0, "only_a": 1, "only_b": 1},
        {"measure": "m", "changed": 1, "only_a": 0, "only_b": 0},
        {"measure": "z", "changed": 0, "only_a": 0, "only_b": 0}]


def test_input_and_spec_changes() -> None:
    fp = {"sha256": "1" * 64, "rows": 10, "batches": [1], "files": ["a.csv"]}
    a = {"areas": fp, "survey": fp, "population": fp}
    b = {"areas": fp, "survey": {**fp, "sha256": "2" * 64, "rows": 9}, "register": fp}
    changes = {c.name: c.kind for c in diff.input_changes(a, b)}
    assert changes == {"survey": "changed", "population": "removed", "register": "added"}
    assert diff.input_changes(a, dict(a)) == []
    assert diff.spec_change("h", "x = 1\n", "h", "x = 2\n").same
    change = diff.spec_change("h", "a = 1\nmin_n = 50\n", "k", "a = 1\nmin_n = 60\n")
    assert not change.same and "-min_n = 50" in change.lines and "+min_n = 60" in change.lines


# --- two real runs ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate(1, "small")


def _naive_changes(a: IndexRun, b: IndexRun) -> tuple[set[tuple[Any, ...]], ...]:
    """Keys only in A, only in B and changed, from the stored rows, one row at a time."""
    columns = [c for c in RESULT_COLUMNS if c not in ("spec_id", "spec_hash")]

    def rows(run: IndexRun) -> dict[tuple[Any, ...], dict[str, Any]]:
        return {(r["area_code"], r["wave"], r["measure"]): r
                for r in ResultRow.objects.filter(run=run).values(*columns)}

    def same(x: Any, y: Any) -> bool:
        if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
            return True
        return bool(x == y)

    ra, rb = rows(a), rows(b)
    changed = {k for k in set(ra) & set(rb)
               if any(not same(ra[k][c], rb[k][c]) for c in columns)}
    return set(ra) - set(rb), set(rb) - set(ra), changed


@pytest.mark.django_db
def test_deleted_answers_change_exactly_the_rows_the_page_lists(demo: DemoData) -> None:
    store_demo(demo)
    spec = index.load_spec(SPEC)
    first = run_index(spec)
    assert first.status == IndexRun.Status.DONE, first.log
    # Delete 30 answers of one neighbourhood in the 2021 wave.
    area = (Response.objects.filter(wave__year=2021).values_list("area__code", flat=True)
            .order_by("area__code").first())
    gone = list(Response.objects.filter(wave__year=2021, area__code=area).order_by("pk")[:30])
    item = next(i for i in spec.items if i.id == "tryg_nabolag")
    answered = sum(1 for r in gone if r.answers.get("tryg_nabolag") is not None
                   and r.answers["tryg_nabolag"] not in item.dont_know)
    Response.objects.filter(pk__in=[r.pk for r in gone]).delete()
    second = run_index(spec)
    assert second.status == IndexRun.Status.DONE, second.log
    assert previous_run(second) == first

    only_a, only_b, changed = _naive_changes(first, second)
    difference = compare_runs(first, second)
    assert (difference.only_a, difference.only_b) == (len(only_a), len(only_b)) == (0, 0)
    listed = set(difference.table(status="changed")[["area_code", "wave", "measure"]]
                 .itertuples(index=False, name=None))
    assert listed == changed and changed
    assert difference.unchanged == ResultRow.objects.filter(run=first).count() - len(changed)
    assert {w for _a, w, _m in changed} <= {2021, 2022, 2023}  # earlier waves untouched
    changed_rows = difference.table(status="changed", measure="tryghed_trygge")
    row = changed_rows[(changed_rows["area_code"] == area) & (changed_rows["wave"] == 2021)].iloc[0]
    assert row["n_a"] - row["n_b"] == answered > 0

    client = Client()
    client.force_login(User.objects.create_user("analyst", role=Role.ANALYST))
    url = reverse("analyse:compare")
    page = client.get(url, {"b": second.pk}).content.decode()  # A: the run before B
    assert f'<option value="{first.pk}" selected>' in page
    assert _count(page, "changed") == len(changed)
    assert _count(page, "unchanged") == difference.unchanged
    assert (_count(page, "only-a"), _count(page, "only-b")) == (0, 0)
    assert "The same specification" in page
    # the survey is the only input that differs, by the deleted rows
    inputs = page.split("Inputs whose fingerprint differs")[1].split("</table>")[0]
    assert re.findall(r'<th scope="row">(\w+)</th>', inputs) == ["survey"]
    assert str(first.inputs["survey"]["rows"]) in inputs
    assert str(first.inputs["survey"]["rows"] - 30) in inputs

    # the CSV file is the whole difference
    response = client.get(reverse("analyse:compare_csv"), {"a": first.pk, "b": second.pk})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content == difference.csv_bytes()
    table = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {(r["area_code"], int(r["wave"]), r["measure"]) for r in table} == changed

    # filtered by measure and paged
    measure: dict[str, Any] = {"a": first.pk, "b": second.pk, "measure": "tryghed_trygge"}
    only = client.get(url, measure)
    body = only.content.decode()
    listed_rows = _rows(body)
    assert listed_rows and {m for _w, m in listed_rows} == {"tryghed_trygge"}
    n_trygge = sum(1 for _a, _w, m in changed if m == "tryghed_trygge")
    assert f"{n_trygge} row" in body


@pytest.mark.django_db
def test_the_rows_are_paged(monkeypatch: pytest.MonkeyPatch) -> None:
    site = plant()
    # from the unpublished run to the published one: one row changed, two added
    a, b = site.unpublished, site.published
    monkeypatch.setattr(diff_views, "PAGE_SIZE", 1)
    client = client_as(site, "coordinator")
    url = reverse("analyse:compare")
    params: dict[str, Any] = {"a": a.pk, "b": b.pk, "show": "only_b"}
    first = client.get(url, params).content.decode()
    second = client.get(url, {**params, "page": 2}).content.decode()
    assert 'rel="next"' in first and 'rel="prev"' in second
    assert f"a={a.pk}&amp;b={b.pk}&amp;show=only_b&amp;page=2" in first
    assert _count(first, "only-b") == 2 and _count(first, "changed") == 1
    assert "Different specifications" not in first


@pytest.mark.django_db
def test_defaults_failed_runs_and_bad_parameters() -> None:
    site = plant()
    client = client_as(site, "analyst")
    url = reverse("analyse:compare")
    # no parameters: B is the latest finished run, A the run before it
    page = client.get(url).content.decode()
    assert f'<option value="{site.published.pk}" selected>' in page.split('id="id_b"')[1]
    assert f'<option value="{site.unpublished.pk}" selected>' in page.split('id="id_b"')[0]
    # a failed run has no results: everything of the other run is "only in"
    failed = IndexRun.objects.create(spec=site.published.spec, status=IndexRun.Status.FAILED)
    page = client.get(url, {"a": failed.pk, "b": site.published.pk}).content.decode()
    assert "Run A did not finish" in page and _count(page, "only-b") == 3
    assert client.get(url, {"a": 999999, "b": site.published.pk}).status_code == 404
    assert client.get(url, {"a": "x"}).status_code == 400  # not a run number
    tolerance: dict[str, Any] = {"a": site.unpublished.pk, "b": site.published.pk,
                                 "tolerance": "abc"}
    bad = client.get(url, tolerance)
    assert bad.status_code == 200 and "The tolerance must be a number" in bad.content.decode()
    # the run page links to the comparison with the run before it
    run_page = client.get(reverse("analyse:run", args=[site.published.pk])).content.decode()
    assert f"{url}?a={site.unpublished.pk}&amp;b={site.published.pk}" in run_page
    first_page = client.get(reverse("analyse:run", args=[site.unpublished.pk])).content
    assert b"No earlier finished run to compare with." in first_page


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "expected"), [
    ("anonymous", "login"), ("partner", 403), ("walker", 403), ("coordinator", 200),
    ("analyst", 200), ("admin", 200)])
def test_only_internal_roles_compare_runs(who: str, expected: int | str) -> None:
    site = plant()
    client = client_as(site, who)
    query = {"a": site.unpublished.pk, "b": site.published.pk}
    for name in ("analyse:compare", "analyse:compare_csv"):
        url = reverse(name)
        response = client.get(url, query)
        if expected == "login":
            assert response.status_code == 302
            assert response["Location"].startswith(f"{reverse('login')}?next=")
        else:
            assert response.status_code == expected, (who, name)
    if who != "anonymous":
        runs = client.get(reverse("analyse:runs")).content.decode()
        assert (reverse("analyse:compare") in runs) == (expected == 200)


def _count(page: str, name: str) -> int:
    found = re.search(rf'id="count-{name}">(\d+)<', page)
    assert found is not None, name
    return int(found.group(1))


def _rows(page: str) -> list[tuple[int, str]]:
    """(wave, measure) of each row of the difference table on a page."""
    table = page.split('<table id="difference">')[1].split("</table>")[0]
    return [(int(w), m) for w, m in re.findall(r"<td>(\d{4})</td>\s*<td>([^<]+)</td>", table)]
