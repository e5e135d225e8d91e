"""The council's follow-up report, as HTML or as an accessible PDF, in one call.

:func:`build_report` is the one entry point (the command ``tryg report``, the analysts' page
and, later, a background task call it): it reads the figures, asks every registered section
(:mod:`tryg.reports.sections`) for its part, renders one HTML document from the templates and,
for a PDF, lays that same document out with WeasyPrint as PDF/UA-1 (tagged, with the document's
language, its title and a bookmark per section).

Which figures: a public report shows the latest publication through its public view, exactly
what the public pages show (:func:`tryg.public.data.published`); an internal report may
preview a chosen finished run through the same public view (what would be published). Nothing
else of a run is read, so a suppressed value or an unpublished run cannot reach a public
report.

The same data and the same ``created`` date give the same bytes: the HTML holds no clock
reading, and the PDF's creation date is that date (WeasyPrint's document identifier is a hash
of the content).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any, Literal

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tryg.public import data
from tryg.public.data import Published
from tryg.public.measures import catalogue
from tryg.reports.sections import ReportData, ReportOptions, registered
from tryg.runs.models import IndexRun
from tryg.runs.services import public_results, run_spec

Format = Literal["pdf", "html"]
FORMATS: tuple[Format, ...] = ("pdf", "html")
CONTENT_TYPES: dict[str, str] = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}


class ReportError(Exception):
    """The report cannot be made (nothing published, an unknown run or wave); the message
    says why, for the command line and the page. The message is translated when it is shown
    (``str``), so the page says it in the page's language, not the report's."""

    def __init__(self, message: Any, **params: Any) -> None:
        super().__init__(message)
        self.message, self.params = message, params

    def __str__(self) -> str:
        return str(self.message) % self.params if self.params else str(self.message)


@dataclass(frozen=True)
class RenderedSection:
    key: str
    title: str
    anchor: str
    html: str


def _figures(options: ReportOptions) -> Published:
    """The figures of the report: the latest publication's public view, or (internal
    reports) a chosen finished run's public view."""
    if options.run is None:
        run = data.latest_published_run()
        if run is None:
            raise ReportError(gettext_lazy("No index run has been published yet: there is "
                                           "nothing to report."))
        return data.published(run)
    found = IndexRun.objects.select_related("spec").filter(
        pk=options.run, status=IndexRun.Status.DONE).first()
    if found is None:
        raise ReportError(gettext_lazy("There is no finished index run #%(run)s."),
                          run=options.run)
    if found.is_published:
        return data.published(found)
    spec = run_spec(found)
    return Published(found, spec, public_results(found), catalogue(spec),
                     data.data_notice(found))


def source_text(published: Published) -> str:
    """Where every figure of the report comes from: the run, its specification and hash, the
    fingerprints of its inputs and the publication date (the appendix has them in full)."""
    run, spec = published.run, published.spec
    inputs = run.inputs if isinstance(run.inputs, dict) else {}
    prints = ", ".join(f"{name} {str(fp.get('sha256', ''))[:12]}"
                       for name, fp in sorted(inputs.items()) if isinstance(fp, dict))
    when = (run.published_at.date().isoformat() if run.published_at
            else str(_("not published")))
    return _("Source: index run #%(run)s, %(spec)s %(version)s (specification hash "
             "%(hash)s); inputs: %(inputs)s; published %(when)s.") % {
        "run": run.pk, "spec": spec.id, "version": spec.version, "hash": spec.hash[:12],
        "inputs": prints or "–", "when": when}


def _wave(published: Published, wave: int | None) -> int | None:
    if wave is None:
        return published.waves[-1] if published.waves else None
    if wave not in published.waves:
        raise ReportError(
            gettext_lazy("Wave %(wave)s has no published figures; waves: %(waves)s."),
            wave=wave, waves=", ".join(str(w) for w in published.waves) or "–")
    return wave


def report_data(options: ReportOptions, user: Any = None) -> ReportData:
    published = _figures(options)
    unknown = [c for c in options.areas if c not in published.areas]
    if unknown:
        raise ReportError(gettext_lazy("No published figures for the area(s) %(codes)s."),
                          codes=", ".join(unknown))
    return ReportData(options=options, published=published, place=data.home_area(published),
                      wave=_wave(published, options.wave), source=source_text(published),
                      user=user)


def check(options: ReportOptions, user: Any = None) -> None:
    """Raise :class:`ReportError` now if the report cannot be made (an unknown run, wave or
    area), before a background job is asked to make it."""
    with translation.override(options.language):
        report_data(options, user)


def render_sections(report: ReportData) -> list[RenderedSection]:
    """Every registered section that has something to say, rendered, in order."""
    out = []
    for section in registered():
        context = section.build(report)
        if context is None:
            continue
        html = render_to_string(section.template, {
            **context, "report": report, "section_anchor": section.anchor})
        out.append(RenderedSection(section.key, str(section.title), section.anchor, html))
    return out


def stylesheet() -> str:
    """The report's CSS (one file for HTML and PDF; print rules in ``@media print``)."""
    return (resources.files("tryg.reports") / "static" / "reports" / "report.css").read_text(
        encoding="utf-8")


def title_of(report: ReportData) -> str:
    if report.place is None:
        return str(_("Safety: the council's follow-up report"))
    return _("Safety in %(area)s: the council's follow-up report") % {"area": report.place[1]}


def render_html(options: ReportOptions, user: Any = None) -> str:
    """The report as one self-contained HTML document (styles inside, charts inline SVG)."""
    if options.created is None:
        options = replace(options, created=datetime.date.today())
    assert options.created is not None
    with translation.override(options.language):
        report = report_data(options, user)
        sections = render_sections(report)
        return render_to_string("reports/report.html", {
            "title": title_of(report), "language": options.language, "sections": sections,
            "created": options.created.isoformat(), "css": stylesheet(), "report": report,
            "internal": options.audience == "internal"})


def html_to_pdf(html: str) -> bytes:
    """Lay ``html`` out as PDF/UA-1 (tagged; bookmarks from the section headings)."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=html, base_url=None).write_pdf(
        pdf_variant="pdf/ua-1", pdf_tags=True, pdf_identifier=False, uncompressed_pdf=False)
    return pdf


def build_report(options: ReportOptions, fmt: Format = "pdf", user: Any = None) -> bytes:
    """The report's file: PDF or HTML bytes (see the module's docstring). One call, so that
    it can run as a background task."""
    if fmt not in FORMATS:
        raise ReportError(gettext_lazy("Unknown report format %(fmt)s."), fmt=fmt)
    html = render_html(options, user)
    if fmt == "html":
        return html.encode("utf-8")
    return html_to_pdf(html)


def file_name(options: ReportOptions, fmt: Format) -> str:
    created = (options.created or datetime.date.today()).isoformat()
    kind = "intern" if options.audience == "internal" else "offentlig"
    return f"tryg-rapport-{kind}-{options.language}-{created}.{fmt}"
