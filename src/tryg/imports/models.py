"""One row per imported file: what, by whom, its checksum and its report.

Of the imports of one kind not replaced, at most one has a given checksum (a unique
constraint): that row is the claim on the file, made in the import's own transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportBatch(models.Model):
    class Kind(models.TextChoices):
        AREAS = "areas", _("Areas")
        POPULATION = "population", _("Population")
        SURVEY = "survey", _("Survey wave")
        REGISTER = "register", _("Police register")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    file_name = models.CharField(_("file"), max_length=300)
    sha256 = models.CharField(_("checksum (SHA-256)"), max_length=64, db_index=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    report = models.JSONField(_("report"), default=dict, blank=True)
    rows = models.IntegerField(_("rows"), default=0)
    imported_at = models.DateTimeField(_("imported"), auto_now_add=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    replaced_at = models.DateTimeField(_("replaced"), null=True, blank=True)
    #: When the import was withdrawn (its rows deleted; see :mod:`tryg.imports.withdraw`).
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    #: Register records this import holds, kept when they are written or deleted, so the
    #: imports page does not count millions of rows per request.
    record_count = models.BigIntegerField(_("register records"), default=0)

    class Meta:
        ordering = ["-imported_at", "-id"]
        constraints = [
            # The checksum is claimed by the row itself: of two imports of one file racing,
            # the second's INSERT waits for the first's commit and then fails.
            models.UniqueConstraint(fields=["kind", "sha256"],
                                    condition=models.Q(replaced_at__isnull=True),
                                    name="imports_one_current_batch_per_file"),
        ]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.file_name}"
