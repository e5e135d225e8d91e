"""The council's report of the demo municipality: content, PDF structure, determinism.

The demo is imported through the real import services, run and published once for the module
(rolled back at the end); the report is built from it once as HTML and once as PDF.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from django.utils import translation
from django.utils.html import escape

from reports.pdf import page_count, pdf_text, rendered_pages
from support.demo_import import published_demo_run
from tryg.accounts.models import Organisation, Role, User
from tryg.public import pages
from tryg.public.data import published
from tryg.reports.sections import ReportOptions
from tryg.reports.services import build_report, render_html, render_sections, report_data
from tryg.runs.models import IndexRun
from tryg.strategy.demo import demo_strategy
from tryg.strategy.models import Initiative
from tryg.walks.demo import make_demo_walks

pytestmark = pytest.mark.django_db

CREATED = datetime.date(2026, 12, 6)
OPTIONS = ReportOptions(created=CREATED)


@dataclass(frozen=True)
class Built:
    html: str
    pdf: Path
    pdf_bytes: bytes
    front_headline: str
    map_title: str
    sections: list[tuple[str, str]]  # (key, title)
    initiatives: list[str]  # the demo strategy's


@pytest.fixture(scope="module")
def demo_run(django_db_setup: Any, django_db_blocker: Any,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexRun]:
    yield from published_demo_run(django_db_blocker, tmp_path_factory, "report")


def demo_strategy_and_walks() -> list[str]:
    """The demo's strategy (with fictional measurements) and walks, as `tryg demo` makes
    them, dated by the report; the names of the strategy's initiatives."""
    municipality = Organisation.objects.create(name="Demo Kommune (fiktiv)",
                                               kind="municipality", area_code="9999")
    police = Organisation.objects.create(name="Demo Politi (fiktiv)", kind="police")
    User.objects.create_user("report-coordinator", role=Role.COORDINATOR,
                             organisation=municipality)
    assert police.pk and make_demo_walks(today=CREATED) > 0
    demo_strategy(today=CREATED)
    return list(Initiative.objects.order_by("id").values_list("name", flat=True))


@pytest.fixture(scope="module")
def built(demo_run: IndexRun, django_db_blocker: Any,
          tmp_path_factory: pytest.TempPathFactory) -> Built:
    with django_db_blocker.unblock():
        initiatives = demo_strategy_and_walks()
        html = render_html(OPTIONS)
        pdf_bytes = build_report(OPTIONS, "pdf")
        with translation.override("da"):
            front = pages.home(published(demo_run), "da").body
            report = report_data(OPTIONS)
            sections = [(s.key, s.title) for s in render_sections(report)]
    found = re.search(r'<p class="big"><data value="[^"]*">([^<]+)</data>', front)
    assert found, "the front page shows no headline figure"
    title = re.search(r"<title>(Kort: [^<]+)</title>", html)
    assert title, "the report has no map"
    path = tmp_path_factory.mktemp("report") / "report.pdf"
    path.write_bytes(pdf_bytes)
    return Built(html, path, pdf_bytes, found.group(1), title.group(1), sections, initiatives)


def test_html_holds_the_front_pages_headline_and_the_map(built: Built) -> None:
    assert built.front_headline in built.html
    assert built.map_title in built.html
    assert '<html lang="da">' in built.html
    for key, _title in built.sections:
        assert f'id="section-{key}"' in built.html
    keys = [k for k, _t in built.sections]
    assert keys[:3] == ["cover", "summary", "index"] and keys[-2:] == ["methods", "appendix"]
    assert "trends" in keys and "gap" in keys  # the demo has housing areas and the gap
    # the demo's strategy and walks: every initiative, and the walks held
    assert keys.index("index") < keys.index("strategy") < keys.index("walks") < keys.index(
        "methods")
    assert len(built.initiatives) >= 5
    for name in built.initiatives:
        assert escape(name) in built.html, name
    assert "1 tryghedsvandring holdt." in built.html
    assert "FIKTIVE demotal" in built.html
    # Danish typography: decimal comma, percentage points in Danish
    assert re.search(r"\d,\d %", built.html)
    assert "procentpoint" in built.html


@pytest.mark.slow
def test_pdf_pages_all_render_and_hold_the_headline_and_the_map(built: Built,
                                                                 tmp_path: Path) -> None:
    pages_drawn = rendered_pages(built.pdf, tmp_path)
    assert len(pages_drawn) == page_count(built.pdf) > 5
    text = pdf_text(built.pdf)
    assert built.front_headline in text
    assert built.map_title in " ".join(text.split())
    assert "æ" in text and "ø" in text and "å" in text
    words = " ".join(text.split())
    for name in built.initiatives:
        assert " ".join(name.split()) in words, name
    assert "Tryghedsvandringer" in words and "1 tryghedsvandring holdt." in words


def _struct_elements(root: Any) -> Iterator[Any]:
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, pikepdf.Array):
            stack.extend(node)
            continue
        if not isinstance(node, pikepdf.Dictionary):
            continue
        if "/S" in node:
            yield node
        kids = node.get("/K")
        if kids is not None:
            stack.append(kids)


def _outline_titles(pdf: pikepdf.Pdf) -> list[str]:
    with pdf.open_outline() as outline:
        return [str(item.title) for item in outline.root]


@pytest.mark.slow
def test_pdf_is_tagged_with_language_title_bookmarks_and_alt_texts(built: Built) -> None:
    with pikepdf.open(built.pdf) as pdf:
        root = pdf.Root
        assert bool(root.MarkInfo.Marked)
        assert "/StructTreeRoot" in root
        assert str(root.Lang) == "da"
        title = str(pdf.docinfo["/Title"])
        assert title.startswith("Tryghed i Demo Kommune")
        assert bool(root.ViewerPreferences.DisplayDocTitle)
        # one bookmark per section, in order (the cover's is the report's title)
        expected = [title if key == "cover" else str(t) for key, t in built.sections]
        assert _outline_titles(pdf) == expected
        elements = list(_struct_elements(root.StructTreeRoot))
        kinds = {str(e.S) for e in elements}
        assert {"/Figure", "/Table", "/TH", "/TD", "/H1", "/H2"} <= kinds
        figures = [e for e in elements if str(e.S) == "/Figure"]
        assert len(figures) >= 4  # map, components, trends, gap
        for figure in figures:
            assert "/Alt" in figure and str(figure.Alt).strip(), "a figure without alt text"
        alts = {str(f.Alt) for f in figures}
        assert built.map_title in alts


@pytest.mark.slow
def test_the_same_data_and_date_give_the_same_files(built: Built,
                                                    django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        again_pdf = build_report(OPTIONS, "pdf")
        again_html = render_html(OPTIONS)
        later = render_html(ReportOptions(created=datetime.date(2027, 1, 2)))
    assert again_html == built.html
    assert again_pdf == built.pdf_bytes
    # another date changes the date and nothing else of the index's sections (the strategy's
    # statuses and the walks' passed deadlines are those of the report's date)
    assert later != built.html
    assert (_undated(later).replace("2027-01-02", "2026-12-06") == _undated(built.html))


def _undated(html: str) -> str:
    """The report without what its date decides: the strategy and walk sections and the
    strategy's line on the summary page."""
    html = re.sub(r'<section id="section-(strategy|walks)".*?</section>', "", html,
                  flags=re.DOTALL)
    return re.sub(r"<li>Strategien .*?</li>", "", html, flags=re.DOTALL)


def test_english_report(built: Built, django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        html = render_html(ReportOptions(language="en", created=CREATED))
    assert '<html lang="en">' in html
    assert "percentage points" in html
    assert re.search(r"\d\.\d%", html)
