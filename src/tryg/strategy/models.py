"""A strategy → focus areas → initiatives → indicators → baseline, targets, measurements, notes.

Every change goes through :mod:`tryg.strategy.services`, which writes a :class:`ChangeRecord`
(who, when, what, the object's fields after the change) in the same transaction: the history
of every object, append-only like the accounts' audit log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tryg.accounts.models import Organisation
from tryg.bounds import FIRST_YEAR, LAST_YEAR, check_date, check_number


def latest_measurement_date(today: dt.date) -> dt.date:
    """The latest date a measurement may have: the end of next year. A yearly figure is often
    dated the last day of its year and entered before that day, but a measurement years ahead
    is a typo that would become the indicator's latest figure and decide its status."""
    return dt.date(today.year + 1, 12, 31)


def check_measured(when: dt.date | None, today: dt.date) -> None:
    """A model's ``clean``: a measurement is not dated after :func:`latest_measurement_date`."""
    latest = latest_measurement_date(today)
    if when is not None and when > latest:
        raise ValidationError({"when": ValidationError(
            _("A measurement cannot be dated after %(latest)s (the end of next year); "
              "%(date)s lies ahead. Is the year a typo?"), code="ahead",
            params={"latest": latest.isoformat(), "date": when.isoformat()})})


def check_period(start: dt.date | None, end: dt.date | None) -> None:
    """A period that ends before it starts is a typo (a model's ``clean``: the forms say it
    at the end date)."""
    if start is not None and end is not None and end < start:
        raise ValidationError({"period_end": ValidationError(
            _("The period ends (%(end)s) before it starts (%(start)s)."), code="period_order",
            params={"end": end.isoformat(), "start": start.isoformat()})})


class Strategy(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ADOPTED = "adopted", _("Adopted")
        ENDED = "ended", _("Ended")

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    period_start = models.DateField(_("start"), validators=[check_date])
    period_end = models.DateField(_("end"), null=True, blank=True, validators=[check_date])
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.DRAFT)
    partners = models.ManyToManyField(Organisation, verbose_name=_("partner organisations"),
                                      blank=True, related_name="strategies")

    class Meta:
        ordering = ["-period_start", "name", "id"]
        verbose_name = _("strategy")
        verbose_name_plural = _("strategies")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        check_period(self.period_start, self.period_end)


class FocusArea(models.Model):
    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="focus_areas")
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("focus area")
        verbose_name_plural = _("focus areas")

    def __str__(self) -> str:
        return self.name


class Initiative(models.Model):
    focus_area = models.ForeignKey(FocusArea, on_delete=models.CASCADE,
                                   related_name="initiatives")
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    public_summary = models.TextField(_("public summary"), blank=True)
    owners = models.ManyToManyField(Organisation, verbose_name=_("owners"), blank=True,
                                    related_name="initiatives")
    period_start = models.DateField(_("start"), null=True, blank=True, validators=[check_date])
    period_end = models.DateField(_("end"), null=True, blank=True, validators=[check_date])
    links = models.TextField(_("links"), blank=True,
                             help_text=_("One per line: an address, or a title, a bar (|) "
                                         "and an address."))
    comparison_areas = models.JSONField(_("comparison areas"), default=list, blank=True)
    published = models.BooleanField(_("published"), default=False)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("initiative")
        verbose_name_plural = _("initiatives")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        check_period(self.period_start, self.period_end)

    def link_list(self) -> list[tuple[str, str]]:
        """(title, address) of each line of :attr:`links` (http(s) addresses only)."""
        out = []
        for line in self.links.splitlines():
            title, _bar, url = line.rpartition("|")
            url = url.strip()
            if url.startswith(("https://", "http://")):
                out.append(((title.strip() or url), url))
        return out


class InitiativeArea(models.Model):
    """An area (by code, the key of the area pages) where an initiative works."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="areas")
    code = models.CharField(_("area code"), max_length=40, db_index=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["initiative", "code"],
                                               name="initiative_area_once")]

    def __str__(self) -> str:
        return self.code


class Indicator(models.Model):
    class Polarity(models.TextChoices):
        UP = "up", _("Up is good")
        DOWN = "down", _("Down is good")

    class Frequency(models.TextChoices):
        ANNUAL = "annual", _("Yearly")
        HALF_YEARLY = "half_yearly", _("Every half year")
        QUARTERLY = "quarterly", _("Quarterly")
        MONTHLY = "monthly", _("Monthly")
        PER_WAVE = "per_wave", _("Per survey wave")

    class Source(models.TextChoices):
        INDEX = "index", _("Index measure (published runs)")
        REGISTER = "register", _("Register measure (published runs)")
        MANUAL = "manual", _("Entered or imported measurements")
        PLUGIN = "plugin", _("Another module")

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE,
                                   related_name="indicators")
    name = models.CharField(_("name"), max_length=200)
    definition = models.TextField(_("definition"), blank=True)
    unit = models.CharField(_("unit"), max_length=60)
    polarity = models.CharField(_("polarity"), max_length=4, choices=Polarity.choices,
                                default=Polarity.UP)
    frequency = models.CharField(_("frequency"), max_length=12, choices=Frequency.choices,
                                 default=Frequency.ANNUAL)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices,
                              default=Source.MANUAL)
    measure_id = models.CharField(_("measure"), max_length=100, blank=True,
                                  help_text=_("The index or register measure (its id in the "
                                              "index specification)."))
    area_code = models.CharField(_("area code"), max_length=40, blank=True,
                                 help_text=_("The area of the measure; empty: the "
                                             "initiative's first area."))
    plugin = models.CharField(_("module"), max_length=60, blank=True)
    proposed = models.BooleanField(
        _("our proposal"), default=False,
        help_text=_("Proposed by tryg, not named by the strategy itself."))
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")

    def __str__(self) -> str:
        return self.name


class Estimate(models.Model):
    """A dated value with what is known of its uncertainty: its standard error or interval
    and the n it rests on (a baseline and every measurement have them)."""

    when = models.DateField(_("date"), validators=[check_date])
    value = models.FloatField(_("value"), validators=[check_number])
    se = models.FloatField(_("standard error"), null=True, blank=True,
                           validators=[check_number])
    low = models.FloatField(_("interval low"), null=True, blank=True,
                            validators=[check_number])
    high = models.FloatField(_("interval high"), null=True, blank=True,
                             validators=[check_number])
    n = models.PositiveIntegerField("n", null=True, blank=True)

    class Meta:
        abstract = True


class Baseline(Estimate):
    indicator = models.OneToOneField(Indicator, on_delete=models.CASCADE,
                                     related_name="baseline")

    class Meta:
        verbose_name = _("baseline")


class Target(models.Model):
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="targets")
    when = models.DateField(_("date"), validators=[check_date])
    value = models.FloatField(_("value"), validators=[check_number])

    class Meta:
        ordering = ["when", "id"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")


class Measurement(Estimate):
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE,
                                  related_name="measurements")
    wave = models.PositiveIntegerField(
        _("wave"), null=True, blank=True,
        validators=[MinValueValidator(FIRST_YEAR), MaxValueValidator(LAST_YEAR)])
    exact = models.BooleanField(
        _("exact count"), default=False,
        help_text=_("A count, not an estimate from a sample: no interval is needed."))
    method_note = models.TextField(_("method"), blank=True)
    fictional = models.BooleanField(_("fictional (demo)"), default=False)
    published = models.BooleanField(_("published"), default=False)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    entered_at = models.DateTimeField(_("entered"), auto_now_add=True)

    def clean(self) -> None:
        check_measured(self.when, timezone.localdate())

    class Meta:
        ordering = ["when", "id"]
        # the overview picks each indicator's first and latest measurement by this order
        indexes = [models.Index(fields=["indicator", "when", "id"],
                                name="measurement_series")]
        verbose_name = _("measurement")
        verbose_name_plural = _("measurements")


class Note(models.Model):
    """The story behind the curve."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="notes")
    text = models.TextField(_("text"))
    published = models.BooleanField(_("published"), default=False)
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    written_at = models.DateTimeField(_("written"), auto_now_add=True)

    class Meta:
        ordering = ["-written_at", "-id"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")


class ChangeLockedError(PermissionError):
    """An attempt to change or delete a history record."""


class ChangeRecord(models.Model):
    """One change of a strategy object: who, when, what, and its fields afterwards."""

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        DELETE = "delete", _("Deleted")
        IMPORT = "import", _("Imported")

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(_("by (user name)"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    model = models.CharField(_("kind"), max_length=40)
    object_id = models.BigIntegerField(_("object"))
    strategy_id = models.BigIntegerField(null=True, db_index=True)
    data = models.JSONField(_("fields"), default=dict)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["model", "object_id"])]
        verbose_name = _("change")
        verbose_name_plural = _("history")

    def kind_label(self) -> str:
        """The changed object's kind in the page's language ("måling"), from its model's
        verbose name; the stored model name for a kind no longer known."""
        try:
            model = apps.get_model(self._meta.app_label, self.model)
        except LookupError:
            return self.model
        return str(model._meta.verbose_name)

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ChangeLockedError("the history cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ChangeLockedError("the history cannot be changed")
