"""Every difference an area page shows is made of figures the public can see.

The demo is built as ``tryg demo`` builds it (real imports, real index run, published), and
every public area page is read as a visitor reads it. For every row of every measure table:

* a change from the previous wave that is shown equals the row's published estimate minus
  the previous wave's published estimate (to the page's rounding), so no change is computed
  from a hidden estimate, nor from the direct estimate behind a model-based figure;
* for a model-based row (fewer than ``min_n`` answers, shown as "< 50"), the difference from
  the rest of the parent area equals ``(b − P) / (1 − s)`` from the published figures (the
  area's benchmarked estimate ``b``, the parent's ``P``, the area's population share ``s``),
  not the direct estimate of its few answers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client

from support.demo_import import imported_demo_run
from support.frames import tuples
from tryg.index.hierarchy import build_hierarchy
from tryg.index.population import totals
from tryg.runs.inputs import load_areas, load_population
from tryg.runs.models import IndexRun
from tryg.runs.services import public_results, publish


@pytest.fixture(scope="module")
def demo_run(django_db_setup: Any, django_db_blocker: Any,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexRun]:
    files = tmp_path_factory.mktemp("small-area-pages")
    with django_db_blocker.unblock(), transaction.atomic():
        run, analyst = imported_demo_run(files, "small-area-analyst")
        publish(run, analyst)
        yield run
        transaction.set_rollback(True)


_ROW = re.compile(r'<tr><th scope="row">(\d{4})</th>(.*?)</tr>', re.DOTALL)
_CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def _shown_number(text: str) -> float | None:
    """The signed number a change cell starts with ("+1.5 pp (…)", "−0.3", "±0.0 pp")."""
    found = re.match(r"\s*([+−±])([\d,]*\.?\d+)", text)
    if not found:
        return None
    value = float(found.group(2).replace(",", ""))
    return -value if found.group(1) == "−" else value


def _cells(html: str, measure: str) -> dict[int, list[str]]:
    """The measure table's cells (text) by wave."""
    start = html.find(f'id="m-{measure}"')
    if start < 0:
        return {}
    section = html[start:]
    section = section[:section.index("</table>")]
    return {int(w): [_TAG.sub("", c).strip() for c in _CELL.findall(body)]
            for w, body in _ROW.findall(section)}


def _num(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


@pytest.mark.django_db
def test_every_shown_difference_is_made_of_published_figures(demo_run: IndexRun) -> None:
    cache.clear()
    public = public_results(demo_run)
    public["est"] = public["estimate"].map(_num)
    flags = public["flags"].fillna("").astype(str)
    public["model"] = flags.str.contains("model_based", regex=False)
    by_key = {(r.area_code, r.measure, int(r.wave)): r for r in tuples(public)}
    areas = load_areas()[0]
    hier, _ = build_hierarchy(areas)
    assert hier is not None
    pops = totals(load_population()[0], hier)
    checked = {"change": 0, "model_change": 0, "model_rest": 0}
    client = Client()
    for code, part in public.groupby("area_code"):
        response = client.get(f"/areas/{code}/", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, code
        html = response.content.decode()
        for measure, rows in part.groupby("measure"):
            cells = _cells(html, str(measure))
            waves = sorted(int(w) for w in rows["wave"])
            for r in tuples(rows):
                wave = int(r.wave)
                if wave not in cells or not math.isfinite(r.est):
                    continue
                row = cells[wave]
                change_text = row[4]  # estimate, interval, n, method, change, ...
                percent = "pp" in change_text or "percentage point" in change_text
                scale = 100.0 if percent else 1.0
                i = waves.index(wave)
                shown = _shown_number(change_text)
                if shown is not None:
                    assert i > 0, (code, measure, wave)
                    prev = by_key[(code, measure, waves[i - 1])]
                    assert math.isfinite(prev.est), (code, measure, wave, "hidden previous")
                    assert abs(shown - scale * (r.est - prev.est)) <= 0.05 + 1e-9, (
                        code, measure, wave, change_text, r.est, prev.est)
                    checked["change"] += 1
                    checked["model_change"] += bool(r.model)
                if not r.model:
                    continue
                assert str(r.n_display).startswith("<") or _num(r.n_display) >= 0
                rest = _shown_number(row[5]) if len(row) > 5 else None
                if rest is None:
                    continue
                anc = hier.ancestors(wave)
                plv = hier.parent_level(str(r.level))
                assert plv is not None
                parent = anc.at[code, plv]
                p = by_key[(parent, measure, wave)].est
                kids = [a for a in anc.index[anc[plv] == parent]
                        if hier.level.get(a) == r.level and (a, measure, wave) in by_key]
                pop = pops[pops["year"] == wave].set_index("area_code")["population"]
                share = float(pop[code] / pop.reindex(kids).sum())
                expected = 100.0 * (r.est - p) / (1.0 - share)
                assert abs(rest - expected) <= 0.05 + 1e-9, (code, measure, wave, row[5],
                                                             expected)
                checked["model_rest"] += 1
    assert checked["change"] > 100
    assert checked["model_change"] > 0
    assert checked["model_rest"] > 0
    # the pooled comparison of a model-based row: its estimate minus the mean of the k
    # earlier waves' published estimates (in the public file; it is not on the page)
    for r in tuples(public[public["model"]]):
        cp = _num(r.change_pooled)
        if not math.isfinite(cp):
            continue
        waves = sorted(w for (a, m, w) in by_key if a == r.area_code and m == r.measure)
        i = waves.index(int(r.wave))
        earlier = [by_key[(r.area_code, r.measure, w)].est for w in waves[i - 3:i]]
        assert cp == pytest.approx(r.est - float(np.mean(earlier)), abs=1e-9)
    assert isinstance(public, pd.DataFrame)


@pytest.mark.django_db
def test_the_map_shows_significance_classes_against_the_parent(demo_run: IndexRun) -> None:
    from tryg.index import load_spec
    from tryg.public.pages import comparison_class

    cache.clear()
    spec = load_spec("dk-tryghedsindeks")
    assert spec.headline is not None
    public = public_results(demo_run)
    wave = int(public["wave"].max())
    part = public[(public["level"] == "nabolag") & (public["wave"] == wave)
                  & (public["measure"] == spec.headline.id)]
    expected: dict[str, int] = {}
    for r in part.to_dict("records"):
        sig = r["sig_parent_rest"]
        r["sig_parent_rest"] = None if pd.isna(sig) else bool(sig)
        k = comparison_class({str(c): v for c, v in r.items()}) or "withheld"
        expected[k] = expected.get(k, 0) + 1
    client = Client()
    html = client.get("/map/?level=nabolag", HTTP_ACCEPT_LANGUAGE="da").content.decode()
    assert 'id="map-show"' in html and 'for="map-show"' in html
    assert "Sammenlignet med resten af det overordnede område" in html  # legend and column
    found = {k: len(re.findall(f'<td class="class-{k}">', html))
             for k in ("above", "same", "below", "withheld")}
    assert {k: v for k, v in found.items() if v} == expected
    assert sum(found.values()) == len(part) > 0
    values = client.get("/map/?level=nabolag&show=values",
                        HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'class="class-' not in values
    english = client.get("/map/?level=nabolag", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Compared with the rest of the parent area" in english
