"""The attacker test: read only what an anonymous visitor can, try every linear relation the
tables publish, and recover no hidden value or count.

Two sites are built as a user builds them (``tryg demo``, and ``tryg demo --from`` the real
Danish files for Aalborg), served by ``tryg serve``, and read over HTTP: the results as CSV,
XLSX, JSON and GeoJSON, the API's results and areas. The attack itself is in
``tests/support/attacker.py``; the hidden truth is read from the site's database afterwards.
Before disclosure control, the attack recovered 54 hidden values and counts of the small demo.
"""

from __future__ import annotations

import io
import json
import math
import sqlite3
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from support.attacker import Key, attack, recovered
from support.commands import TRYG, env, free_port, start_serving, stop, tryg
from support.frames import tuples
from tryg.index import load_spec

pytestmark = pytest.mark.slow


def _get(base: str, path: str) -> bytes:
    with urllib.request.urlopen(base + path, timeout=120) as response:
        body: bytes = response.read()
        return body


@pytest.fixture(scope="module")
def small_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    folder = tmp_path_factory.mktemp("attack") / "site"
    result = tryg("demo", "--no-serve", "--data-dir", folder)
    assert result.returncode == 0, result.stdout + result.stderr
    yield from _serve(folder)


@pytest.fixture(scope="module")
def aalborg_site(tmp_path_factory: pytest.TempPathFactory,
                 shared_data: Path) -> Iterator[tuple[Path, str]]:
    folder = tmp_path_factory.mktemp("attack-aalborg") / "site"
    result = tryg("demo", "--from", shared_data, "--no-serve", "--data-dir", folder,
                  timeout=1200)
    assert result.returncode == 0, result.stdout + result.stderr
    yield from _serve(folder)


def _serve(folder: Path) -> Iterator[tuple[Path, str]]:
    port = free_port()
    process = start_serving([TRYG, "serve", "--data-dir", folder, "--port", str(port)],
                            env=env())
    try:
        yield folder, f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def _truth(folder: Path) -> dict[Key, tuple[float, float]]:
    with sqlite3.connect(folder / "tryg.sqlite3") as db:
        rows = db.execute("""
            SELECT r.area_code, r.wave, r.measure, r.estimate, r.n FROM runs_resultrow r
            JOIN runs_indexrun i ON i.id = r.run_id WHERE i.published_at IS NOT NULL""")
        return {(a, int(w), m): (math.nan if e is None else float(e),
                                 math.nan if n is None else float(n))
                for a, w, m, e, n in rows.fetchall()}


def _public(base: str) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    csv = pd.read_csv(io.BytesIO(_get(base, "/downloads/results.csv")),
                      dtype={"area_code": str, "n_display": str}, keep_default_na=True)
    areas = json.loads(_get(base, "/api/areas"))
    return csv, areas


def _attack(folder: Path, base: str) -> tuple[list[str], pd.DataFrame]:
    public, areas = _public(base)
    truth = _truth(folder)
    spec = load_spec("dk-tryghedsindeks")
    candidates = attack(public, areas, spec, {k: v[1] for k, v in truth.items()})
    return recovered(candidates, truth, public), public


def _hidden_cells(public: pd.DataFrame) -> set[Key]:
    est = pd.to_numeric(public["estimate"], errors="coerce")
    return {(str(r.area_code), int(r.wave), str(r.measure))
            for r, e in zip(tuples(public), est, strict=True) if not math.isfinite(e)}


def test_the_small_demo_gives_no_hidden_value_back(small_site: tuple[Path, str]) -> None:
    folder, base = small_site
    hits, public = _attack(folder, base)
    assert hits == [], "\n".join(hits)
    # there is something to protect: hidden estimates, small counts, withheld comparisons
    assert len(_hidden_cells(public)) >= 20
    assert public["flags"].fillna("").str.contains("secondary").any()
    assert public["flags"].fillna("").str.contains("prev_withheld").any()


def test_the_aalborg_demo_gives_no_hidden_value_back(aalborg_site: tuple[Path, str]) -> None:
    folder, base = aalborg_site
    hits, public = _attack(folder, base)
    assert hits == [], "\n".join(hits)
    assert len(_hidden_cells(public)) >= 10


def test_every_public_format_hides_the_same_cells(small_site: tuple[Path, str]) -> None:
    """The XLSX, the JSON, the GeoJSON and the API publish nothing the CSV hides."""
    _, base = small_site
    public, _ = _public(base)
    hidden = _hidden_cells(public)
    xlsx = pd.read_excel(io.BytesIO(_get(base, "/downloads/results.xlsx")),
                         dtype={"area_code": str})
    as_json = pd.DataFrame(json.loads(_get(base, "/downloads/results.json")))
    api: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = json.loads(_get(base, f"/api/results?limit=1000&offset={offset}"))
        api += page["results"]
        offset += 1000
        if offset >= page["count"]:
            break
    for name, frame in (("xlsx", xlsx), ("json", as_json), ("api", pd.DataFrame(api))):
        assert _hidden_cells(frame) == hidden, name
        assert len(frame) == len(public), name
    waves = sorted(public["wave"].astype(int).unique())
    for wave in waves:
        geo = json.loads(_get(base, f"/downloads/results.geojson?wave={wave}"))
        for feature in geo["features"]:
            props = feature["properties"]
            code = str(props.get("code") or props.get("area_code"))
            for (a, w, m) in hidden:
                if a == code and w == wave and m in props:
                    assert props[m] is None, (a, w, m)
