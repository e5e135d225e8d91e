"""Forms of the walk pages (Django forms: they work without JavaScript)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from tryg.accounts.models import Organisation
from tryg.areas.models import Area
from tryg.bounds import Form, ModelForm, check_date
from tryg.walks import routes
from tryg.walks.models import Finding, Participant, Walk
from tryg.walks.states import ActionState


class WalkForm(ModelForm):
    route_file = forms.FileField(label=_("Route file (GeoJSON or GPX)"), required=False)
    route_drawn = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Walk
        fields = ("title", "area_code", "date", "start_time", "duration_minutes",
                  "time_of_day", "meeting_point", "checklist", "organiser")
        widgets: ClassVar[dict[str, forms.Widget]] = {
            "date": forms.DateInput(attrs={"type": "date"}),
            "start_time": forms.TimeInput(attrs={"type": "time"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.route = ""

    def clean_area_code(self) -> str:
        code = str(self.cleaned_data["area_code"]).strip()
        if Area.objects.exists() and not Area.objects.filter(code=code).exists():
            raise forms.ValidationError(_("No area has the code %(code)s.") % {"code": code})
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        same = {f: data.get(f) for f in ("title", "area_code", "date", "start_time")}
        if all(v not in (None, "") for v in same.values()) and Walk.objects.filter(
                **same).exclude(status="cancelled").exclude(pk=self.instance.pk).exists():
            # the form sent twice (a double click, the back button) plans one walk
            raise forms.ValidationError(
                _("This walk is already planned: the same title, area, date and time."),
                code="duplicate")
        upload = data.get("route_file")
        drawn = (data.get("route_drawn") or "").strip()
        try:
            if upload is not None:
                self.route = routes.from_upload(upload.name, upload.read(routes.MAX_BYTES + 1))
            elif drawn:
                self.route = routes.from_geojson(str(_("the route drawn on the map")), drawn)
        except routes.RouteError as exc:
            self.add_error("route_file", str(exc))
        return data


class ParticipantForm(ModelForm):
    class Meta:
        model = Participant
        fields = ("name", "email", "role", "organisation", "user")

    def __init__(self, *args: Any, walk: Walk | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.walk = walk

    def clean(self) -> dict[str, Any]:
        """A person is on a walk once (a form sent twice had invited them twice, with two
        personal links): the same e-mail address, in any case, or the same account."""
        data = super().clean() or {}
        if self.walk is None:
            return data
        others = self.walk.participants.all()
        email = str(data.get("email") or "").strip()
        if email and others.filter(email__iexact=email).exists():
            self.add_error("email", forms.ValidationError(
                _("%(email)s already takes part in this walk."), code="duplicate",
                params={"email": email}))
        user = data.get("user")
        if user is not None and others.filter(user=user).exists():
            self.add_error("user", forms.ValidationError(
                _("This user already takes part in this walk."), code="duplicate"))
        return data


class FindingForm(Form):
    """One observation; the phone's script sends the same fields (and may queue them)."""

    #: The phone makes 32 hex digits; the key is stored with a prefix naming its walk or
    #: ``citizen:`` (at most 25 characters), which must still fit the 100 of the column.
    idempotency_key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    category = forms.ChoiceField(label=_("Category"))
    text = forms.CharField(label=_("What did you see?"), widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=4000, required=False)
    lat = forms.FloatField(label=_("Latitude"), required=False, min_value=-90, max_value=90)
    lon = forms.FloatField(label=_("Longitude"), required=False, min_value=-180,
                           max_value=180)
    address = forms.CharField(label=_("Place (address or description)"), max_length=300,
                              required=False)
    suggested_fix = forms.CharField(label=_("Suggested fix"), required=False, max_length=2000,
                                    widget=forms.Textarea(attrs={"rows": 2}))
    suggested_owner = forms.CharField(label=_("Who should fix it?"), required=False,
                                      max_length=200)

    def __init__(self, *args: Any, categories: list[tuple[str, str]],
                 parameters: list[tuple[str, str]], rating_max: int = 3,
                 participants: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["category"]).choices = categories
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)
        choices = [("", "–")] + [(str(i), str(i)) for i in range(rating_max + 1)]
        self.parameter_codes = [code for code, _name in parameters]
        for code, name in parameters:
            self.fields[f"rating_{code}"] = forms.TypedChoiceField(
                label=name, choices=choices, required=False, coerce=int, empty_value=None)
        if participants is not None:
            self.fields["on_behalf_of"] = forms.ChoiceField(
                label=_("On behalf of (participant)"), required=False,
                choices=[("", "–"), *participants])

    def ratings(self) -> dict[str, int]:
        return {code: int(self.cleaned_data[f"rating_{code}"]) for code in self.parameter_codes
                if self.cleaned_data.get(f"rating_{code}") is not None}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("lat") is None) != (data.get("lon") is None):
            raise forms.ValidationError(_("Give both latitude and longitude, or neither."))
        return data


class ReportForm(FindingForm):
    """A citizen's report: a place is required; name and e-mail optional, never published."""

    area_code = forms.CharField(label=_("Area code"), max_length=40, required=False,
                                widget=forms.HiddenInput)
    name = forms.CharField(label=_("Your name (optional, never published)"), max_length=200,
                           required=False)
    email = forms.EmailField(label=_("Your e-mail (optional, never published)"),
                             required=False,  # the column's 254, not the form's default 320
                             max_length=Finding._meta.get_field("reporter_email").max_length)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("lat") is None and not data.get("address"):
            raise forms.ValidationError(_("Say where: a position or a place."))
        return data


class AssignForm(Form):
    organisation = forms.ModelChoiceField(label=_("Responsible organisation"),
                                          queryset=Organisation.objects.all(), required=False)
    deadline = forms.DateField(label=_("Deadline"), required=False, validators=[check_date],
                               widget=forms.DateInput(attrs={"type": "date"}))
    promise = forms.CharField(label=_("What the owner promised"), required=False,
                              max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, walk_date: dt.date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.walk_date = walk_date

    def clean_deadline(self) -> dt.date | None:
        """A deadline before the walk that found the problem is a typo (year or month)."""
        deadline: dt.date | None = self.cleaned_data.get("deadline")
        if deadline is not None and self.walk_date is not None and deadline < self.walk_date:
            raise forms.ValidationError(
                _("The deadline %(deadline)s is before the walk (%(walk)s)."),
                code="before_walk",
                params={"deadline": deadline.isoformat(), "walk": self.walk_date.isoformat()})
        return deadline


class MoveForm(Form):
    state = forms.ChoiceField(label=_("New state"), choices=ActionState.choices)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 2}))
    duplicate_of = forms.IntegerField(label=_("Duplicate of finding no."), required=False,
                                      min_value=1, max_value=2**62)


class CommentForm(Form):
    comment = forms.CharField(label=_("Comment"), max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 2}))


class RewalkForm(Form):
    date = forms.DateField(label=_("Date of the re-walk"), validators=[check_date],
                           widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(label=_("Start time"),
                                 widget=forms.TimeInput(attrs={"type": "time"}))
    time_of_day = forms.ChoiceField(label=_("Day or night"), choices=Walk.TimeOfDay.choices)


class RevisitForm(Form):
    outcome = forms.ChoiceField(choices=[("confirm", _("Confirm")), ("reopen", _("Reopen"))])
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)
