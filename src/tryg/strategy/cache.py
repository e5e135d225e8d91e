"""The public area pages show an area's initiatives; they are cached per publication
(:mod:`tryg.public.cache`), so a change of an initiative, an indicator or a measurement
removes the cached area pages of the areas it touches (after the change is committed)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction


def area_codes_of(obj: models.Model) -> set[str]:
    """The codes of the area pages that show ``obj`` (empty for a new object)."""
    from tryg.strategy.models import (
        FocusArea,
        Indicator,
        Initiative,
        InitiativeArea,
        Strategy,
    )

    if obj.pk is None:
        return set()
    areas = InitiativeArea.objects.all()
    if isinstance(obj, Strategy):
        areas = areas.filter(initiative__focus_area__strategy=obj)
    elif isinstance(obj, FocusArea):
        areas = areas.filter(initiative__focus_area=obj)
    elif isinstance(obj, Initiative):
        areas = areas.filter(initiative=obj)
    elif isinstance(obj, Indicator):
        areas = areas.filter(initiative_id=obj.initiative_id)
    elif (indicator := getattr(obj, "indicator_id", None)) is not None:
        areas = areas.filter(initiative__indicators=indicator)
    else:
        return set()
    return set(areas.values_list("code", flat=True))


def forget_areas(codes: Iterable[str]) -> None:
    """Remove the cached public pages of these areas once the transaction commits."""
    wanted = sorted(set(codes))
    if wanted:
        transaction.on_commit(lambda: _forget(wanted))


def _forget(codes: list[str]) -> None:
    from tryg.public.cache import page_key
    from tryg.public.data import latest_publication

    publication = latest_publication()
    if publication is None:
        return
    keys = [page_key(publication, language, "area", {"code": code}, kind)
            for code in codes for language, _name in settings.LANGUAGES
            for kind in ("fragment", "response")]
    cache.delete_many(keys)
