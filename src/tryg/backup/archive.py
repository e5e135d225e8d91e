"""One archive holding the database and the stored files, with a manifest to check both.

The archive is a gzip'd tar:

* ``manifest.json``: the format, when and from what kind of database it was made, the row
  count and checksum of every table (:mod:`tryg.backup.tables`) and the SHA-256 of every file;
* ``database.sqlite3`` (SQLite's online backup API, ``sqlite3.Connection.backup``: a
  consistent copy while the site keeps running) or ``database.pgdump`` (``pg_dump -Fc``, taken
  in the same snapshot the checksums were read in, through ``pg_export_snapshot``);
* ``files/…``: every file of the default storage (uploads, exports, reports; not the upload
  check's temporary folder).

:func:`restore` puts an archive into an empty installation of the same kind of database
(``pg_restore`` or SQLite's backup API the other way), writes the files through the storage
API, and compares every table and file with the manifest: a restore that does not give the
same data is reported as failed, never taken for a good one, and leaves the installation as
it was (:mod:`tryg.backup.database`).
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import sqlite3
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import Storage, default_storage
from django.db import connection, connections

from tryg.backup.database import database_name, mismatch, put_in_place, snapshot
from tryg.backup.errors import BackupError
from tryg.backup.tables import TableSum, postgres_sums, sqlite_sums

FORMAT = "tryg-backup/1"
#: Tables ``migrate`` fills by itself: an installation with rows only there is still empty.
_SCHEMA_TABLES = {"django_migrations", "django_content_type", "auth_permission"}
#: The folder of the default storage that holds uploads being checked (never backed up).
_SKIPPED_FOLDERS = {"tmp"}


@dataclass(frozen=True)
class Manifest:
    vendor: str
    created: str
    tables: dict[str, TableSum]
    files: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "vendor": self.vendor, "created": self.created,
                "tables": {k: v.as_dict() for k, v in sorted(self.tables.items())},
                "files": dict(sorted(self.files.items()))}

    @classmethod
    def from_dict(cls, data: Any) -> Manifest:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            found = data.get("format") if isinstance(data, dict) else None
            raise BackupError(f"not a tryg backup (format {found!r}, expected {FORMAT!r})")
        try:
            return cls(str(data["vendor"]), str(data["created"]),
                       {str(k): TableSum(int(v["rows"]), str(v["sha256"]))
                        for k, v in data["tables"].items()},
                       {str(k): str(v) for k, v in data["files"].items()})
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BackupError(f"the manifest is damaged ({type(exc).__name__}: {exc})"
                              ) from None


def stored_files(storage: Storage = default_storage, folder: str = "") -> Iterator[str]:
    """The names of every file in ``storage`` (the upload check's temporary folder left out)."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for name in sorted(folders):
        if not folder and name in _SKIPPED_FOLDERS:
            continue
        yield from stored_files(storage, f"{folder}/{name}" if folder else name)


def _sha256(stream: Any) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def backup(target: Path, *, now: datetime.datetime | None = None) -> Manifest:
    """Write the archive of this installation to ``target`` (atomically: a temporary file
    renamed into place)."""
    created = (now or datetime.datetime.now(datetime.UTC)).isoformat()
    target = target.resolve()
    if not target.parent.is_dir():  # said before the database is copied, not as a traceback
        raise BackupError(f"cannot write {target}: the folder {target.parent} does not exist")
    partial = target.with_name(f".{target.name}.partial")
    try:
        return _write(target, partial, created)
    except OSError as exc:  # a full disk, a folder without write permission
        partial.unlink(missing_ok=True)
        raise BackupError(f"cannot write {target}: {exc.strerror or exc}") from exc


def _write(target: Path, partial: Path, created: str) -> Manifest:
    with tempfile.TemporaryDirectory(prefix="tryg-backup-") as tmp:
        database, sums = snapshot(Path(tmp))
        files = {}
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(database, arcname=database.name)
            for name in stored_files():
                with default_storage.open(name, "rb") as stream:
                    data = stream.read()
                files[name] = hashlib.sha256(data).hexdigest()
                info = tarfile.TarInfo(f"files/{name}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            manifest = Manifest(connection.vendor, created, sums, files)
            text = json.dumps(manifest.as_dict(), indent=1).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(text)
            tar.addfile(info, io.BytesIO(text))
        partial.replace(target)
    return manifest


#: What a damaged or foreign archive raises while it is read (gzip and zlib errors are
#: OSError and zlib.error; a missing member is a KeyError).
_UNREADABLE = (tarfile.TarError, OSError, EOFError, zlib.error, KeyError, ValueError)
#: The first bytes of each kind of database file.
_MAGIC = {"database.sqlite3": b"SQLite format 3\x00", "database.pgdump": b"PGDMP"}


def read_manifest(source: Path) -> Manifest:
    try:
        with tarfile.open(source, "r:gz") as tar:
            member = tar.extractfile("manifest.json")
            if member is None:
                raise BackupError(f"{source}: no manifest.json")
            data = json.load(member)
    except BackupError:
        raise
    except _UNREADABLE as exc:
        raise BackupError(f"{source} is not a readable tryg backup (a .tar.gz written by "
                          f"tryg backup): {type(exc).__name__}: {exc}") from None
    try:
        return Manifest.from_dict(data)
    except BackupError as exc:
        raise BackupError(f"{source}: {exc}") from None


def _check_members(source: Path, manifest: Manifest) -> None:
    """Before anything is written: the archive holds the database (the right kind of file)
    and exactly the files its manifest lists, with their checksums, under names the storage
    keeps inside itself.
    A damaged or crafted archive is refused here, not half-way through the restore."""
    name = database_name()
    files: set[str] = set()
    changed: list[str] = []
    try:
        with tarfile.open(source, "r:gz") as tar:
            database = None
            for member in tar.getmembers():
                if member.name == name:
                    database = member
                elif member.isfile() and member.name.startswith("files/"):
                    stored = member.name.removeprefix("files/")
                    parts = stored.split("/")
                    if stored.startswith("/") or "" in parts or ".." in parts or "." in parts:
                        raise BackupError(f"{source}: the file name {member.name!r} leads "
                                          "outside the stored files")
                    files.add(stored)
                    digest = manifest.files.get(stored)
                    stream = tar.extractfile(member)
                    if digest is not None and stream is not None and _sha256(stream) != digest:
                        changed.append(f"file {stored}: differs from the backup")
            if database is None or not database.isfile():
                raise BackupError(f"{source}: the archive holds no {name}")
            stream = tar.extractfile(database)
            head = stream.read(len(_MAGIC[name])) if stream is not None else b""
    except BackupError:
        raise
    except _UNREADABLE as exc:
        raise BackupError(f"{source} is damaged: {type(exc).__name__}: {exc}") from None
    if head != _MAGIC[name]:
        raise BackupError(f"{source}: {name} is not a {connection.vendor} database file")
    if files != set(manifest.files):
        missing, extra = sorted(set(manifest.files) - files), sorted(files - set(manifest.files))
        raise BackupError(f"{source}: the files do not match the manifest (missing: "
                          f"{missing[:5]}, not listed: {extra[:5]})")
    if changed:
        raise BackupError(f"{mismatch(changed)}; {_NOTHING_RESTORED}")


def current_sums() -> dict[str, TableSum]:
    """The sums of every table of this installation's database now."""
    if connection.vendor == "sqlite":
        db = sqlite3.connect(str(settings.DATABASES["default"]["NAME"]))
        try:
            return sqlite_sums(db.cursor())
        finally:
            db.close()
    with connection.cursor() as cursor:
        return postgres_sums(cursor)


def _refuse_unless_empty() -> None:
    busy = {name: s.rows for name, s in current_sums().items()
            if s.rows and name not in _SCHEMA_TABLES}
    if busy:
        shown = ", ".join(f"{k} ({v} rows)" for k, v in sorted(busy.items())[:5])
        raise BackupError("a backup is restored into an empty installation only; this one "
                          f"holds data: {shown}")
    if any(True for _ in stored_files()):
        raise BackupError("a backup is restored into an empty installation only; this one "
                          "has stored files")


def restore(source: Path) -> Manifest:
    """Restore the archive ``source`` into this (empty) installation and check the result
    against its manifest; :class:`BackupError` when anything differs, and then the
    installation is as it was: its database is replaced only by one whose tables match
    (:func:`tryg.backup.database.put_in_place`), and the files written are removed again."""
    manifest = read_manifest(source)
    if manifest.vendor != connection.vendor:
        raise BackupError(f"{source} holds a {manifest.vendor} database; this installation "
                          f"uses {connection.vendor} (restore into the same kind)")
    _refuse_unless_empty()
    _check_members(source, manifest)
    written: list[str] = []
    with tempfile.TemporaryDirectory(prefix="tryg-restore-") as tmp, \
            tarfile.open(source, "r:gz") as tar:
        name = database_name()
        tar.extract(name, tmp, filter="data")
        connections.close_all()

        def put_files() -> None:
            _write_files(tar, written)
            problems = _file_problems(manifest)
            if problems:
                raise mismatch(problems)

        try:
            put_in_place(Path(tmp) / name, manifest.tables, then=put_files)
        except BaseException as exc:
            for stored in written:
                default_storage.delete(stored)
            if isinstance(exc, BackupError):
                raise BackupError(f"{exc}; {_NOTHING_RESTORED}") from None
            raise
    return manifest


_NOTHING_RESTORED = "nothing was restored, the site is as it was"


def _write_files(tar: tarfile.TarFile, written: list[str]) -> None:
    """The archive's files into the storage; ``written`` gets each name as it is stored."""
    for member in tar.getmembers():
        if not member.isfile() or not member.name.startswith("files/"):
            continue
        stored = member.name.removeprefix("files/")
        stream = tar.extractfile(member)
        assert stream is not None
        saved = default_storage.save(stored, File(stream, name=stored))
        written.append(saved)
        if saved != stored:
            raise BackupError(f"file {stored} was stored as {saved}")


def _file_problems(manifest: Manifest) -> list[str]:
    problems = []
    for name, digest in sorted(manifest.files.items()):
        if not default_storage.exists(name):
            problems.append(f"file {name}: missing after the restore")
            continue
        with default_storage.open(name, "rb") as stream:
            if _sha256(stream) != digest:
                problems.append(f"file {name}: differs from the backup")
    return problems
