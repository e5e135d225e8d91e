"""Register data. Records are sensitive (analysts only); counts feed the index."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegisterRecord(models.Model):
    """One reported offence from a police extract, placed in its finest area."""

    import_batch = models.ForeignKey("imports.ImportBatch", on_delete=models.CASCADE,
                                     related_name="records")
    line = models.IntegerField(_("line in the file"))
    date = models.DateField(_("date"), null=True, blank=True)
    quarter = models.CharField(_("quarter"), max_length=6)
    offence = models.CharField(_("offence code"), max_length=60)
    area = models.ForeignKey("areas.Area", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    x = models.FloatField(null=True, blank=True)
    y = models.FloatField(null=True, blank=True)


class RegisterCount(models.Model):
    """Reported offences per area × quarter × offence (aggregated data, e.g. STRAF11)."""

    import_batch = models.ForeignKey("imports.ImportBatch", on_delete=models.CASCADE,
                                     related_name="counts")
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    quarter = models.CharField(_("quarter"), max_length=6)
    offence = models.CharField(_("offence code"), max_length=60)
    count = models.IntegerField(_("count"))

    class Meta:
        indexes = [models.Index(fields=["quarter"])]
