"""Analyst-only endpoints: survey answers and register records (record-level data).

Session authentication (log in on the site): 401 without a session, 403 for a role that may
not see record-level data (``roles.can_see_microdata``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router
from ninja.errors import HttpError
from ninja.security import django_auth

from tryg.accounts import roles
from tryg.api.schemas import IdQuery, Limit, Offset, RecordsOut, ResponsesOut, YearPath
from tryg.police_register.models import RegisterRecord
from tryg.surveys.models import Response, Wave

router = Router(tags=["analysts"], auth=django_auth)


def _require_microdata(request: HttpRequest) -> None:
    if not roles.can_see_microdata(request.user):
        raise HttpError(403, "record-level data are for analysts only")


@router.get("/waves/{year}/responses", response=ResponsesOut)
def wave_responses(request: HttpRequest, year: YearPath,
                   limit: Limit = 1000, offset: Offset = 0) -> Any:
    """A wave's responses: pseudonymous key, area, design variables and answers."""
    _require_microdata(request)
    wave = get_object_or_404(Wave, year=year)
    rows = (Response.objects.filter(wave=wave).select_related("area")
            .order_by("respondent", "id"))
    return {"wave": wave.year, "count": rows.count(), "limit": limit, "offset": offset,
            "responses": [{"respondent": r.respondent, "area": r.area.code, "weight": r.weight,
                           "stratum": r.stratum, "psu": r.psu, "sex": r.sex,
                           "age_group": r.age_group, "answers": r.answers}
                          for r in rows[offset:offset + limit]]}


@router.get("/register/records", response=RecordsOut)
def register_records(request: HttpRequest, batch: IdQuery | None = None,
                     limit: Limit = 1000, offset: Offset = 0) -> Any:
    """Register records (one reported offence each), optionally of one import."""
    _require_microdata(request)
    rows = RegisterRecord.objects.select_related("area").order_by("import_batch_id", "line",
                                                                  "id")
    if batch is not None:
        rows = rows.filter(import_batch_id=batch)
    return {"count": rows.count(), "limit": limit, "offset": offset,
            "records": [{"batch": r.import_batch_id, "line": r.line, "date": r.date,
                         "offence": r.offence, "area": r.area.code if r.area else None,
                         "lon": r.lon, "lat": r.lat}
                        for r in rows[offset:offset + limit]]}
