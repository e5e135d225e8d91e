"""The default checklist: the categories seen in Danish walks and Safetipin's nine parameters.

Domain notes §4. The default template (no organisation) is made on first use; a municipality
gets its own editable copy with :func:`copy_for`. Names of the default entries are shown
translated (:func:`category_label`); a municipality's own names are shown as written.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tryg.accounts.models import Organisation
from tryg.walks.models import ChecklistCategory, ChecklistTemplate, RatedParameter

DEFAULT_CATEGORIES: tuple[tuple[str, Promise], ...] = (
    ("lighting", _("Lighting")),
    ("vegetation", _("Vegetation and sight lines")),
    ("graffiti", _("Graffiti and vandalism")),
    ("litter", _("Litter and dumping")),
    ("hiding_places", _("Hiding places")),
    ("paths", _("Paths and accessibility")),
    ("signage", _("Signage")),
    ("activity", _("Activity and eyes on the street")),
    ("public_transport", _("Public transport access")),
    ("behaviour", _("Behaviour (groups, drugs)")),
    ("other", _("Other")),
)

#: Safetipin's nine parameters, each rated 0 (poor) to 3 (good).
DEFAULT_PARAMETERS: tuple[tuple[str, Promise, Promise], ...] = (
    ("lighting", _("Lighting"), _("Is there enough light to see around you?")),
    ("openness", _("Openness"), _("Can you see ahead and around, with ways out?")),
    ("visibility", _("Visibility"), _("Can people in buildings or shops see you?")),
    ("people", _("People"), _("Are there people around?")),
    ("security", _("Security"), _("Is there police or security presence nearby?")),
    ("walk_path", _("Walk path"), _("Is the path usable and in good repair?")),
    ("public_transport", _("Public transport"), _("Is public transport close by?")),
    ("gender_usage", _("Gender usage"), _("Are women and children in the space?")),
    ("feeling", _("Feeling"), _("How safe does the place feel?")),
)

DEFAULT_NAME = "Tryg standard (Safetipin + DKR)"
_LABELS: dict[str, Promise] = dict(DEFAULT_CATEGORIES)
_PARAMETER_LABELS: dict[str, Promise] = {c: n for c, n, _h in DEFAULT_PARAMETERS}


def default_template() -> ChecklistTemplate:
    """The shipped default (made once, on first use)."""
    found = ChecklistTemplate.objects.filter(organisation=None, name=DEFAULT_NAME).first()
    if found is not None:
        return found
    with transaction.atomic():
        template = ChecklistTemplate.objects.create(name=DEFAULT_NAME, rating_max=3)
        ChecklistCategory.objects.bulk_create(
            ChecklistCategory(template=template, code=code, name=str(name), order=i)
            for i, (code, name) in enumerate(DEFAULT_CATEGORIES))
        RatedParameter.objects.bulk_create(
            RatedParameter(template=template, code=code, name=str(name), help=str(help_),
                           order=i)
            for i, (code, name, help_) in enumerate(DEFAULT_PARAMETERS))
    return template


def copy_for(organisation: Organisation, source: ChecklistTemplate | None = None,
             name: str = "") -> ChecklistTemplate:
    """A municipality's own editable copy of ``source`` (the default if none)."""
    source = source or default_template()
    with transaction.atomic():
        template = ChecklistTemplate.objects.create(
            name=name or f"{source.name} – {organisation.name}", organisation=organisation,
            rating_max=source.rating_max)
        ChecklistCategory.objects.bulk_create(
            ChecklistCategory(template=template, code=c.code, name=c.name, order=c.order)
            for c in source.categories.all())
        RatedParameter.objects.bulk_create(
            RatedParameter(template=template, code=p.code, name=p.name, help=p.help,
                           order=p.order)
            for p in source.parameters.all())
    return template


def category_label(code: str, name: str = "") -> str:
    """A category's name to show: the translated default, else the stored name, else code."""
    if code in _LABELS and (not name or name == str(_LABELS[code])
                            or name in _default_names(code)):
        return str(_LABELS[code])
    return name or code


def parameter_label(code: str, name: str = "") -> str:
    if code in _PARAMETER_LABELS and (not name or name in _default_parameter_names(code)):
        return str(_PARAMETER_LABELS[code])
    return name or code


def _default_names(code: str) -> set[str]:
    from django.utils import translation

    names = set()
    for lang in ("en", "da"):
        with translation.override(lang):
            names.add(str(_LABELS[code]))
    return names


def _default_parameter_names(code: str) -> set[str]:
    from django.utils import translation

    names = set()
    for lang in ("en", "da"):
        with translation.override(lang):
            names.add(str(_PARAMETER_LABELS[code]))
    return names
