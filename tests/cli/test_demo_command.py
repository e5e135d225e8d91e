"""`tryg demo`, `tryg index run` on stored data, and `tryg serve`, as a user runs them.

Each command runs as a subprocess on its own file SQLite database in a temporary folder (the
environment of the test run is cleaned, so no test settings or PostgreSQL URL leak in); the
database is then read with plain SQL.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password

from support.commands import TRYG, env, free_port, start_serving, stop, tryg

USER_LINE = re.compile(r"^\s+(administrator|analyst|coordinator|partner|walker)\s+(\S+)\s+(\S+)")


def query(folder: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(folder / "tryg.sqlite3") as db:
        return db.execute(sql, params).fetchall()


def users_printed(output: str) -> dict[str, tuple[str, str]]:
    found = {}
    for line in output.splitlines():
        m = USER_LINE.match(line)
        if m:
            found[m.group(1)] = (m.group(2), m.group(3))
    return found


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("demo") / "site"
    result = tryg("demo", "--no-serve", "--data-dir", folder)
    assert result.returncode == 0, result.stdout + result.stderr
    return folder, result.stdout


def test_demo_builds_a_published_site_with_users(demo_site: tuple[Path, str]) -> None:
    folder, output = demo_site
    ((status, published),) = query(folder, "SELECT status, published_at FROM runs_indexrun")
    assert status == "done" and published is not None
    (rows,) = query(folder, "SELECT count(*) FROM runs_resultrow")[0]
    assert rows > 1000
    printed = users_printed(output)
    assert set(printed) == {"administrator", "analyst", "coordinator", "partner", "walker"}
    stored = dict(query(folder, "SELECT username, password FROM accounts_user"))
    for role, (username, password) in printed.items():
        assert check_password(password, str(stored[username])), role
    roles = dict(query(folder, "SELECT username, role FROM accounts_user"))
    assert roles[printed["analyst"][0]] == "analyst"
    (superusers,) = query(folder, "SELECT count(*) FROM accounts_user WHERE is_superuser")[0]
    assert superusers == 1
    waves = query(folder, "SELECT year, synthetic FROM surveys_wave ORDER BY year")
    assert [w for w, _ in waves] == [2019, 2020, 2021, 2022, 2023]
    assert all(s for _, s in waves)
    kinds = {k for (k,) in query(folder, "SELECT kind FROM imports_importbatch")}
    assert kinds == {"areas", "population", "register", "survey"}
    (published_events,) = query(
        folder, "SELECT count(*) FROM accounts_auditevent WHERE action = 'publish'")[0]
    assert published_events == 1


def test_demo_again_keeps_the_site_and_refuses_other_folders(demo_site: tuple[Path, str],
                                                             tmp_path: Path) -> None:
    folder, _ = demo_site
    again = tryg("demo", "--no-serve", "--data-dir", folder)
    assert again.returncode == 0, again.stderr
    assert "holds a complete fictional demo" in again.stdout
    assert not users_printed(again.stdout)
    assert query(folder, "SELECT count(*) FROM runs_indexrun")[0][0] == 1
    other_kind = tryg("demo", "--no-serve", "--data-dir", folder, "--from", tmp_path)
    assert other_kind.returncode != 0 and "use --fresh" in other_kind.stderr
    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep me", encoding="utf-8")
    refused = tryg("demo", "--no-serve", "--data-dir", other)
    assert refused.returncode != 0 and "not a tryg demo" in refused.stderr
    assert (other / "mine.txt").read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in other.iterdir()) == ["mine.txt"]


def test_fresh_rebuilds_with_new_passwords(tmp_path: Path) -> None:
    folder = tmp_path / "site"
    first = tryg("demo", "--no-serve", "--data-dir", folder, "--seed", "2")
    assert first.returncode == 0, first.stderr
    (folder / "files" / "survey.csv").write_text("damaged", encoding="utf-8")
    again = tryg("demo", "--no-serve", "--data-dir", folder, "--seed", "2", "--fresh")
    assert again.returncode == 0, again.stderr
    assert "removing the earlier demo" in again.stdout
    old, new = users_printed(first.stdout), users_printed(again.stdout)
    assert set(old) == set(new) and all(old[r][1] != new[r][1] for r in old)
    assert query(folder, "SELECT count(*) FROM runs_indexrun") == [(1,)]
    assert (folder / "files" / "survey.csv").read_text(encoding="utf-8") != "damaged"


def test_stored_runs_are_reproducible_and_equal_the_file_run(demo_site: tuple[Path, str],
                                                             tmp_path: Path) -> None:
    folder, _ = demo_site
    files = folder / "files"
    first = tryg("index", "run", "--spec", "dk-tryghedsindeks", "--data-dir", folder,
                 "--out", tmp_path / "db.csv")
    second = tryg("index", "run", "--spec", "dk-tryghedsindeks", "--data-dir", folder, "-q")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "reading the stored inputs" in first.stderr  # progress
    fingerprints = [re.search(r"results fingerprint: ([0-9a-f]{64})", r.stdout)
                    for r in (first, second)]
    assert fingerprints[0] and fingerprints[1]
    assert fingerprints[0].group(1) == fingerprints[1].group(1)
    assert re.search(r"index run #2 .*: done", first.stdout)
    stored = dict(query(folder, "SELECT id, fingerprint FROM runs_indexrun"))
    assert stored[2] == stored[3] == stored[1] == fingerprints[0].group(1)
    from_files = tryg("index", "run", "--spec", "dk-tryghedsindeks", "-q",
                      "--survey", files / "survey.csv",
                      "--register", files / "register_counts.csv",
                      "--population", files / "population.csv", "--areas", files / "areas.csv",
                      "--out", tmp_path / "files.csv")
    assert from_files.returncode == 0, from_files.stderr
    assert (tmp_path / "db.csv").read_bytes() == (tmp_path / "files.csv").read_bytes()
    public = tryg("index", "run", "--spec", "dk-tryghedsindeks", "--data-dir", folder, "-q",
                  "--out", tmp_path / "public.csv", "--public")
    assert public.returncode == 0, public.stderr
    assert "n_display" in (tmp_path / "public.csv").read_text(encoding="utf-8").splitlines()[0]


def test_a_stored_run_on_an_empty_site_fails_with_exit_2(tmp_path: Path) -> None:
    result = tryg("index", "run", "--spec", "dk-tryghedsindeks", "--data-dir", tmp_path)
    assert result.returncode == 2
    assert "failed" in result.stderr and "no areas are stored" in result.stderr
    assert query(tmp_path, "SELECT status FROM runs_indexrun") == [("failed",)]
    assert query(tmp_path, "SELECT count(*) FROM runs_resultrow") == [(0,)]


#: Fetches pages of a data folder's site with Django's test client, in its own process (the
#: site's settings, not the test run's): prints {url: [status, html]} as JSON.
_PAGES_SCRIPT = """
import json, sys
from tryg.cli.site import setup_site
setup_site(sys.argv[1], migrate=False)
from django.test import Client
client = Client(HTTP_HOST="127.0.0.1")
out = {}
for url in sys.argv[3:]:
    answer = client.get(url, HTTP_ACCEPT_LANGUAGE=sys.argv[2])
    out[url] = [answer.status_code, answer.content.decode()]
print(json.dumps(out))
"""


def pages(folder: Path, language: str, *urls: str) -> dict[str, str]:
    """The HTML of ``urls`` on the site in ``folder`` (each must answer 200)."""
    result = subprocess.run([sys.executable, "-c", _PAGES_SCRIPT, str(folder), language, *urls],
                            capture_output=True, text=True, timeout=600, check=False, env=env())
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)
    for url, (status, _html) in answers.items():
        assert status == 200, url
    return {url: html for url, (_status, html) in answers.items()}


def test_the_fictional_demo_says_so_on_its_pages(demo_site: tuple[Path, str]) -> None:
    folder, _ = demo_site
    fictional = [f for (f,) in query(folder, "SELECT options FROM imports_importbatch")
                 if "fictional" in json.loads(str(f))]
    assert len(fictional) == 5  # every file of tryg demo-data, marked at import
    for url, html in pages(folder, "da", "/", "/map/", "/methods/").items():
        notice = html[html.index('class="data-notice"'):html.index("<h1")]
        assert "Fiktive data: områderne, befolkningstallene" in notice, url
        assert "Spørgeskemasvarene på dette websted er syntetiske" in notice, url
        # the wave's producer, shown on the Danish page, is Danish too
        assert "lavet af: tryg demo-data (FIKTIVE svar))" in " ".join(notice.split()), url
        assert "FICTIONAL" not in notice, url


@pytest.fixture
def served(demo_site: tuple[Path, str]) -> Iterator[str]:
    folder, _ = demo_site
    port = free_port()
    process = start_serving([TRYG, "serve", "--data-dir", folder, "--port", str(port)],
                            env=env())
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop(process)


def test_serve_answers_on_the_demo_site(served: str) -> None:
    with urllib.request.urlopen(served, timeout=60) as response:
        status, body = response.status, response.read().decode("utf-8")
    assert status == 200
    assert "<html" in body.lower()


# -- Aalborg from the real files ---------------------------------------------------------------


def test_demo_from_the_real_danish_files(shared_data: Path, tmp_path: Path) -> None:
    folder = tmp_path / "aalborg"
    result = tryg("demo", "--from", shared_data, "--no-serve", "--data-dir", folder)
    assert result.returncode == 0, result.stdout + result.stderr
    levels = dict(query(folder, "SELECT level, count(*) FROM areas_area GROUP BY level"))
    assert levels["kommune"] == 99  # 98 kommuner and Christiansø (0411)
    assert levels["sogn"] == 2148
    postal = json.loads((shared_data / "dk_postnumre_dagi2014.geojson").read_text("utf-8"))
    assert levels["postnummer"] == len({f["properties"]["POSTNR_TXT"] for f in
                                        postal["features"]})
    children = dict(query(folder, """
        SELECT c.level, count(*) FROM areas_arealink l
        JOIN areas_area c ON c.id = l.area_id JOIN areas_area p ON p.id = l.parent_id
        WHERE p.code = '0851' GROUP BY c.level"""))
    assert children == {"sogn": 57, "postnummer": 18}
    quarters = [q for (q,) in query(folder, """
        SELECT DISTINCT quarter FROM crime_registercount r JOIN areas_area a ON a.id = r.area_id
        WHERE a.code = '0851' ORDER BY quarter""")]
    assert quarters[0] == "2007Q1" and quarters[-1] == "2019Q3" and len(quarters) == 51
    (kommuner_with_counts,) = query(folder, """
        SELECT count(DISTINCT area_id) FROM crime_registercount""")[0]
    assert kommuner_with_counts >= 98
    years = {y for (y,) in query(folder, """
        SELECT DISTINCT year FROM areas_population p JOIN areas_area a ON a.id = p.area_id
        WHERE a.code = '0851' AND p.sex = ''""")}
    assert years == set(range(2008, 2024))
    waves = query(folder, "SELECT year, synthetic, producer FROM surveys_wave ORDER BY year")
    assert [w[0] for w in waves] == [2014, 2015, 2016, 2017, 2018, 2019]
    assert all(w[1] and w[2].startswith("tryg demo --from (SYNTETISKE svar") for w in waves)
    ((status, published),) = query(folder, "SELECT status, published_at FROM runs_indexrun")
    assert status == "done" and published is not None
    headline = dict(query(folder, """
        SELECT wave, estimate FROM runs_resultrow
        WHERE area_code = '0851' AND measure = 'tryghed_trygge'"""))
    assert sorted(headline) == [2014, 2015, 2016, 2017, 2018, 2019]
    for wave, estimate in headline.items():  # calibrated to 87 % (2014) and 89 % (2015-)
        assert abs(float(estimate) - (0.87 if wave == 2014 else 0.89)) < 0.035, (wave, estimate)
    rates = query(folder, """
        SELECT count(*) FROM runs_resultrow WHERE measure = 'anmeldelser_straffelov'
        AND level = 'kommune' AND wave = 2015""")
    assert rates[0][0] >= 98
    assert "aalborg" in (folder / "tryg-demo.json").read_text(encoding="utf-8")
    assert (folder / "files" / "aalborg_survey_SYNTHETIC.csv").exists()
    _aalborg_pages(folder)


def _aalborg_pages(folder: Path) -> None:
    """The public pages of the Aalborg demo: synthetic answers said so, every level on the
    map, parishes by default, postal districts chosen and explained, found and listed."""
    shown = pages(folder, "da", "/", "/map/", "/map/?level=postnummer", "/areas/0851/",
                  "/search/?q=9400", "/areas/post-9400/")
    for url, html in shown.items():
        notice = html[html.index('class="data-notice"'):html.index("<h1")]
        assert "Spørgeskemasvarene på dette websted er syntetiske" in notice, url
        # the wave's producer, shown on the Danish page, is Danish too
        assert ("lavet af: tryg demo --from (SYNTETISKE svar, kalibreret til Aalborgs "
                "offentliggjorte tal))") in " ".join(notice.split()), url
        assert "SYNTHETIC" not in notice, url
        assert "målinger 2014–2019" in notice and "Fiktive" not in notice, url
    levels = shown["/map/"][shown["/map/"].index('name="level"'):]
    levels = levels[:levels.index("</select>")]
    assert '<option value="sogn" selected>' in levels
    assert '<option value="postnummer">postnummer – ingen tal</option>' in levels
    assert '<option value="kommune">' in levels
    svg = shown["/map/"][shown["/map/"].index("<svg"):shown["/map/"].index("</svg>")]
    assert len(re.findall(r'<a xlink:href="/areas/\d+/"><title>', svg)) == 57  # parishes
    postal = shown["/map/?level=postnummer"]
    assert '<option value="postnummer" selected>' in postal and "<svg" not in postal
    assert "Der offentliggøres ingen tal for områderne på niveauet „postnummer“" in postal
    aalborg = shown["/areas/0851/"]
    children = aalborg[aalborg.index('id="children"'):]
    children = children[:children.index("</section>")]
    assert len(re.findall(r'href="/areas/post-\d{4}/"', children)) == 18
    assert len(re.findall(r'href="/areas/\d{4}/"', children)) == 57
    assert '<a href="/areas/post-9400/">Nørresundby</a>' in shown["/search/?q=9400"]
    assert 'Del af <a href="/areas/0851/">Aalborg</a>' in shown["/areas/post-9400/"]
