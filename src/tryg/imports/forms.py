"""The upload form: which kind of file, the file, and the options an analyst may need."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from tryg.bounds import Form, check_date
from tryg.imports.models import ImportBatch
from tryg.imports.problems import number_text
from tryg.messages import Number


class UploadForm(Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportBatch.Kind.choices)
    file = forms.FileField(
        label=_("File"),
        help_text=_("Areas: CSV, GeoJSON, TopoJSON, GeoPackage or a zipped Shapefile. "
                    "Population, survey and register: CSV, XLSX (survey also SPSS .sav)."))
    encoding = forms.ChoiceField(
        label=_("Text encoding (CSV)"), required=False,
        choices=[("", _("Detect: UTF-8, else Windows-1252")), ("utf-8", "UTF-8"),
                 ("cp1252", _("Windows-1252 (Excel in Denmark)")),
                 ("iso-8859-1", "ISO-8859-1 (latin-1)")],
        help_text=_("Population and survey CSV files. Excel saves “CSV” as Windows-1252."))
    replace = forms.BooleanField(
        label=_("Replace what is already stored"), required=False,
        help_text=_("Areas with the same codes, the same survey waves, figures for the same "
                    "years, register counts for the same areas, quarters and offences. "
                    "Without this, such an import is refused."))
    level = forms.CharField(label=_("Area level"), required=False, max_length=40,
                            help_text=_("Areas: the level when the file does not say "
                                        "(e.g. sogn). Population: the level the names "
                                        "belong to (default kommune)."))
    parent_level = forms.CharField(label=_("Parent level"), required=False, max_length=40,
                                   help_text=_("Areas: find parents among stored areas of "
                                               "this level (default: the nearest coarser)."))
    code_prefix = forms.CharField(label=_("Code prefix"), required=False, max_length=20,
                                  help_text=_("Areas: put before every code (e.g. post-)."))
    crs = forms.CharField(label=_("Coordinate reference system"), required=False,
                          max_length=100, help_text=_("When the file names none, e.g. "
                                                      "EPSG:25832."))
    columns = forms.CharField(
        label=_("Column names"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Survey and register: one per line, the file's name = tryg's name, "
                    "e.g. id = respondent_id."))
    producer = forms.CharField(label=_("Survey producer"), required=False, max_length=200)
    # year 1 (a date field accepts it) is a typo the wave would otherwise keep
    fieldwork_start = forms.DateField(label=_("Fieldwork from"), required=False,
                                      help_text=_("YYYY-MM-DD"), validators=[check_date])
    fieldwork_end = forms.DateField(label=_("Fieldwork to"), required=False,
                                    help_text=_("YYYY-MM-DD"), validators=[check_date])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = _("At most %(limit)s MB.") % {
            "limit": number_text(Number(int(settings.TRYG_MAX_UPLOAD_MB)))}
        field = self.fields["file"]
        field.help_text = format_lazy("{} {}", field.help_text, limit)

    def clean_columns(self) -> dict[str, str]:
        text = str(self.cleaned_data.get("columns") or "")
        mapping: dict[str, str] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise forms.ValidationError(
                    _("Line %(n)d is not “file name = tryg name”."), params={"n": number})
            mapping[key.strip()] = value.strip()
        return mapping

    def options(self) -> dict[str, Any]:
        """Keyword arguments for the import function of the chosen kind."""
        data = self.cleaned_data
        kind = data["kind"]
        common: dict[str, Any] = {"replace": bool(data.get("replace"))}
        if kind == ImportBatch.Kind.AREAS:
            return {**common, "level": data["level"] or None,
                    "parent_level": data["parent_level"] or None,
                    "code_prefix": data["code_prefix"] or "", "crs": data["crs"] or None}
        if kind == ImportBatch.Kind.POPULATION:
            return {**common, "level": data["level"] or None,
                    "encoding": data.get("encoding") or None}
        if kind == ImportBatch.Kind.SURVEY:
            return {**common, "columns": data["columns"] or None,
                    "producer": data["producer"] or None,
                    "fieldwork_start": data["fieldwork_start"],
                    "fieldwork_end": data["fieldwork_end"],
                    "encoding": data.get("encoding") or None}
        return {**common, "columns": data["columns"] or None, "crs": data["crs"] or None}
