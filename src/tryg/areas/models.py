"""Areas, their parents over time, boundaries and population.

Geometry is stored as GeoJSON text in WGS84 so the same schema works on SQLite and on
PostgreSQL without PostGIS; the pure core (:mod:`tryg.geo`) does the geometry.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Area(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    level = models.CharField(_("level"), max_length=40, db_index=True)
    geometry = models.TextField(_("boundary (GeoJSON, WGS84)"), blank=True)
    import_batch = models.ForeignKey("imports.ImportBatch", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="areas")

    class Meta:
        ordering = ["level", "code"]
        verbose_name = _("area")
        verbose_name_plural = _("areas")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class AreaLink(models.Model):
    """A parent of an area during [valid_from, valid_to] (years; empty = open)."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="parent_links")
    parent = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="child_links")
    valid_from = models.IntegerField(_("valid from"), null=True, blank=True)
    valid_to = models.IntegerField(_("valid to"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["area", "parent", "valid_from"], name="unique_area_parent_from")]


class Population(models.Model):
    """Residents of an area in a year, optionally per sex × age group (calibration cells)."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="population")
    year = models.IntegerField(_("year"))
    sex = models.CharField(_("sex"), max_length=20, blank=True)
    age_group = models.CharField(_("age group"), max_length=20, blank=True)
    population = models.FloatField(_("population"))
    import_batch = models.ForeignKey("imports.ImportBatch", on_delete=models.CASCADE,
                                     related_name="population")

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["area", "year", "sex", "age_group"], name="unique_population_cell")]
        indexes = [models.Index(fields=["year"])]
