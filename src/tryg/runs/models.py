"""Specifications (text + hash), runs (inputs' fingerprints, who, when, status, log), results."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tryg.imports.problems import from_data, text
from tryg.index.inputs import Problem


class StoredSpec(models.Model):
    spec_id = models.CharField(_("specification"), max_length=100)
    version = models.CharField(_("version"), max_length=40)
    sha256 = models.CharField(_("hash"), max_length=64, unique=True)
    text = models.TextField(_("TOML text"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("index specification")
        verbose_name_plural = _("index specifications")

    def __str__(self) -> str:
        return f"{self.spec_id} {self.version} ({self.sha256[:12]})"


class IndexRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    spec = models.ForeignKey(StoredSpec, on_delete=models.PROTECT, related_name="runs")
    inputs = models.JSONField(_("input fingerprints"), default=dict)
    fingerprint = models.CharField(_("results fingerprint (SHA-256)"), max_length=64,
                                   blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.RUNNING)
    log = models.TextField(_("log"), blank=True)
    # The run's problems (a failed run: why it stored no results) and warnings (a done run) as
    # data ({"problems": [...], "warnings": [...]}, :func:`tryg.imports.problems.as_data`):
    # where each was found and the template it was made from, so the run's page shows them in
    # the reader's language and the CLI in English; nothing reads them back out of the log.
    problem_data = models.JSONField(_("problems as data"), default=dict, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("index run")
        verbose_name_plural = _("index runs")

    def __str__(self) -> str:
        return f"#{self.pk} {self.spec.spec_id} {self.get_status_display()}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def stored_problems(self, kind: str) -> list[Problem]:
        """The run's ``"problems"`` or ``"warnings"`` as problems."""
        return [from_data(d) for d in (self.problem_data or {}).get(kind) or []]

    @property
    def problems(self) -> list[str]:
        """Why a failed run stored no results, one English line each (the CLI, the log)."""
        return [text(p) for p in self.stored_problems("problems")]

    @property
    def warnings(self) -> list[str]:
        """A done run's warnings, one English line each."""
        return [text(p) for p in self.stored_problems("warnings")]


class ResultRow(models.Model):
    """One row of the tidy results table (tryg.index.results.RESULT_COLUMNS)."""

    run = models.ForeignKey(IndexRun, on_delete=models.CASCADE, related_name="results")
    area_code = models.CharField(max_length=40)
    area_name = models.CharField(max_length=200)
    level = models.CharField(max_length=40)
    wave = models.IntegerField()
    measure = models.CharField(max_length=100)
    estimate = models.FloatField(null=True)
    se = models.FloatField(null=True)
    ci_low = models.FloatField(null=True)
    ci_high = models.FloatField(null=True)
    n = models.FloatField(null=True)
    n_eff = models.FloatField(null=True)
    method = models.CharField(max_length=40, blank=True)
    change_prev = models.FloatField(null=True)
    p_prev = models.FloatField(null=True)
    sig_prev = models.BooleanField(null=True)
    change_pooled = models.FloatField(null=True)
    sig_pooled = models.BooleanField(null=True)
    diff_parent_rest = models.FloatField(null=True)
    sig_parent_rest = models.BooleanField(null=True)
    band = models.CharField(max_length=40, blank=True)
    suppressed = models.BooleanField(default=False)
    flags = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["run", "measure", "wave"]),
                   models.Index(fields=["run", "area_code"])]


class DriverRow(models.Model):
    """One row of a run's drivers table (tryg.index.drivers.DRIVER_COLUMNS): a problem's
    average marginal effect on feeling unsafe in an area and wave; a cell without a model
    (too few answers) is one row with no problem and no numbers, ``suppressed``."""

    run = models.ForeignKey(IndexRun, on_delete=models.CASCADE, related_name="drivers")
    level = models.CharField(max_length=40)
    area_code = models.CharField(max_length=40)
    wave = models.IntegerField()
    problem = models.CharField(max_length=100, blank=True)
    effect = models.FloatField(null=True)
    se = models.FloatField(null=True)
    ci_low = models.FloatField(null=True)
    ci_high = models.FloatField(null=True)
    p_value = models.FloatField(null=True)
    significant = models.BooleanField(default=False)
    rank = models.IntegerField(null=True)
    coefficient = models.FloatField(null=True)
    coefficient_se = models.FloatField(null=True)
    n = models.IntegerField()
    suppressed = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["run", "level", "wave"])]


class AreaProblemRow(models.Model):
    """One row of a run's area-problems table (tryg.index.drivers.PROBLEM_COLUMNS): how
    often a problem is reported in an area against the rest of its parent area, in a wave."""

    run = models.ForeignKey(IndexRun, on_delete=models.CASCADE, related_name="area_problems")
    level = models.CharField(max_length=40)
    area_code = models.CharField(max_length=40)
    parent_code = models.CharField(max_length=40)
    wave = models.IntegerField()
    problem = models.CharField(max_length=100)
    share = models.FloatField(null=True)
    rest_share = models.FloatField(null=True)
    difference = models.FloatField(null=True)
    se = models.FloatField(null=True)
    ci_low = models.FloatField(null=True)
    ci_high = models.FloatField(null=True)
    p_value = models.FloatField(null=True)
    more_often = models.BooleanField(default=False)
    n = models.FloatField()
    rest_n = models.FloatField()
    suppressed = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["run", "area_code"])]
