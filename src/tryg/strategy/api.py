"""API endpoints of the strategies (django-ninja), with the pages' permissions.

Reading: strategies, initiatives, indicators (with status) and measurements as the asker may
see them (the anonymous public: published initiatives and measurements only; an invisible
object is a 404). Writing: ``POST /api/indicators/{id}/measurements`` by a logged-in user who
may enter measurements for the indicator's initiative (a partner for its own organisation's
initiatives; 401 without a session, 403 for others).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.params import functions
from ninja.security import django_auth
from pydantic import field_validator, model_validator

from tryg.accounts import roles
from tryg.api.schemas import MAX_INT
from tryg.bounds import control_character, number_problem
from tryg.strategy import overview, services
from tryg.strategy.models import Indicator, Initiative, Measurement
from tryg.strategy.overview import IndicatorView, InitiativeView

router = Router(tags=["strategies"])
#: An id in the path.
IdPath = Annotated[int, functions.Path(ge=1, le=MAX_INT)]


class StrategyOut(Schema):
    id: int
    name: str
    status: str
    period_start: dt.date
    period_end: dt.date | None
    partners: list[str]


class MeasurementOut(Schema):
    id: int
    date: dt.date
    wave: int | None
    value: float
    n: int | None
    se: float | None
    low: float | None
    high: float | None
    exact: bool
    method: str
    fictional: bool
    published: bool


class IndicatorOut(Schema):
    id: int
    name: str
    definition: str
    unit: str
    polarity: str
    frequency: str
    source: str
    measure: str
    proposed: bool
    status: str
    reason: str
    latest: float | None
    expected: float | None


class InitiativeOut(Schema):
    id: int
    name: str
    focus_area: str
    public_summary: str
    published: bool
    owners: list[str]
    areas: list[str]
    period_start: dt.date | None
    period_end: dt.date | None
    indicators: list[IndicatorOut]


class FocusAreaOut(Schema):
    id: int
    name: str
    initiatives: list[InitiativeOut]


class StrategyDetailOut(StrategyOut):
    focus_areas: list[FocusAreaOut]


class MeasurementIn(Schema):
    date: dt.date
    value: float = Field(..., allow_inf_nan=False)
    wave: int | None = Field(None, ge=1900, le=2200)
    n: int | None = Field(None, ge=0, le=2**31 - 1)
    se: float | None = Field(None, ge=0, allow_inf_nan=False)
    low: float | None = Field(None, allow_inf_nan=False)
    high: float | None = Field(None, allow_inf_nan=False)
    exact: bool = False
    method: str = Field("", max_length=2000)
    published: bool = False

    @field_validator("method")
    @classmethod
    def _stored_text(cls, value: str) -> str:
        """As the forms (:class:`tryg.bounds.CheckedInput`): no control character."""
        found = control_character(value)
        if found is not None:
            raise ValueError(f"the text holds a control character ({found}), which cannot "
                             "be stored")
        return value

    @model_validator(mode="after")
    def _interval(self) -> MeasurementIn:
        """As the form and the file import: both ends of the interval or neither, in order."""
        if (self.low is None) != (self.high is None):
            raise ValueError("give both ends of the interval (low and high), or neither")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError("the interval's high end is below its low end")
        ends = (self.value, self.low, self.high)
        if (self.low is not None and self.high is not None  # implausible ends: said once
                and not any(number_problem(x) for x in ends if x is not None)
                and not self.low <= self.value <= self.high):
            raise ValueError("the value lies outside its own interval")
        return self


def _strategy(s: Any) -> dict[str, Any]:
    return {"id": s.pk, "name": s.name, "status": s.status, "period_start": s.period_start,
            "period_end": s.period_end, "partners": [o.name for o in s.partners.all()]}


def _indicator(v: IndicatorView) -> dict[str, Any]:
    i, a = v.indicator, v.assessment
    return {"id": i.pk, "name": i.name, "definition": i.definition, "unit": i.unit,
            "polarity": i.polarity, "frequency": i.frequency, "source": i.source,
            "measure": i.measure_id, "proposed": i.proposed, "status": v.status,
            "reason": a.reason, "latest": a.latest.value if a.latest else None,
            "expected": a.expected}


def _initiative(v: InitiativeView) -> dict[str, Any]:
    i = v.initiative
    return {"id": i.pk, "name": i.name, "focus_area": i.focus_area.name,
            "public_summary": i.public_summary, "published": i.published,
            "owners": [o.name for o in i.owners.all()], "areas": [a.code for a in i.areas.all()],
            "period_start": i.period_start, "period_end": i.period_end,
            "indicators": [_indicator(x) for x in v.indicators]}


def _measurement(m: Measurement) -> dict[str, Any]:
    return {"id": m.pk, "date": m.when, "wave": m.wave, "value": m.value, "n": m.n, "se": m.se,
            "low": m.low, "high": m.high, "exact": m.exact, "method": m.method_note,
            "fictional": m.fictional, "published": m.published}


@router.get("/strategies", response=list[StrategyOut])
def strategies(request: HttpRequest) -> Any:
    """The strategies (drafts only for coordinators, analysts and administrators)."""
    return [_strategy(s) for s in overview.visible_strategies(request.user)
            .prefetch_related("partners")]


@router.get("/strategies/{strategy_id}", response=StrategyDetailOut)
def strategy(request: HttpRequest, strategy_id: IdPath) -> Any:
    """A strategy with its focus areas, initiatives and indicators, each with its status."""
    found = overview.visible_strategies(request.user).filter(pk=strategy_id).first()
    if found is None:
        raise Http404
    view = overview.strategy_view(found, request.user, services.today())
    return {**_strategy(found), "focus_areas": [
        {"id": fa.focus_area.pk, "name": fa.focus_area.name,
         "initiatives": [_initiative(i) for i in fa.initiatives]} for fa in view.focus_areas]}


def _visible_initiative(request: HttpRequest, initiative_id: int) -> Initiative:
    found = overview.initiatives_queryset(request.user).filter(pk=initiative_id).first()
    if found is None:
        raise Http404
    return found


@router.get("/initiatives/{initiative_id}", response=InitiativeOut)
def initiative(request: HttpRequest, initiative_id: IdPath) -> Any:
    """An initiative: where, by whom, and its indicators with their status."""
    found = _visible_initiative(request, initiative_id)
    return _initiative(overview.initiative_view(found, request.user,
                                                overview.context_for(request.user),
                                                services.today()))


@router.get("/indicators/{indicator_id}/measurements", response=list[MeasurementOut],
            url_name="indicator_measurements")
def measurements(request: HttpRequest, indicator_id: IdPath) -> Any:
    """The measurements entered for an indicator (published ones only for the public)."""
    found = Indicator.objects.filter(pk=indicator_id).values_list("initiative_id",
                                                                  flat=True).first()
    if found is None:
        raise Http404
    owner = _visible_initiative(request, found)
    rows = Measurement.objects.filter(indicator_id=indicator_id).order_by("when", "id")
    if not roles.can_see_unpublished_measurements(request.user, owner):
        rows = rows.filter(published=True)
    return [_measurement(m) for m in rows]


@router.post("/indicators/{indicator_id}/measurements", response={201: MeasurementOut},
             auth=django_auth, url_name="indicator_measurements")
def add_measurement(request: HttpRequest, indicator_id: IdPath, body: MeasurementIn) -> Any:
    """Enter a measurement (partners: for their own organisation's initiatives only)."""
    indicator = (Indicator.objects.select_related("initiative").filter(pk=indicator_id)
                 .first())
    if indicator is None:
        raise Http404
    if not roles.can_enter_measurements(request.user, indicator.initiative):
        raise HttpError(403, "you may not enter measurements for this initiative")
    try:
        made = services.add_measurement(
            indicator, request.user, when=body.date, wave=body.wave, value=body.value,
            n=body.n, se=body.se, low=body.low, high=body.high, exact=body.exact,
            method_note=body.method, published=body.published)
    except ValidationError as exc:
        raise HttpError(400, "; ".join(exc.messages)) from None
    return Status(201, _measurement(made))
