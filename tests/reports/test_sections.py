"""The section registry: a section appears when its provider has something to say, with its
bookmark anchor (the strategy and walks providers: tests/reports/test_strategy_and_walks.py)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from typing import Any

import pytest

from support.planted import Site, plant
from tryg.reports import sections
from tryg.reports.sections import (
    Appendix,
    ReportData,
    ReportOptions,
    Section,
    SummaryLine,
    register,
    registered,
    unregister,
)
from tryg.reports.services import render_html

pytestmark = pytest.mark.django_db

OPTIONS = ReportOptions(created=datetime.date(2031, 12, 1))


@pytest.fixture
def site() -> Site:
    return plant()


@pytest.fixture
def extra() -> Iterator[None]:
    yield
    for key in ("test-extra", "test-empty"):
        unregister(key)


def _extra(report: ReportData) -> dict[str, Any] | None:
    table = report.appendix.add("Extra table", ("Area", "Value"), [("Testkommune", "42")])
    return {"html_note": f"extra for {report.audience}", "table": table.number}


def test_a_registered_section_appears_in_order_and_one_without_data_does_not(
        site: Site, extra: None, settings: Any) -> None:
    register(Section("test-extra", "Extra section", "reports/test_extra.html", _extra,
                     order=450, summary=lambda r: [SummaryLine("A line from the extra one")]))
    register(Section("test-empty", "Empty section", "reports/test_extra.html",
                     lambda r: None, order=460))
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "OPTIONS": {
        **settings.TEMPLATES[0]["OPTIONS"], "loaders": [
            ("django.template.loaders.locmem.Loader", {
                "reports/test_extra.html": "<p>{{ html_note }} ({{ table }})</p>"}),
            "django.template.loaders.app_directories.Loader"]}}]
    settings.TEMPLATES[0]["APP_DIRS"] = False
    html = render_html(OPTIONS)
    assert '<section id="section-test-extra"' in html
    assert re.search(r"extra for public \(A\.\d+\)", html)
    assert "Extra table" in html  # in the appendix
    assert "A line from the extra one" in html  # on the summary page
    assert "section-test-empty" not in html and "Empty section" not in html
    keys = [s.key for s in registered()]
    assert keys.index("test-extra") > keys.index("index")
    assert keys.index("test-extra") < keys.index("appendix")


def test_sections_from_settings(settings: Any, extra: None) -> None:
    settings.TRYG_REPORT_SECTIONS = ["tests_reports_extra.SECTION"]
    import sys
    import types

    module = types.ModuleType("tests_reports_extra")
    module.SECTION = Section(  # type: ignore[attr-defined]
        "test-extra", "From settings", "reports/methods.html", lambda r: None)
    sys.modules["tests_reports_extra"] = module
    try:
        sections.register_from_settings()
    finally:
        del sys.modules["tests_reports_extra"]
    assert any(s.key == "test-extra" and s.title == "From settings" for s in registered())


def test_appendix_numbers_tables_in_order() -> None:
    appendix = Appendix()
    first = appendix.add("One", ("Area", "Value"), [("A", 1.5), ("B", None)],
                         numeric=(False, True))
    second = appendix.add("Two", ("Area",), [])
    assert (first.number, second.number) == ("A.1", "A.2")
    assert first.rows == (("A", "1.5"), ("B", ""))
    assert first.header == [("Area", False), ("Value", True)]
    assert first.body[0] == [("A", True, False), ("1.5", False, True)]
