"""Withdrawing an import: everything it wrote is deleted in one transaction, or nothing.

What an import wrote, by kind: a survey import its waves and their responses; a register
import its records and counts; a population import its figures; an areas import its areas
(with their parent links), but only when nothing else refers to them (answers, figures or
register data of other imports, or areas of other imports naming them as parent) — else the
withdrawal is refused with the reason, and nothing is deleted. The batch stays, marked
withdrawn (its checksum is released, so the file may be imported again), and an audit event
records who withdrew what. Index runs already made keep their stored results (a snapshot);
a new run is needed for the withdrawal to show.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tryg.accounts.models import AuditEvent, audit
from tryg.areas.models import Area, AreaLink, Population
from tryg.imports.models import ImportBatch
from tryg.police_register.models import RegisterCount, RegisterRecord
from tryg.surveys.models import Response, Wave


class WithdrawError(ValueError):
    """The import cannot be withdrawn; the message says why."""


def withdrawable(record: ImportBatch) -> str | None:
    """Why ``record`` cannot be withdrawn (``None``: it can)."""
    if record.withdrawn_at is not None:
        return _("Import #%(id)s is already withdrawn.") % {"id": record.pk}
    if record.replaced_at is not None:
        return _("Import #%(id)s was replaced by a later import; withdraw that one instead.") \
            % {"id": record.pk}
    if record.kind == ImportBatch.Kind.AREAS:
        return _areas_in_use(record)
    return None


def _areas_in_use(record: ImportBatch) -> str | None:
    areas = Area.objects.filter(import_batch=record)
    uses = [
        (_("survey answers"), Response.objects.filter(area__in=areas)),
        (_("population figures of other imports"),
         Population.objects.filter(area__in=areas).exclude(import_batch=record)),
        (_("register records"), RegisterRecord.objects.filter(area__in=areas)),
        (_("register counts"), RegisterCount.objects.filter(area__in=areas)),
        (_("areas of other imports (as their parent)"),
         AreaLink.objects.filter(parent__in=areas).exclude(area__import_batch=record)),
    ]
    found = [what for what, rows in uses if rows.exists()]
    if not found:
        return None
    return _("Import #%(id)s cannot be withdrawn: its areas are still used by %(uses)s. "
             "Withdraw those imports first.") % {"id": record.pk, "uses": ", ".join(found)}


def withdraw_import(record: ImportBatch, *, user: Any = None) -> dict[str, int]:
    """Delete what ``record`` wrote, mark it withdrawn and audit it; returns what was deleted
    (rows per kind). Raises :class:`WithdrawError` (nothing deleted) when it cannot be."""
    with transaction.atomic():
        record = ImportBatch.objects.select_for_update().get(pk=record.pk)
        reason = withdrawable(record)
        if reason is not None:
            raise WithdrawError(reason)
        deleted = _delete(record)
        now = timezone.now()
        record.withdrawn_at = now
        record.replaced_at = record.replaced_at or now
        record.record_count = 0
        record.save(update_fields=["withdrawn_at", "replaced_at", "record_count"])
        audit(AuditEvent.Action.IMPORT_WITHDRAWN, f"{record.kind}: {record.file_name}",
              actor=user, batch=record.pk, sha256=record.sha256, deleted=deleted)
    return deleted


def _delete(record: ImportBatch) -> dict[str, int]:
    kind = record.kind
    if kind == ImportBatch.Kind.SURVEY:
        waves = Wave.objects.filter(import_batch=record)
        responses = Response.objects.filter(wave__in=waves).delete()[0]
        return {"responses": responses, "waves": waves.delete()[0]}
    if kind == ImportBatch.Kind.REGISTER:
        return {"register records": RegisterRecord.objects.filter(import_batch=record)
                .delete()[0],
                "register counts": RegisterCount.objects.filter(import_batch=record)
                .delete()[0]}
    if kind == ImportBatch.Kind.POPULATION:
        return {"population figures": Population.objects.filter(import_batch=record)
                .delete()[0]}
    areas = Area.objects.filter(import_batch=record)
    links = AreaLink.objects.filter(Q(area__in=areas) | Q(parent__in=areas)).delete()[0]
    figures = Population.objects.filter(area__in=areas, import_batch=record).delete()[0]
    n = areas.count()
    Area.objects.filter(pk__in=list(areas.values_list("pk", flat=True))).delete()
    out = {"areas": n, "area links": links}
    if figures:
        out["population figures"] = figures
    return out
