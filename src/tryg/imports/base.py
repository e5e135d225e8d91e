"""What every import shares: the checksum, the report, and the one-transaction rule.

An import reads and validates the whole file first (through :mod:`tryg.readers`), and only
then opens one database transaction that writes the :class:`~tryg.imports.models.ImportBatch`,
its rows and an audit event. A failure at any point, a validation error or a killed process,
leaves the database as it was: SQLite and PostgreSQL both roll back an unfinished transaction.

The same file (by SHA-256 of its bytes) imported again with the same kind is recognised and
nothing is written; the report says so (``duplicate=True``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from tryg.accounts.models import AuditEvent, audit
from tryg.imports.models import ImportBatch
from tryg.index.inputs import InputError, Problem


def checksum(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ImportReport:
    """The outcome of one import, for the CLI, the upload page and the audit log."""

    kind: str
    file: str
    sha256: str
    ok: bool
    duplicate: bool = False
    batch_id: int | None = None
    rows_read: int = 0
    created: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["errors"] = [str(p) for p in self.errors]
        return data

    def lines(self) -> list[str]:
        """The report as text lines (CLI output)."""
        if self.duplicate:
            return [f"{self.file}: already imported (import #{self.batch_id}, same SHA-256); "
                    "nothing written"]
        if not self.ok:
            return [f"{self.file}: {len(self.errors)} error(s); nothing written",
                    *(f"  {p}" for p in self.errors)]
        made = ", ".join(f"{n:,} {what}" for what, n in self.created.items())
        return [f"{self.file}: imported as #{self.batch_id}: {made} "
                f"({self.rows_read:,} rows read)",
                *(f"  warning: {w}" for w in self.warnings)]


def find_duplicate(kind: str, sha256: str) -> ImportBatch | None:
    """A current (not replaced) import of the same kind with the same checksum."""
    return (ImportBatch.objects.filter(kind=kind, sha256=sha256, replaced_at__isnull=True)
            .order_by("id").first())


def failed(kind: str, path: str | Path, sha256: str, error: InputError,
           *, user: Any = None) -> ImportReport:
    """The report of an import stopped by validation; the failure is audited, nothing else."""
    report = ImportReport(kind, Path(path).name, sha256, ok=False, errors=list(error.problems))
    with transaction.atomic():
        audit(AuditEvent.Action.IMPORT_FAILED, f"{kind}: {Path(path).name}", actor=user,
              errors=[str(p) for p in error.problems[:50]], sha256=sha256)
    return report


@contextmanager
def batch(kind: str, path: str | Path, sha256: str, *, user: Any = None,
          options: dict[str, Any] | None = None, rows: int = 0) -> Iterator[ImportBatch]:
    """One transaction holding a new ImportBatch; write the rows inside the ``with``.

    On leaving normally the import is audited and committed; on any exception everything,
    the batch included, is rolled back.
    """
    with transaction.atomic():
        record = ImportBatch.objects.create(
            kind=kind, file_name=Path(path).name, sha256=sha256, options=options or {},
            rows=rows, imported_by=user if getattr(user, "is_authenticated", False) else None)
        yield record
        record.save()
        audit(AuditEvent.Action.IMPORT, f"{kind}: {record.file_name}", actor=user,
              batch=record.pk, sha256=sha256, report=record.report)


Importer = Callable[..., ImportReport]
