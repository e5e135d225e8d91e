"""What every import shares: the checksum, the report, and the one-transaction rule.

An import reads and validates the whole file first (through :mod:`tryg.readers`), and only
then opens one database transaction that writes the :class:`~tryg.imports.models.ImportBatch`,
its rows and an audit event. A failure at any point, a validation error or a killed process,
leaves the database as it was: SQLite and PostgreSQL both roll back an unfinished transaction.

The same file (by SHA-256 of its bytes) imported again with the same kind is recognised and
nothing is written; the report says so (``duplicate=True``). The batch row is the claim on the
file: a unique constraint allows one current import per kind and checksum, so of two imports
of one file racing (two uploads, two ``tryg import`` at once) the second's INSERT fails, on
PostgreSQL after waiting for the first to commit, on SQLite after its ``BEGIN IMMEDIATE``
waited, and that import reports the first as the duplicate, having written nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from tryg.accounts.models import AuditEvent, audit
from tryg.imports.models import ImportBatch
from tryg.imports.problems import as_data, text
from tryg.index.inputs import InputError, Problem
from tryg.index.inputs import mark as _
from tryg.readers import ReadReport
from tryg.readers.limits import Limits


def read_limits() -> Limits:
    """The site's limits on one file (``TRYG_MAX_ROWS``, ``TRYG_MAX_UNPACKED_MB``)."""
    return Limits.from_megabytes(max_rows=int(settings.TRYG_MAX_ROWS),
                                 max_unpacked_mb=int(settings.TRYG_MAX_UNPACKED_MB))


def checksum(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def demo_statement(path: str | Path, sha256: str) -> str | None:
    """The fictional statement of ``tryg demo-data`` when ``path`` is one of its files,
    unchanged: the ``manifest.json`` beside it carries the generator's statement and lists
    the file with this checksum. Stored with the import (``options["fictional"]``), so the
    public pages can say that what they show is made up."""
    import json

    from tryg.demo.files import MANIFEST
    from tryg.demo.model import STATEMENT

    file = Path(path)
    try:
        manifest = json.loads((file.parent / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("statement") != STATEMENT:
        return None
    listed = {(str(f.get("name")), str(f.get("sha256")))
              for f in manifest.get("files", ()) if isinstance(f, dict)}
    return STATEMENT if (file.name, sha256) in listed else None


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
    warnings: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    #: earlier import → how many of its rows this one replaced (deleted)
    replaced: dict[int, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON data (the batch's record and the audit log): problems as
        English lines; the warnings also as data (``warning_data``), which the import's page
        shows in the reader's language."""
        data = asdict(self)
        data["errors"] = [str(p) for p in self.errors]
        data["warnings"] = [text(w) for w in self.warnings]
        data["warning_data"] = [as_data(self._named(w)) for w in self.warnings]
        return data

    def _named(self, problem: Problem) -> Problem:
        """``problem`` naming the file by its name, not by the path it was read from (an
        upload's temporary path says nothing to the analyst and tells the server's folders)."""
        if problem.source and problem.source != self.file and \
                Path(problem.source).name == self.file:
            return replace(problem, source=self.file)
        return problem

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
                *(f"  replaced {n:,} row(s) of import #{b}" for b, n in self.replaced.items()),
                *(f"  warning: {text(w)}" for w in self.warnings)]


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


class DuplicateImportError(Exception):
    """The file is already imported: a current import of its kind holds its checksum."""

    def __init__(self, batch_id: int | None) -> None:
        super().__init__(batch_id)
        self.batch_id = batch_id


@contextmanager
def batch(kind: str, path: str | Path, sha256: str, *, user: Any = None,
          options: dict[str, Any] | None = None, rows: int = 0) -> Iterator[ImportBatch]:
    """One transaction holding a new ImportBatch; write the rows inside the ``with``.

    The batch is written first: it claims the checksum (see the module docstring), and
    :class:`DuplicateImportError` (naming the import holding it) is raised when another
    import holds it, before anything else is written. On leaving normally the import is
    audited and committed; on any exception everything, the batch included, is rolled back.
    A file of ``tryg demo-data`` is marked fictional (:func:`demo_statement`).
    """
    statement = demo_statement(path, sha256) if sha256 else None
    if statement is not None:
        options = {**(options or {}), "fictional": statement}
    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint: the claim may fail
                record = ImportBatch.objects.create(
                    kind=kind, file_name=Path(path).name, sha256=sha256,
                    options=options or {}, rows=rows,
                    imported_by=user if getattr(user, "is_authenticated", False) else None)
        except IntegrityError:
            holder = find_duplicate(kind, sha256)  # committed: the INSERT waited for it
            raise DuplicateImportError(holder.pk if holder else None) from None
        yield record
        record.save()
        audit(AuditEvent.Action.IMPORT, f"{kind}: {record.file_name}", actor=user,
              batch=record.pk, sha256=sha256, report=record.report,
              replaced=record.report.get("replaced") or {})


Importer = Callable[..., ImportReport]


# --- The shared import procedure -----------------------------------------------------------

T = TypeVar("T")
V = TypeVar("V")

#: Rows per INSERT: small enough for SQLite's variable limit with a dozen columns.
CHUNK = 1000

Progress = Callable[[str, int, int], None]
"""Called after each chunk written: (what, rows written so far, rows to write)."""


@dataclass(frozen=True)
class Outcome:
    """What a write step did: rows created per table, and warnings found while writing."""

    created: dict[str, int]
    warnings: list[Problem] = field(default_factory=list)
    #: earlier import → how many of its rows were replaced (deleted)
    replaced: dict[int, int] = field(default_factory=dict)


def run_import(
    kind: str,
    path: str | Path,
    *,
    read: Callable[[], tuple[T, ReadReport]],
    write: Callable[[ImportBatch, T], Outcome],
    user: Any = None,
    options: dict[str, Any] | None = None,
    replace_same: Callable[[ImportBatch], int] | None = None,
) -> ImportReport:
    """The procedure every import follows.

    1. checksum; a current import of the same kind and checksum means nothing to do, unless
       ``replace_same`` is given;
    2. ``read()``: the reader validates the whole file (``InputError`` → failed report);
    3. one transaction: with ``replace_same``, each current import of the same file is
       marked replaced and ``replace_same(earlier)`` deletes its rows (returning how many);
       then :func:`batch` claims the checksum (two imports racing: the second reports the
       duplicate) and ``write(batch, data)`` checks the data against the database (unknown
       area codes, existing waves; ``InputError`` → everything rolled back, failed report)
       and writes the rows.
    """
    name = Path(path).name
    try:
        sha = checksum(path)
    except OSError as exc:
        problem = Problem.of(str(path), None, None, _("cannot read the file: %(error)s"),
                             error=str(exc.strerror or exc))
        return failed(kind, path, "", InputError([problem]), user=user)
    earlier = find_duplicate(kind, sha)
    if earlier is not None and replace_same is None:
        return ImportReport(kind, name, sha, ok=True, duplicate=True, batch_id=earlier.pk)
    try:
        data, read_report = read()
    except InputError as exc:
        return failed(kind, path, sha, exc, user=user)
    try:
        with transaction.atomic():
            replaced: dict[int, int] = {}
            if replace_same is not None:
                for old in (ImportBatch.objects.select_for_update()
                            .filter(kind=kind, sha256=sha, replaced_at__isnull=True)):
                    replaced[old.pk] = replace_same(old)
                    ImportBatch.objects.filter(pk=old.pk).update(replaced_at=timezone.now())
            with batch(kind, path, sha, user=user, options=options,
                       rows=read_report.rows_read) as record:
                outcome = write(record, data)
                for old_id, n in outcome.replaced.items():
                    replaced[old_id] = replaced.get(old_id, 0) + n
                report = ImportReport(
                    kind, name, sha, ok=True, batch_id=record.pk,
                    rows_read=read_report.rows_read, created=outcome.created,
                    warnings=[*read_report.warnings, *outcome.warnings],
                    replaced=replaced)
                record.report = report.as_dict()
    except DuplicateImportError as dup:
        return ImportReport(kind, name, sha, ok=True, duplicate=True, batch_id=dup.batch_id)
    except InputError as exc:
        return failed(kind, path, sha, exc, user=user)
    return report


def insert_rows(model: type[models.Model], rows: Sequence[models.Model], *, what: str,
                progress: Progress | None = None) -> int:
    """``bulk_create`` in chunks (inside the caller's transaction), reporting progress."""
    done = 0
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        model._default_manager.bulk_create(chunk, batch_size=CHUNK)
        done += len(chunk)
        if progress is not None:
            progress(what, done, len(rows))
    return done


def retire_emptied(batch_ids: Iterable[int | None], related: str) -> int:
    """Mark earlier batches replaced once none of their rows (``related`` name) remain, so
    the same file may be imported again later. Returns how many were retired."""
    ids = {b for b in batch_ids if b is not None}
    if not ids:
        return 0
    emptied = (ImportBatch.objects.filter(pk__in=ids, replaced_at__isnull=True)
               .annotate(left=models.Count(related)).filter(left=0))
    return ImportBatch.objects.filter(pk__in=[b.pk for b in emptied]).update(
        replaced_at=timezone.now())


def chunked(values: Sequence[V], size: int = 500) -> Iterator[Sequence[V]]:
    """Slices of ``values`` (for ``__in`` lookups that must stay under SQL variable limits)."""
    for start in range(0, len(values), size):
        yield values[start:start + size]
