"""The data quality page: responses per area and wave, what falls below a spec's publication
rules, areas without responses, population and register coverage.

The page's counts are checked against counts made here independently, straight from the
stored responses and area links (a respondent counts for its area and every area its area
lies in that year, following the links one step at a time).
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from support.frames import tuples
from support.planted import client_as, plant
from support.stored_demo import store_demo
from tryg import index
from tryg.accounts.models import Role, User
from tryg.areas.models import Area, AreaLink, Population
from tryg.demo import DemoData, generate
from tryg.index.hierarchy import Hierarchy, build_hierarchy
from tryg.index.inputs import Areas
from tryg.index.spec import Publication
from tryg.police_register.models import RegisterCount
from tryg.runs import quality
from tryg.runs.models import IndexRun
from tryg.runs.services import store_spec
from tryg.surveys.models import Response, Wave

SPEC = "dk-tryghedsindeks"


# --- the pure roll-up ------------------------------------------------------------------------

def _hierarchy() -> Hierarchy:
    areas = pd.DataFrame({"code": ["K", "D1", "D2", "N1", "N2", "H"],
                          "name": ["Kommune", "D1", "D2", "N1", "N2", "Housing"],
                          "level": ["kommune", "district", "district", "nabolag", "nabolag",
                                    "housing"]})
    links = pd.DataFrame({"code": ["D1", "D2", "N1", "N2", "N2"],
                          "parent": ["K", "K", "D1", "D2", "H"],
                          "valid_from": [np.nan, np.nan, np.nan, np.nan, 2020.0],
                          "valid_to": [np.nan, np.nan, np.nan, np.nan, 2020.0]})
    hierarchy, problems = build_hierarchy(Areas(areas, links))
    assert hierarchy is not None and not problems
    return hierarchy


def test_counts_roll_up_the_links_valid_in_each_wave() -> None:
    leaf = pd.DataFrame({"wave": [2020, 2020, 2021], "area_code": ["N1", "N2", "N1"],
                         "n": [10, 40, 5]})
    counts = quality.roll_up_counts(leaf, _hierarchy(), [2020, 2021, 2022])
    got = {(r.area_code, r.wave): r.n for r in tuples(counts)}
    assert got == {
        ("K", 2020): 50, ("D1", 2020): 10, ("D2", 2020): 40, ("N1", 2020): 10,
        ("N2", 2020): 40, ("H", 2020): 40,
        # 2021: nobody in N2 (0), and the housing area is not in use (left out)
        ("K", 2021): 5, ("D1", 2021): 5, ("D2", 2021): 0, ("N1", 2021): 5, ("N2", 2021): 0,
        # a wave without any response: every area in use, at 0
        ("K", 2022): 0, ("D1", 2022): 0, ("D2", 2022): 0, ("N1", 2022): 0, ("N2", 2022): 0,
    }
    assert counts["n"].dtype == np.int64


def test_counts_are_classified_by_the_publication_rules() -> None:
    rules = Publication(min_n=50, uncertain_n=100)
    n = pd.Series([0, 1, 49, 50, 99, 100, 5000])
    assert quality.classify(n, rules).tolist() == [
        "none", "below_min", "below_min", "uncertain", "uncertain", "ok", "ok"]


# --- the page on the demo data ---------------------------------------------------------------

@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate(1, "small")


def _independent_counts() -> dict[tuple[str, int], int]:
    """Respondents per (area code, wave), every area in use that year, 0 included."""
    links: dict[str, list[tuple[str, int | None, int | None]]] = defaultdict(list)
    children: dict[str, list[tuple[int | None, int | None]]] = defaultdict(list)
    for child, parent, lo, hi in AreaLink.objects.values_list(
            "area__code", "parent__code", "valid_from", "valid_to"):
        links[child].append((parent, lo, hi))
        children[parent].append((lo, hi))

    def valid(lo: int | None, hi: int | None, year: int) -> bool:
        return (lo is None or lo <= year) and (hi is None or year <= hi)

    def above(code: str, year: int) -> set[str]:
        found = {code}
        for parent, lo, hi in links[code]:
            if valid(lo, hi, year):
                found |= above(parent, year)
        return found

    counts: dict[tuple[str, int], int] = {}
    codes = list(Area.objects.values_list("code", flat=True))
    for year in Wave.objects.values_list("year", flat=True):
        for code in codes:
            if code not in children or any(valid(lo, hi, year) for lo, hi in children[code]):
                counts[(code, year)] = 0
        for area in Response.objects.filter(wave__year=year).values_list("area__code",
                                                                          flat=True):
            for code in above(area, year):
                counts[(code, year)] += 1
    return counts


def _matrix(page: str) -> dict[tuple[str, int], tuple[str, str]]:
    """(area code, wave) → (shown text, status) of each cell of the page's matrix."""
    waves = [int(w) for w in re.findall(r'<th scope="col" class="num">(\d{4})</th>',
                                        page.split('<table id="matrix">')[1])]
    table = page.split('<table id="matrix">')[1].split("</table>")[0]
    cells = {}
    for code, rest in re.findall(r"<code>([^<]+)</code></th>(.*?)</tr>", table, re.S):
        found = re.findall(r'<td class="num" data-status="(\w+)">(.*?)</td>', rest)
        assert len(found) == len(waves)
        for wave, (status, text) in zip(waves, found, strict=True):
            cells[(code, wave)] = (re.sub(r"<[^>]+>", "", text), status)
    return cells


@pytest.mark.django_db
def test_the_page_counts_equal_the_stored_responses(demo: DemoData) -> None:
    store_demo(demo)
    # empty one neighbourhood in 2022, and bring another just below the minimum n in 2021
    emptied = "9999-03-02"
    Response.objects.filter(wave__year=2022, area__code=emptied).delete()
    thinned = "9999-05-01"
    keep = Response.objects.filter(wave__year=2021, area__code=thinned).order_by("pk")
    Response.objects.filter(pk__in=list(keep.values_list("pk", flat=True)[49:])).delete()
    expected = _independent_counts()
    assert expected[(emptied, 2022)] == 0 and expected[(thinned, 2021)] == 49

    client = client_as_analyst()
    url = reverse("analyse:quality")
    page = client.get(url).content.decode()
    assert "fewer than 50 respondents is suppressed" in page  # the default: shipped spec

    # the CSV holds every count, with its status under the rules
    rows = list(csv.DictReader(io.StringIO(client.get(url, {"format": "csv"}).content
                                           .decode())))
    got = {(r["area_code"], int(r["wave"])): int(r["n"]) for r in rows}
    assert got == expected
    for r in rows:
        n = int(r["n"])
        want = "none" if n == 0 else "below_min" if n < 50 else "uncertain" if n < 100 \
            else "ok"
        assert r["status"] == want, r

    # the matrix on the page: every cell, in use or not
    cells = _matrix(page)
    assert {k for k, (_text, status) in cells.items() if status != "unused"} == set(expected)
    for key, n in expected.items():
        text, _status = cells[key]
        assert int(text.rstrip("*?")) == n, key
    assert cells[(emptied, 2022)] == ("0", "none")
    assert cells[(thinned, 2021)] == ("49*", "below_min")
    assert all(text == "–" for text, status in cells.values() if status == "unused")
    assert any(status == "unused" for _text, status in cells.values())  # a housing area

    # the list of areas below the rules, and the summary per wave and level
    flagged = page.split('<table id="flagged">')[1].split("</table>")[0]
    assert re.search(rf"<td>2022</td>\s*<th scope=\"row\">[^<]+<code>{emptied}</code></th>"
                     r"\s*<td>nabolag</td>\s*<td class=\"num\">0</td>\s*<td>no responses</td>",
                     flagged)
    assert re.search(rf"<td>2021</td>\s*<th scope=\"row\">[^<]+<code>{thinned}</code></th>"
                     r"\s*<td>nabolag</td>\s*<td class=\"num\">49</td>"
                     r"\s*<td>below the minimum n</td>", flagged)
    level = dict(Area.objects.values_list("code", "level"))
    summary = page.split('<table id="summary">')[1].split("</table>")[0]
    for wave in (2021, 2022):
        below = sum(1 for (c, w), n in expected.items()
                    if w == wave and level[c] == "nabolag" and 0 < n < 50)
        none = sum(1 for (c, w), n in expected.items()
                   if w == wave and level[c] == "nabolag" and n == 0)
        total = sum(n for (c, w), n in expected.items() if w == wave and level[c] == "nabolag")
        assert re.search(rf"<th scope=\"row\">{wave}</th>\s*<td>nabolag</td>"
                         rf"\s*<td class=\"num\">40</td>\s*<td class=\"num\">{total}</td>"
                         rf"\s*<td class=\"num\">{none}</td>\s*<td class=\"num\">{below}</td>",
                         summary), wave

    # one level only
    only = client.get(url, {"level": "bydel"}).content.decode()
    assert set(_matrix(only)) == {k for k in expected if level[k[0]] == "bydel"}


@pytest.mark.django_db
def test_coverage_and_the_spec_of_the_latest_run(demo: DemoData) -> None:
    store_demo(demo)
    client = client_as_analyst()
    url = reverse("analyse:quality")
    page = client.get(url).content.decode()
    # population years and register quarters stored on one neighbourhood
    code = "9999-02-03"
    years = sorted(set(Population.objects.filter(area__code=code)
                       .values_list("year", flat=True)))
    quarters = sorted(set(RegisterCount.objects.filter(area__code=code)
                          .values_list("quarter", flat=True)))
    offences = sum(RegisterCount.objects.filter(area__code=code).values_list("count",
                                                                             flat=True))
    matrix = page.split('<table id="matrix">')[1]
    row = re.search(rf"<code>{code}</code></th>(.*?)</tr>", matrix, re.S)
    assert row is not None
    assert f"{years[0]}–{years[-1]} ({len(years)})" in row.group(1)
    assert f"{quarters[0]}–{quarters[-1]} ({len(quarters)}; {offences} offences)" in row.group(1)

    # the latest run's spec is the default: a stricter one raises the bar
    strict = index.parse_spec(index.load_spec(SPEC).source.replace(
        "min_n = 50", "min_n = 100").replace("uncertain_n = 100", "uncertain_n = 150"))
    IndexRun.objects.create(spec=store_spec(strict), status=IndexRun.Status.DONE,
                            finished_at=timezone.now())
    page = client.get(url).content.decode()
    assert f'<option value="{strict.hash}" selected>' in page
    assert "(the latest run&#x27;s)" in page
    assert "fewer than 100 respondents is suppressed" in page
    expected = _independent_counts()
    below = sum(1 for n in expected.values() if 0 < n < 100)
    shown = sum(int(n) for n in re.findall(
        r'<td class="num">\d+</td>\s*<td class="num">\d+</td>\s*<td class="num">\d+</td>'
        r'\s*<td class="num">(\d+)</td>\s*<td class="num">\d+</td>\s*</tr>',
        page.split('<table id="summary">')[1].split("</table>")[0]))
    assert shown == below > 0
    # a shipped spec chosen instead
    shipped = index.load_spec(SPEC)
    page = client.get(url, {"spec": shipped.hash}).content.decode()
    assert f'<option value="{shipped.hash}" selected>' in page
    assert "fewer than 50 respondents is suppressed" in page
    # an unknown choice falls back to the default
    page = client.get(url, {"spec": "0" * 64}).content.decode()
    assert f'<option value="{strict.hash}" selected>' in page


@pytest.mark.django_db
def test_the_page_without_survey_data() -> None:
    client = client_as_analyst()
    page = client.get(reverse("analyse:quality")).content.decode()
    assert "No survey wave has been imported yet." in page


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "expected"), [
    ("anonymous", "login"), ("partner", 403), ("walker", 403), ("coordinator", 200),
    ("analyst", 200), ("admin", 200)])
def test_only_internal_roles_see_data_quality(who: str, expected: int | str) -> None:
    site = plant()
    client = client_as(site, who)
    url = reverse("analyse:quality")
    for query in ({}, {"format": "csv"}):
        response = client.get(url, query)
        if expected == "login":
            assert response.status_code == 302
            assert response["Location"].startswith(f"{reverse('login')}?next=")
        else:
            assert response.status_code == expected, who
    if who == "anonymous":
        return
    home = client.get(reverse("analyse:home")).content.decode()
    assert (f'href="{url}"' in home) == (expected == 200)
    if expected == 200:
        # planted: two answers in the district, which lies in the kommune from 2020
        rows = list(csv.DictReader(io.StringIO(client.get(url, {"format": "csv"}).content
                                               .decode())))
        assert {(r["area_code"], r["n"], r["status"]) for r in rows} == {
            ("K999", "2", "below_min"), ("D999-1", "2", "below_min")}


def client_as_analyst() -> Client:
    client = Client()
    client.force_login(User.objects.create_user("ana", role=Role.ANALYST))
    return client
