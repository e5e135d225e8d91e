"""`tryg report` as a user runs it, on the site `tryg demo` builds (a subprocess each, on its
own SQLite database in a temporary folder): the PDF's pages all render, its text holds the
front page's headline figure and the map; the same for HTML; the same date gives the same
file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.utils.html import escape

from reports.pdf import page_count, pdf_text, rendered_pages

TRYG = Path(sys.executable).parent / "tryg"

pytestmark = pytest.mark.slow


def env(data_dir: Path | None = None) -> dict[str, str]:
    """The environment without the test suite's Django and tryg settings."""
    found = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "TRYG_")) and k != "DATABASE_URL"}
    if data_dir is not None:
        found["TRYG_DATA_DIR"] = str(data_dir)
    return found


def tryg(*args: str | Path, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(TRYG), *map(str, args)], capture_output=True, text=True,
                          timeout=600, check=False, env=env(data_dir))


FRONT_PAGE = """
import os, re
os.environ["DJANGO_SETTINGS_MODULE"] = "tryg.site.settings"
import django
django.setup()
from django.test import Client
import json
from tryg.strategy.models import Initiative
body = Client(HTTP_HOST="127.0.0.1").get("/", HTTP_ACCEPT_LANGUAGE="da").content.decode()
print(json.dumps({
    "headline": re.search(r'<p class="big"><data value="[^"]*">([^<]+)</data>', body).group(1),
    "initiatives": list(Initiative.objects.filter(published=True).order_by("id")
                        .values_list("name", flat=True))}))
"""


KEPT_EVALUATIONS = """
import os, json
os.environ["DJANGO_SETTINGS_MODULE"] = "tryg.site.settings"
import django
django.setup()
from tryg.public.data import latest_published_run, published
from tryg.strategy import evaluation_cache
from tryg.strategy.models import Indicator
run = latest_published_run()
data = published(run)
kept = []
for indicator in Indicator.objects.exclude(measure_id="").select_related("initiative"):
    request = evaluation_cache.request_for(indicator.initiative, indicator, data)
    if request is not None:
        found = evaluation_cache.store().get(request.key(run))
        kept.append(None if found is None else found.result is not None)
print(json.dumps(kept))
"""


def kept_evaluations(folder: Path) -> list[bool | None]:
    """For each evaluation the demo's initiatives have, whether the data folder's store holds
    it (True: a result, False: why it cannot be made, None: not kept), read by a new
    process."""
    done = subprocess.run([sys.executable, "-c", KEPT_EVALUATIONS], capture_output=True,
                          text=True, timeout=300, check=True, env=env(folder))
    found: list[bool | None] = json.loads(done.stdout)
    return found


@dataclass(frozen=True)
class Demo:
    folder: Path
    headline: str  # as the front page shows it
    initiatives: list[str]  # of the demo strategy


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The demo site's folder, the headline figure its front page shows and the names of
    its strategy's initiatives."""
    folder = tmp_path_factory.mktemp("report-cli") / "site"
    made = tryg("demo", "--no-serve", "--data-dir", folder)
    assert made.returncode == 0, made.stdout + made.stderr
    front = subprocess.run([sys.executable, "-c", FRONT_PAGE], capture_output=True, text=True,
                           timeout=300, check=True, env=env(folder))
    found = json.loads(front.stdout)
    return Demo(folder, found["headline"], found["initiatives"])


def test_pdf_report_of_the_demo(demo: Demo, tmp_path: Path) -> None:
    folder, headline = demo.folder, demo.headline
    out = tmp_path / "rapport.pdf"
    done = tryg("report", "--data-dir", folder, "--format", "pdf", "--out", out,
                "--created", "2026-12-06")
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(rendered_pages(out, tmp_path)) == page_count(out)
    text = pdf_text(out)
    assert re.fullmatch(r"\d+,\d %", headline)
    assert headline in text
    assert "Kort: Tryghedsindeks" in text
    words = " ".join(text.split())
    assert len(demo.initiatives) >= 5
    for name in demo.initiatives:  # every initiative of the demo strategy
        assert " ".join(name.split()) in words, name
    assert "Tryghedsvandringer" in words and "tryghedsvandring holdt." in words
    # the initiatives' evaluations are kept in the data folder for the next process
    kept = kept_evaluations(folder)
    assert kept and None not in kept and any(kept)
    again = tmp_path / "igen.pdf"
    assert tryg("report", "--data-dir", folder, "--format", "pdf", "--out", again,
                "--created", "2026-12-06").returncode == 0
    assert again.read_bytes() == out.read_bytes()


def test_html_report_of_the_demo(demo: Demo, tmp_path: Path) -> None:
    folder, headline = demo.folder, demo.headline
    out = tmp_path / "rapport.html"
    done = tryg("report", "--data-dir", folder, "--format", "html", "--out", out,
                "--created", "2026-12-06", "--language", "da")
    assert done.returncode == 0, done.stdout + done.stderr
    html = out.read_text(encoding="utf-8")
    assert headline in html
    assert "<title>Kort: Tryghedsindeks" in html
    for name in demo.initiatives:
        assert escape(name) in html, name
    assert 'id="section-walks"' in html and "tryghedsvandring holdt." in html


def test_bad_options_are_refused_plainly(demo: Demo, tmp_path: Path) -> None:
    folder = demo.folder
    out = tmp_path / "x.pdf"
    no_wave = tryg("report", "--data-dir", folder, "--format", "pdf", "--out", out,
                   "--wave", "1999")
    assert no_wave.returncode != 0 and "1999" in no_wave.stderr
    assert "Traceback" not in no_wave.stderr
    run_public = tryg("report", "--data-dir", folder, "--format", "pdf", "--out", out,
                      "--run", "1")
    assert run_public.returncode != 0 and "--internal" in run_public.stderr
    no_strategy = tryg("report", "--data-dir", folder, "--format", "pdf", "--out", out,
                       "--strategy", "Ingen strategi")
    assert no_strategy.returncode != 0
    assert "no strategy has the number or name 'Ingen strategi'" in no_strategy.stderr
    assert "Traceback" not in no_strategy.stderr
    assert not out.exists()


def test_nothing_published(tmp_path: Path) -> None:
    done = tryg("report", "--data-dir", tmp_path / "empty", "--format", "html", "--out",
                tmp_path / "x.html")
    assert done.returncode != 0
    assert "offentliggjort" in done.stderr or "published" in done.stderr
    assert "Traceback" not in done.stderr
