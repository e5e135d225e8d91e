"""Every change of a strategy object goes through here: saved, and its history written.

The history (:class:`tryg.strategy.models.ChangeRecord`) is written in the same transaction
as the change: who (the user given, else the request's user, see
:mod:`tryg.accounts.current`), when, the action and the object's fields afterwards (many-to-many
owners and partners, and an initiative's areas, included). It is a table of this app rather
than the accounts' audit log, whose actions are about data, publication and permissions; an
object's history is read by kind and id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tryg.accounts import roles
from tryg.accounts.current import current_user
from tryg.strategy import cache
from tryg.strategy.models import (
    Baseline,
    ChangeRecord,
    FocusArea,
    Indicator,
    Initiative,
    InitiativeArea,
    Measurement,
    Note,
    Strategy,
    Target,
)

#: Today's date for the pages' status (tests set their own instead of reading the clock).
clock: Callable[[], dt.date] = timezone.localdate


def today() -> dt.date:
    """The date the pages assess status on (:data:`clock`)."""
    return clock()


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(obj: models.Model) -> dict[str, Any]:
    """The object's fields (foreign keys as ids, many-to-many as sorted ids)."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        data[field.attname] = _plain(getattr(obj, field.attname))
    if obj.pk is not None:
        for m2m in obj._meta.many_to_many:
            data[m2m.name] = sorted(getattr(obj, m2m.name).values_list("pk", flat=True))
        if isinstance(obj, Initiative):
            data["areas"] = sorted(obj.areas.values_list("code", flat=True))
    return data


def strategy_id_of(obj: models.Model) -> int | None:
    if isinstance(obj, Strategy):
        return obj.pk
    if isinstance(obj, FocusArea):
        return obj.strategy_id
    if isinstance(obj, Initiative):
        return FocusArea.objects.filter(pk=obj.focus_area_id).values_list(
            "strategy_id", flat=True).first()
    if isinstance(obj, Indicator):
        return Initiative.objects.filter(pk=obj.initiative_id).values_list(
            "focus_area__strategy_id", flat=True).first()
    indicator_id = getattr(obj, "indicator_id", None)
    if indicator_id is not None:
        return Indicator.objects.filter(pk=indicator_id).values_list(
            "initiative__focus_area__strategy_id", flat=True).first()
    return None


def record(action: str, obj: models.Model, user: Any = None) -> ChangeRecord:
    """Write one history record of ``obj`` (call inside the change's transaction)."""
    actor = user if user is not None else current_user()
    actor = actor if getattr(actor, "is_authenticated", False) else None
    return ChangeRecord.objects.create(
        action=action, model=obj._meta.model_name or "", object_id=obj.pk,
        strategy_id=strategy_id_of(obj), data=snapshot(obj), actor=actor,
        actor_name=actor.get_username() if actor is not None else "")


def history(obj: models.Model) -> list[ChangeRecord]:
    return list(ChangeRecord.objects.filter(model=obj._meta.model_name, object_id=obj.pk))


def set_areas(initiative: Initiative, codes: Iterable[str]) -> None:
    wanted = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    initiative.areas.exclude(code__in=wanted).delete()
    have = set(initiative.areas.values_list("code", flat=True))
    InitiativeArea.objects.bulk_create([InitiativeArea(initiative=initiative, code=c)
                                        for c in wanted if c not in have])


def save(obj: models.Model, user: Any = None, *, m2m: dict[str, Iterable[Any]] | None = None,
         areas: Iterable[str] | None = None, action: str | None = None) -> models.Model:
    """Create or update ``obj`` (and its many-to-many fields, an initiative's areas) and
    record the change."""
    with transaction.atomic():
        adding = obj._state.adding
        before = cache.area_codes_of(obj)
        obj.save()
        for name, values in (m2m or {}).items():
            getattr(obj, name).set(list(values))
        if areas is not None and isinstance(obj, Initiative):
            set_areas(obj, areas)
        record(action or (ChangeRecord.Action.CREATE if adding else ChangeRecord.Action.UPDATE),
               obj, user)
        cache.forget_areas(before | cache.area_codes_of(obj))
    return obj


def delete(obj: models.Model, user: Any = None) -> None:
    with transaction.atomic():
        codes = cache.area_codes_of(obj)
        record(ChangeRecord.Action.DELETE, obj, user)
        obj.delete()
        cache.forget_areas(codes)


def add_measurement(indicator: Indicator, user: Any, **fields: Any) -> Measurement:
    """A measurement entered by ``user`` (who must be allowed to, for this initiative)."""
    if not roles.can_enter_measurements(user, indicator.initiative):
        raise PermissionDenied(_("You may not enter measurements for this initiative."))
    measurement = Measurement(indicator=indicator, entered_by=user, **fields)
    measurement.full_clean()
    save(measurement, user)
    return measurement


def add_note(indicator: Indicator, user: Any, text: str, published: bool) -> Note:
    if not roles.can_enter_measurements(user, indicator.initiative):
        raise PermissionDenied(_("You may not write notes for this initiative."))
    note = Note(indicator=indicator, written_by=user, text=text, published=published)
    note.full_clean()
    save(note, user)
    return note


def set_baseline(indicator: Indicator, user: Any, **fields: Any) -> Baseline:
    baseline = Baseline.objects.filter(indicator=indicator).first() or Baseline(
        indicator=indicator)
    for name, value in fields.items():
        setattr(baseline, name, value)
    save(baseline, user)
    return baseline


def add_target(indicator: Indicator, user: Any, when: dt.date, value: float) -> Target:
    target = Target(indicator=indicator, when=when, value=value)
    save(target, user)
    return target
