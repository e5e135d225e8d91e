"""Survey waves and responses. Responses are sensitive: analysts only (see accounts.roles)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Wave(models.Model):
    year = models.IntegerField(_("wave (survey year)"), unique=True)
    fieldwork_start = models.DateField(_("fieldwork from"), null=True, blank=True)
    fieldwork_end = models.DateField(_("fieldwork to"), null=True, blank=True)
    producer = models.CharField(_("producer"), max_length=200, blank=True)
    questionnaire = models.CharField(_("questionnaire version"), max_length=100, blank=True)
    questions = models.JSONField(_("questions (item ids)"), default=list, blank=True)
    synthetic = models.BooleanField(
        _("synthetic"), default=False,
        help_text=_("Answers made by tryg's demo generator, not by respondents."))
    import_batch = models.ForeignKey("imports.ImportBatch", on_delete=models.PROTECT,
                                     related_name="waves")

    class Meta:
        ordering = ["year"]
        verbose_name = _("survey wave")
        verbose_name_plural = _("survey waves")

    def __str__(self) -> str:
        return str(self.year)


class Response(models.Model):
    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="responses")
    respondent = models.CharField(_("pseudonymous respondent key"), max_length=64)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    weight = models.FloatField(_("design weight"))
    stratum = models.CharField(max_length=60, blank=True)
    psu = models.CharField(max_length=60, blank=True)
    sex = models.CharField(max_length=20, blank=True)
    age_group = models.CharField(max_length=20, blank=True)
    answers = models.JSONField(_("answers (item id → code)"), default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["wave", "respondent"],
                                               name="unique_respondent_per_wave")]
