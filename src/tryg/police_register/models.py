"""Register data. Records are sensitive (analysts only); counts feed the index.

Both tables are written in bulk by :mod:`tryg.police_register.bulk` (millions of rows per
import, in one transaction), so they carry only what is needed and few indexes: every index is
maintained row by row during the write. The foreign keys to the import batch and to the area have no
database constraint (``db_constraint=False``): a constraint is checked per inserted row (and
on PostgreSQL queued as one trigger event per row until commit), which doubles the cost of an
import. The importer itself guarantees them instead: it creates the batch in the same
transaction and only writes area ids it has just read from ``areas_area``. Django still
enforces ``on_delete`` (a batch deleted takes its rows with it; an area with register rows
cannot be deleted through the ORM).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegisterRecord(models.Model):
    """One reported offence from a police extract, placed in its finest area.

    ``area`` is empty for a record outside every stored area or without a location: it is kept
    (and counted in the import's report) rather than dropped. ``lon``/``lat`` are WGS84,
    whatever the file's coordinate system was. The quarter is the date's; no column holds it.
    There is no index on ``area``: the index reads :class:`RegisterCount`, and an index
    maintained over millions of randomly ordered area ids is the most expensive part of a
    bulk write.
    """

    import_batch = models.ForeignKey("imports.ImportBatch", on_delete=models.CASCADE,
                                     related_name="records", db_constraint=False)
    line = models.IntegerField(_("line in the file"))
    date = models.DateField(_("date"))
    offence = models.CharField(_("offence code"), max_length=200)
    area = models.ForeignKey("areas.Area", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", db_constraint=False, db_index=False)
    lon = models.FloatField(_("longitude (WGS84)"), null=True, blank=True)
    lat = models.FloatField(_("latitude (WGS84)"), null=True, blank=True)

    class Meta:
        verbose_name = _("register record")
        verbose_name_plural = _("register records")


class RegisterCount(models.Model):
    """Reported offences per area × quarter × offence.

    From an aggregated file (counts, STRAF11) as given; from a record-level extract, the
    records with an area counted per area × quarter × offence in the same import, so the index
    reads this table only. A combination without a row has a count of 0.
    """

    import_batch = models.ForeignKey("imports.ImportBatch", on_delete=models.CASCADE,
                                     related_name="counts", db_constraint=False)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+",
                             db_constraint=False)
    quarter = models.CharField(_("quarter"), max_length=6)
    offence = models.CharField(_("offence code"), max_length=200)
    count = models.IntegerField(_("count"))
    line = models.IntegerField(_("first line in the file"), null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["quarter"])]
        verbose_name = _("register count")
        verbose_name_plural = _("register counts")
