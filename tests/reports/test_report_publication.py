"""A public report holds only what the public pages show: no suppressed value, no unpublished
run, no record-level data (planted markers, as in the permission tests); an internal report
may preview an unpublished run, as it would be published."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.utils import translation

from reports.pdf import pdf_text
from support.planted import (
    ALL_MARKERS,
    PUBLIC_ESTIMATE,
    SUPPRESSED_CI_HIGH,
    SUPPRESSED_CI_LOW,
    SUPPRESSED_ESTIMATE,
    UNPUBLISHED_ESTIMATE,
    Site,
    leaks,
    plant,
)
from tryg.reports.sections import ReportOptions
from tryg.reports.services import ReportError, build_report, render_html

pytestmark = pytest.mark.django_db

CREATED = datetime.date(2031, 12, 1)


def shown_forms(value: float) -> set[str]:
    """How a report could write ``value``: as a share in percent or as a score, with one or
    two decimals, with and without thousands separators, Danish or English."""
    forms: set[str] = set()
    for scaled in (value, 100 * value):
        for decimals in (1, 2):
            plain = f"{scaled:.{decimals}f}"
            grouped = f"{scaled:,.{decimals}f}"
            forms |= {plain, plain.replace(".", ","), grouped,
                      grouped.translate(str.maketrans(",.", ".,"))}
    return forms


HIDDEN = {
    **ALL_MARKERS,
    "suppressed value, as a report writes it": (
        shown_forms(SUPPRESSED_ESTIMATE) | shown_forms(SUPPRESSED_CI_LOW)
        | shown_forms(SUPPRESSED_CI_HIGH)),
    "unpublished run result, as a report writes it": shown_forms(UNPUBLISHED_ESTIMATE),
}


@pytest.fixture
def site() -> Site:
    return plant()


def _public(language: str = "da") -> ReportOptions:
    district = "D999-1"  # its headline figure is suppressed in the published run
    return ReportOptions(language=language, areas=(district,), created=CREATED)


@pytest.mark.parametrize("language", ["da", "en"])
def test_public_html_report_holds_no_hidden_value(site: Site, language: str) -> None:
    html = render_html(_public(language))
    assert leaks(html, HIDDEN) == []
    # it does show the published figures (else the test would prove nothing) and says why
    # the district's figure is not shown
    shown = f"{100 * PUBLIC_ESTIMATE:,.1f}"
    assert (shown.translate(str.maketrans(",.", ".,")) if language == "da" else shown) in html
    assert ("Ikke vist: for få svar" if language == "da" else "Not shown: too few answers") \
        in html


@pytest.mark.slow
def test_public_pdf_report_holds_no_hidden_value(site: Site, tmp_path: Path) -> None:
    path = tmp_path / "public.pdf"
    path.write_bytes(build_report(_public(), "pdf"))
    text = pdf_text(path)
    assert leaks(text, HIDDEN) == []
    assert leaks(path.read_bytes(), HIDDEN) == []
    assert "551.281,2 %" in text


def test_internal_report_previews_an_unpublished_run(site: Site) -> None:
    options = ReportOptions(audience="internal", run=site.unpublished.pk, areas=("D999-1",),
                            created=CREATED)
    html = render_html(options)
    assert leaks(html, {"unpublished": shown_forms(UNPUBLISHED_ESTIMATE)}) == ["unpublished"]
    assert "ikke offentliggjort" in html


def test_a_public_report_cannot_name_a_run(site: Site) -> None:
    with pytest.raises(ValueError, match="internal"):
        ReportOptions(run=site.unpublished.pk)


def test_problems_are_said_plainly(site: Site) -> None:
    with pytest.raises(ReportError, match="9999"):
        render_html(ReportOptions(wave=9999, created=CREATED))
    with pytest.raises(ReportError, match="NOWHERE"):
        render_html(ReportOptions(areas=("NOWHERE",), created=CREATED))
    with pytest.raises(ReportError, match="999999"):
        render_html(ReportOptions(audience="internal", run=999999, created=CREATED))


@pytest.mark.django_db
def test_nothing_published_nothing_to_report() -> None:
    with pytest.raises(ReportError) as caught:
        render_html(ReportOptions(created=CREATED))
    # the reason is put in words where it is shown: the page's (or command's) language
    with translation.override("da"):
        assert "offentliggjort" in str(caught.value)
    with translation.override("en"):
        assert "No index run has been published yet" in str(caught.value)
