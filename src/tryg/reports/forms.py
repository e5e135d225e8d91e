"""The analysts' form for a report: the options of ``tryg report``."""

from __future__ import annotations

import datetime
import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tryg.bounds import Form
from tryg.reports.sections import ReportOptions
from tryg.reports.services import Format
from tryg.reports.strategy_section import strategy_exists

_CODES = re.compile(r"[\w\-]{1,40}")


class ReportForm(Form):
    audience = forms.ChoiceField(label=_("For"), initial="public", choices=[
        ("public", _("the public (only published figures)")),
        ("internal", _("internal use (not for publication)"))])
    language = forms.ChoiceField(label=_("Language"), initial="da",
                                 choices=[("da", "Dansk"), ("en", "English")])
    format = forms.ChoiceField(label=_("Format"), initial="pdf",
                               choices=[("pdf", _("PDF (accessible, PDF/UA)")),
                                        ("html", _("HTML (one file)"))])
    wave = forms.IntegerField(label=_("Measurement (year)"), required=False, min_value=1900,
                              max_value=9999,
                              help_text=_("Empty: the latest published measurement."))
    areas = forms.CharField(label=_("Areas the council follows (codes)"), required=False,
                            max_length=2000,
                            help_text=_("Comma-separated area codes; empty: the vulnerable "
                                        "housing areas."))
    strategy = forms.CharField(label=_("Strategy"), required=False, max_length=200,
                               help_text=_("Its number or name; empty: the latest."))
    run = forms.IntegerField(label=_("Index run (internal reports)"), required=False,
                             min_value=1, max_value=2**63 - 1,
                             help_text=_("Empty: the latest publication. A finished run that "
                                         "is not published is shown as it would be "
                                         "published."))

    def clean_areas(self) -> tuple[str, ...]:
        codes = tuple(c.strip() for c in str(self.cleaned_data["areas"]).split(",")
                      if c.strip())
        bad = [c for c in codes if not _CODES.fullmatch(c)]
        if bad:
            raise forms.ValidationError(_("Not an area code: %(codes)s"),
                                        params={"codes": ", ".join(bad[:5])})
        return codes

    def clean_strategy(self) -> str:
        wanted = str(self.cleaned_data["strategy"]).strip()
        if wanted and not strategy_exists(wanted):
            raise forms.ValidationError(_("No strategy has the number or name %(strategy)s."),
                                        params={"strategy": wanted})
        return wanted

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("run") is not None and cleaned.get("audience") != "internal":
            self.add_error("run", _("Only an internal report can show a chosen run; a public "
                                    "report shows the publication."))
        return cleaned

    def options(self, created: datetime.date) -> ReportOptions:
        c = self.cleaned_data
        return ReportOptions(audience="internal" if c["audience"] == "internal" else "public",
                             language=str(c["language"]), wave=c["wave"], areas=c["areas"],
                             strategy=str(c["strategy"]) or None, run=c["run"],
                             created=created)

    def file_format(self) -> Format:
        return "html" if self.cleaned_data["format"] == "html" else "pdf"
