"""What the GeoReport v2 endpoints answer, as plain data in the specification's field order.

* services are the categories of the default checklist (:mod:`tryg.walks.checklists`); a
  service's attributes are the checklist's rated parameters (single-value lists 0–max);
* a request is a finding; only findings the public may see are served
  (:func:`tryg.walks.citizens.publicly_visible`: public and, if moderated, approved). Their
  positions are rounded to four decimals (about ten metres) as on the public pages; nothing
  of a private finding, and no reporter's name or e-mail, is ever served;
* an action's state is served as ``open``/``closed`` (:func:`tryg.walks.states.open311_status`)
  with the state's name in ``status_notes``;
* a POSTed request becomes a finding (source ``open311``) awaiting moderation, with its action
  in state ``new``. As it is not public yet, the answer carries a ``token`` (the
  specification's choice for requests not yet given a public id), not a
  ``service_request_id``; ``GET tokens/{token}`` gives the id once the finding is approved.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from tryg.bounds import foreign_digit
from tryg.walks import checklists, citizens, findings, placing, states
from tryg.walks.models import ActionEvent, ChecklistTemplate, Finding
from tryg.walks.open311.models import ApiKey
from tryg.walks.states import Moderation

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
#: Decimals of a public position (about ten metres), as :mod:`tryg.walks.public`.
POSITION_DECIMALS = 4
TOKEN_PREFIX = "open311:"
#: Longest description and name a POST may carry.
MAX_DESCRIPTION = 4000
MAX_NAME = 200
#: The stored e-mail's column (an address may be valid up to 320 characters).
MAX_EMAIL = 254
MAX_ADDRESS = 300
MAX_IDS = 100


class Open311Error(Exception):
    """An answer in the specification's error format: HTTP status and description."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def default_days() -> int:
    return int(getattr(settings, "TRYG_OPEN311_DEFAULT_DAYS", 90))


def max_requests() -> int:
    return int(getattr(settings, "TRYG_OPEN311_MAX_REQUESTS", 1000))


def posts_per_hour() -> int:
    return int(getattr(settings, "TRYG_OPEN311_POSTS_PER_HOUR", 100))


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


# -- discovery and services ---------------------------------------------------------------------

def discovery(base_url: str, changeset: dt.datetime | None = None) -> dict[str, Any]:
    """The discovery document: this one endpoint, in both formats."""
    stamp = _iso(changeset or dt.datetime(2026, 12, 6, tzinfo=dt.UTC))
    return {
        "changeset": stamp,
        "contact": str(getattr(settings, "TRYG_OPEN311_CONTACT", "")),
        "key_service": str(getattr(settings, "TRYG_OPEN311_KEY_SERVICE", "")),
        "endpoints": [{
            "specification": SPECIFICATION, "url": base_url, "changeset": stamp,
            "type": "production", "formats": ["text/xml", "application/json"],
        }],
    }


def _template() -> ChecklistTemplate:
    return checklists.default_template()


def _category_names() -> dict[str, str]:
    return {c.code: checklists.category_label(c.code, c.name)
            for c in _template().categories.all()}


def services() -> list[dict[str, Any]]:
    """The service list: one service per checklist category."""
    template = _template()
    return [{
        "service_code": c.code,
        "service_name": checklists.category_label(c.code, c.name),
        "description": checklists.category_label(c.code, c.name),
        "metadata": True, "type": "realtime", "keywords": "",
        "group": _("Safety walk"),
    } for c in template.categories.all()]


def service_definition(service_code: str) -> dict[str, Any]:
    """A service's attributes: the rated parameters, each a single-value list 0–max."""
    template = _template()
    if not template.categories.filter(code=service_code).exists():
        raise Open311Error(404, _("There is no service with the code %(code)s.")
                           % {"code": service_code[:60]})
    rating = range(template.rating_max + 1)
    return {
        "service_code": service_code,
        "attributes": [{
            "variable": True, "code": p.code, "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": _("A rating from 0 (poor) to %(max)d (good).")
            % {"max": template.rating_max},
            "order": i + 1,
            "description": f"{checklists.parameter_label(p.code, p.name)}: {p.help}".rstrip(": "),
            "values": [{"key": str(v), "name": str(v)} for v in rating],
        } for i, p in enumerate(template.parameters.all())],
    }


# -- requests ------------------------------------------------------------------------------------

def _request(f: Finding, names: Mapping[str, str]) -> dict[str, Any]:
    """One public finding in the specification's field order."""
    action = getattr(f, "action", None)
    state = action.state if action is not None else states.ActionState.NEW
    updated = max([t for t in (f.updated_at, getattr(action, "updated_at", None)) if t])
    deadline = getattr(action, "deadline", None)
    expected = (timezone.make_aware(dt.datetime.combine(deadline, dt.time(23, 59, 59)))
                if deadline is not None else None)
    organisation = getattr(action, "organisation", None)
    return {
        "service_request_id": str(f.pk),
        "status": states.open311_status(state),
        "status_notes": states.label(state),
        "service_name": names.get(f.category, f.category),
        "service_code": f.category,
        "description": f.text[:MAX_DESCRIPTION],
        "agency_responsible": organisation.name if organisation is not None else "",
        "service_notice": "",
        "requested_datetime": _iso(f.observed_at or f.created_at),
        "updated_datetime": _iso(updated),
        "expected_datetime": _iso(expected),
        "address": f.address,
        "address_id": "",
        "zipcode": "",
        "lat": round(f.lat, POSITION_DECIMALS) if f.lat is not None else None,
        "long": round(f.lon, POSITION_DECIMALS) if f.lon is not None else None,
        "media_url": "",
    }


def _public() -> QuerySet[Finding]:
    visible: QuerySet[Finding] = citizens.publicly_visible()
    return (visible.select_related("action", "action__organisation")
            .only("id", "category", "text", "address", "lat", "lon", "observed_at",
                  "created_at", "updated_at", "action__state", "action__updated_at",
                  "action__deadline", "action__organisation__name"))


def request(request_id: str) -> list[dict[str, Any]]:
    """One public request (a list of one, as the specification has it); 404 otherwise."""
    pk = _id(request_id, "service_request_id")
    found = _public().filter(pk=pk).first()
    if found is None:
        raise Open311Error(404, _("There is no public request with the id %(id)s.")
                           % {"id": pk})
    return [_request(found, _category_names())]


def _id(value: str, name: str) -> int:
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise Open311Error(400, _("%(name)s must be a whole number, not %(value)s.")
                           % {"name": name, "value": value[:40]})
    return int(value)


def _when(value: str, name: str) -> dt.datetime:
    try:
        parsed = parse_datetime(value.strip().replace(" ", "+", 1) if "T" in value else value)
        if parsed is not None:
            # in UTC, as the database compares it: 0001-01-01T00:00:00+14:00 is no date there
            aware = parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=dt.UTC)
            return aware.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        pass
    raise Open311Error(400, _("%(name)s must be a W3C date and time such as "
                              "2026-01-31T12:00:00Z, not %(value)s.")
                       % {"name": name, "value": value[:40]})


def _days_before(end: dt.datetime, days: int) -> dt.datetime:
    """``days`` before ``end``, or the first moment of the calendar when that is earlier."""
    try:
        return end - dt.timedelta(days=days)
    except OverflowError:
        return dt.datetime.min.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class RequestQuery:
    """The list's filters as the specification names them (strings as given)."""

    service_request_id: str = ""
    service_code: str = ""
    start_date: str = ""
    end_date: str = ""
    status: str = ""


def requests(query: RequestQuery, *, now: dt.datetime) -> list[dict[str, Any]]:
    """Public requests, newest first, at most :func:`max_requests`.

    ``service_request_id`` (a comma list) overrides the other filters, as the specification
    says. Otherwise the window is ``start_date``..``end_date`` on the requested time; a
    missing end is now, a missing start is :func:`default_days` before the end.
    """
    rows = _public()
    if query.service_request_id:
        ids = [_id(v, "service_request_id") for v in query.service_request_id.split(",")
               if v.strip()]
        if len(ids) > MAX_IDS:
            raise Open311Error(400, _("At most %(n)d ids at once.") % {"n": MAX_IDS})
        rows = rows.filter(pk__in=ids)
    else:
        end = _when(query.end_date, "end_date") if query.end_date else now
        start = (_when(query.start_date, "start_date") if query.start_date
                 else _days_before(end, default_days()))
        if start > end:
            raise Open311Error(400, _("start_date is after end_date."))
        rows = rows.filter(Q(observed_at__gte=start, observed_at__lte=end)
                           | Q(observed_at__isnull=True, created_at__gte=start,
                               created_at__lte=end))
        if query.service_code:
            codes = [c.strip() for c in query.service_code.split(",") if c.strip()]
            rows = rows.filter(category__in=codes[:MAX_IDS])
        if query.status:
            wanted = {s.strip().lower() for s in query.status.split(",") if s.strip()}
            if not wanted <= {"open", "closed"}:
                raise Open311Error(400, _("status must be open or closed."))
            if wanted == {"open"}:
                rows = rows.filter(action__state__in=states.OPEN_STATES)
            elif wanted == {"closed"}:
                rows = rows.filter(action__state__in=states.CLOSED_STATES)
    names = _category_names()
    found = rows.order_by("-observed_at", "-id")[:max_requests()]
    return [_request(f, names) for f in found]


# -- creating a request --------------------------------------------------------------------------

@dataclass
class NewRequest:
    """The POST's fields as the specification names them (strings as given)."""

    service_code: str = ""
    lat: str = ""
    long: str = ""
    address_string: str = ""
    description: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    attributes: dict[str, str] = field(default_factory=dict)


def _coordinate(value: str, name: str, lo: float, hi: float) -> float:
    try:  # digits 0 to 9 only: float() also reads "٥٧" (as the forms, tryg.bounds)
        number = float(value.strip()) if foreign_digit(value) is None else float("nan")
    except ValueError:
        number = float("nan")
    if not lo <= number <= hi:  # NaN fails too
        raise Open311Error(400, _("%(name)s must be a number from %(lo)g to %(hi)g.")
                           % {"name": name, "lo": lo, "hi": hi})
    return number


def _ratings(attributes: Mapping[str, str], template: ChecklistTemplate) -> dict[str, int]:
    known = set(template.parameters.values_list("code", flat=True))
    out: dict[str, int] = {}
    for code, value in attributes.items():
        if code not in known:
            raise Open311Error(400, _("The service has no attribute %(code)s.")
                               % {"code": code[:60]})
        if value.strip() == "":
            continue
        # ASCII digits only: "²" is a digit to str.isdigit but no number to int()
        if not (value.strip().isascii() and value.strip().isdigit()) or (
                int(value) > template.rating_max):
            raise Open311Error(400, _("The attribute %(code)s must be a rating from 0 to "
                                      "%(max)d.") % {"code": code[:60],
                                                     "max": template.rating_max})
        out[code] = int(value)
    return out


def _name(data: NewRequest) -> str:
    """The reporter's name as stored: first and last name (each may fit while both do not)."""
    return f"{data.first_name.strip()} {data.last_name.strip()}".strip()


def check_new(data: NewRequest) -> findings.Observation:
    """The POST's fields checked (400/404 in the specification's format) as an observation."""
    if not data.service_code:
        raise Open311Error(400, _("service_code is required."))
    template = _template()
    if not template.categories.filter(code=data.service_code).exists():
        raise Open311Error(404, _("There is no service with the code %(code)s.")
                           % {"code": data.service_code[:60]})
    lat = lon = None
    if data.lat or data.long:
        lat = _coordinate(data.lat, "lat", -90.0, 90.0)
        lon = _coordinate(data.long, "long", -180.0, 180.0)
    elif not data.address_string.strip():
        raise Open311Error(400, _("A location is required: lat and long, or address_string."))
    for name, value, limit in (("description", data.description, MAX_DESCRIPTION),
                               ("address_string", data.address_string, MAX_ADDRESS),
                               ("first_name", data.first_name, MAX_NAME),
                               ("last_name", data.last_name, MAX_NAME),
                               ("first_name + last_name", _name(data), MAX_NAME),
                               ("email", data.email.strip(), MAX_EMAIL)):
        if len(value) > limit:
            raise Open311Error(400, _("%(name)s is longer than %(n)d characters.")
                               % {"name": name, "n": limit})
    if data.email:
        try:
            validate_email(data.email)
        except ValidationError:
            raise Open311Error(400, _("email is not an e-mail address.")) from None
    return findings.Observation(
        category=data.service_code, text=data.description.strip(), lat=lat, lon=lon,
        ratings=_ratings(data.attributes, template), address=data.address_string.strip(),
        idempotency_key=TOKEN_PREFIX + secrets.token_urlsafe(18))


def create(data: NewRequest, key: ApiKey, *, now: dt.datetime | None = None
           ) -> list[dict[str, Any]]:
    """Store a POSTed request (awaiting moderation); the answer: its token."""
    now = now or timezone.now()
    observation = check_new(data)
    area = placing.area_at(observation.lon, observation.lat)
    name = _name(data)
    with transaction.atomic():
        finding, _created = findings.record(
            observation, walk=None, source=Finding.Source.OPEN311, area_code=area,
            reporter_name=name, reporter_email=data.email.strip(), now=now)
        Finding.objects.filter(pk=finding.pk).update(moderation=Moderation.PENDING,
                                                     is_public=False)
        ActionEvent.objects.filter(action__finding=finding).update(
            actor_name=f"Open311: {key.organisation.name}"[:200])
    token = observation.idempotency_key.removeprefix(TOKEN_PREFIX)
    return [{"token": token, "service_notice": _("The request awaits moderation."),
             "account_id": None}]


def token(value: str) -> list[dict[str, Any]]:
    """The request id behind a token: empty until the request is public."""
    value = value.strip()
    found = (Finding.objects.filter(idempotency_key=TOKEN_PREFIX + value,
                                    source=Finding.Source.OPEN311)
             .values_list("pk", flat=True).first()) if 0 < len(value) <= 60 else None
    if found is None:
        raise Open311Error(404, _("There is no request with this token."))
    public = citizens.publicly_visible().filter(pk=found).exists()
    return [{"service_request_id": str(found) if public else None, "token": value}]
