"""The forms of the strategy pages (plain Django forms: they work without JavaScript)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tryg.accounts.models import Organisation
from tryg.areas.models import Area
from tryg.bounds import Form, ModelForm, number_problem
from tryg.strategy import measures
from tryg.strategy.models import (
    Baseline,
    FocusArea,
    Indicator,
    Initiative,
    Measurement,
    Note,
    Strategy,
    Target,
)
from tryg.web.params import MAX_INT

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class Organisations(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    """Organisations ticked in a form. An id no database integer holds is an invalid choice
    like any unknown id (Django would send it to the database: OverflowError on SQLite)."""

    def clean(self, value: Any) -> Any:
        for pk in value if isinstance(value, list | tuple) else ():
            text = str(pk)
            if not (text.isascii() and text.isdigit() and int(text) <= MAX_INT):
                raise forms.ValidationError(self.error_messages["invalid_pk_value"],
                                            code="invalid_pk_value", params={"pk": pk})
        return super().clean(value)


def stored_areas(codes: list[str]) -> list[str]:
    """``codes`` if each is a stored area's (a form error naming the first that is not). With
    no areas stored yet (a new site), any code is taken, as a walk's form does."""
    known = set(Area.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = [c for c in codes if c not in known]
    if unknown and Area.objects.exists():
        raise forms.ValidationError(_("No area has the code %(code)s.")
                                    % {"code": unknown[0][:40]})
    return codes


class StrategyForm(ModelForm):
    partners = Organisations(
        Organisation.objects.all(), required=False, widget=forms.CheckboxSelectMultiple,
        label=_("partner organisations"))

    class Meta:
        model = Strategy
        fields = ["name", "description", "period_start", "period_end", "status", "partners"]
        widgets = {"period_start": DATE, "period_end": DATE}


class FocusAreaForm(ModelForm):
    class Meta:
        model = FocusArea
        fields = ["name", "description", "order"]


class InitiativeForm(ModelForm):
    owners = Organisations(
        Organisation.objects.all(), required=False, widget=forms.CheckboxSelectMultiple,
        label=_("owners"))
    area_codes = forms.CharField(
        label=_("areas"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Area codes, one per line or separated by commas."))
    comparison = forms.CharField(
        label=_("comparison areas"), required=False,
        help_text=_("Area codes for the before/after evaluation, separated by commas "
                    "(empty: proposed from the areas most alike before)."))

    class Meta:
        model = Initiative
        fields = ["name", "description", "public_summary", "owners", "period_start",
                  "period_end", "links", "published", "order"]
        widgets = {"period_start": DATE, "period_end": DATE,
                   "links": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["area_codes"].initial = "\n".join(
                self.instance.areas.values_list("code", flat=True))
            self.fields["comparison"].initial = ", ".join(self.instance.comparison_areas)

    @staticmethod
    def codes(text: str) -> list[str]:
        return [c.strip() for c in text.replace(",", "\n").splitlines() if c.strip()]

    def clean_area_codes(self) -> list[str]:
        codes = self.codes(self.cleaned_data.get("area_codes") or "")
        if any(len(c) > 40 for c in codes):
            raise forms.ValidationError(_("An area code has at most 40 characters."))
        return stored_areas(codes)

    def clean_comparison(self) -> list[str]:
        return stored_areas(self.codes(self.cleaned_data.get("comparison") or ""))


class IndicatorForm(ModelForm):
    class Meta:
        model = Indicator
        fields = ["name", "definition", "unit", "polarity", "frequency", "source",
                  "measure_id", "area_code", "plugin", "proposed", "order"]

    def clean_area_code(self) -> str:
        code = str(self.cleaned_data.get("area_code") or "").strip()
        return stored_areas([code])[0] if code else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("source") in (Indicator.Source.INDEX, Indicator.Source.REGISTER):
            measure = data.get("measure_id")
            if not measure:
                self.add_error("measure_id",
                               _("An index or register indicator names its measure."))
            else:
                try:
                    measures.check_measure(measure)
                except forms.ValidationError as exc:
                    self.add_error("measure_id", exc)
        return data


class _Uncertainty(ModelForm):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high, se = data.get("low"), data.get("high"), data.get("se")
        if (low is None) != (high is None):
            self.add_error("high", _("Give both ends of the interval, or neither."))
        elif low is not None and high is not None and low > high:
            self.add_error("high", _("The interval's high end is below its low end."))
        elif (low is not None and high is not None and data.get("value") is not None
              and not any(number_problem(x) for x in (low, high, data["value"]))
              and not low <= data["value"] <= high):
            self.add_error("value", _("The value lies outside its own interval."))
        if se is not None and se < 0:
            self.add_error("se", _("A standard error is not negative."))
        return data


class BaselineForm(_Uncertainty):
    class Meta:
        model = Baseline
        fields = ["when", "value", "se", "low", "high", "n"]
        widgets = {"when": DATE}


class TargetForm(ModelForm):
    class Meta:
        model = Target
        fields = ["when", "value"]
        widgets = {"when": DATE}


class MeasurementForm(_Uncertainty):
    class Meta:
        model = Measurement
        fields = ["when", "wave", "value", "n", "se", "low", "high", "exact", "method_note",
                  "published"]
        widgets = {"when": DATE, "method_note": forms.Textarea(attrs={"rows": 2})}


class NoteForm(ModelForm):
    class Meta:
        model = Note
        fields = ["text", "published"]
        widgets = {"text": forms.Textarea(attrs={"rows": 4})}


class MeasurementUploadForm(Form):
    file = forms.FileField(
        label=_("File (CSV or XLSX)"),
        help_text=_("Columns: indicator (its number, listed below), value, and date or wave; "
                    "optional n, se, low and high (a 95-percent interval), exact, method and "
                    "published."))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if not name.endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("Give a CSV or XLSX file."))
        return upload
