"""A background job as people see it, and the workers that run them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    """One piece of background work of a registered kind (:mod:`tryg.jobs.kinds`).

    ``key`` makes enqueueing idempotent: a second request with the same key (a form posted
    twice) gets the first job. ``worker`` and ``heartbeat_at`` are the lease: a running job
    whose worker process is gone, or whose heartbeat is older than the lease, is taken back
    and queued again (:func:`tryg.jobs.services.reap`).
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=60)
    params = models.JSONField(_("parameters"), default=dict)
    key = models.CharField(_("idempotency key"), max_length=200, unique=True, null=True,
                           blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices,
                             default=State.QUEUED)
    step = models.CharField(_("step"), max_length=300, blank=True)
    fraction = models.FloatField(_("progress"), default=0.0)
    result = models.JSONField(_("result"), default=dict)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    task_id = models.CharField(max_length=64, blank=True)
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("queued"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        indexes = [models.Index(fields=["state", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.state}"

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    @property
    def percent(self) -> int:
        return round(100 * min(max(self.fraction, 0.0), 1.0))


class WorkerBeat(models.Model):
    """A worker process's last sign of life (``tryg check --deploy`` wants one seen recently)."""

    worker = models.CharField(max_length=200, unique=True)
    host = models.CharField(max_length=200)
    pid = models.IntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.worker
