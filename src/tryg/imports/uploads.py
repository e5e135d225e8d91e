"""Django upload handlers: a size limit, and temporary files in the process's upload folder.

``FILE_UPLOAD_HANDLERS`` puts :class:`UploadLimitHandler` first: it counts each file's bytes
as they arrive and stops the upload once a file passes ``TRYG_MAX_UPLOAD_MB``, before the rest
is stored (the upload view refuses a request whose declared length is already too large
without reading it at all). :class:`ProcessTemporaryUploadHandler` stores a large upload in
this process's folder under the data folder (:mod:`tryg.imports.tempfiles`) instead of the
system's temporary folder, so that what a killed server leaves behind is found and removed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import (
    FileUploadHandler,
    StopUpload,
    TemporaryFileUploadHandler,
)
from django.http import HttpRequest

from tryg.imports.tempfiles import process_folder

MIB = 1 << 20
#: Room for the form's other fields and the multipart framing around the file.
FORM_OVERHEAD = MIB
REFUSED = "_tryg_upload_refused"


def max_upload_bytes() -> int:
    return int(settings.TRYG_MAX_UPLOAD_MB) * MIB


def upload_folder() -> Path:
    """This process's folder for uploads being checked."""
    return process_folder(Path(settings.FILE_UPLOAD_TEMP_DIR))


#: The longest name (in bytes) an upload is saved under while it is checked.
MAX_NAME_BYTES = 150
#: A longer "suffix" is part of the name, not a file type.
MAX_SUFFIX_BYTES = 16


def local_name(name: str | None, default: str = "upload") -> str:
    """The name an upload is saved under while it is checked: its own (the readers tell the
    format by its suffix), without characters no file name holds, and short enough for the
    file system. Django shortens a name to 255 characters, but a file system allows 255
    bytes, and "æ" is two of them: the full name would fail as a server error."""
    base = "".join(ch for ch in Path(name or "").name if ch.isprintable() and ch not in "/\\")
    stem, suffix = os.path.splitext(base)
    if len(suffix.encode()) > MAX_SUFFIX_BYTES:
        stem, suffix = base, ""
    while stem and len((stem + suffix).encode()) > MAX_NAME_BYTES:
        stem = stem[:-1]
    shortened = stem + suffix
    return shortened if shortened.strip(".") else default


def declared_too_large(request: HttpRequest) -> bool:
    """The request says (Content-Length) it is larger than any allowed upload and its form."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > max_upload_bytes() + FORM_OVERHEAD


def upload_refused(request: HttpRequest) -> bool:
    """An upload handler stopped this request's upload for its size."""
    return bool(getattr(request, REFUSED, False))


class UploadLimitHandler(FileUploadHandler):
    """Stops the upload as soon as a file passes the limit; what was stored is removed by the
    next handler (Django closes, and so deletes, the partial temporary file)."""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > max_upload_bytes():
            if self.request is not None:
                setattr(self.request, REFUSED, True)
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


class _ProcessTemporaryUploadedFile(TemporaryUploadedFile):
    def __init__(self, name: str, content_type: str, size: int, charset: str | None,
                 content_type_extra: dict[str, bytes] | None = None) -> None:
        _, ext = os.path.splitext(local_name(name))
        file = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed, and deleted, by Django)
            suffix=".upload" + ext, dir=upload_folder())
        UploadedFile.__init__(self, file, name, content_type, size, charset,
                              content_type_extra)


class ProcessTemporaryUploadHandler(TemporaryFileUploadHandler):
    """Django's handler for large uploads, writing into this process's upload folder."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        FileUploadHandler.new_file(self, *args, **kwargs)
        self.file = _ProcessTemporaryUploadedFile(
            self.file_name or "upload", self.content_type or "", 0, self.charset,
            self.content_type_extra)
