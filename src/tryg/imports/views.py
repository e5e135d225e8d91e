"""Upload pages for analysts: a file in, the same import as ``tryg import``, its report out.

Thin: the form is checked, the upload is saved under its own name in a temporary folder (the
readers tell formats apart by the suffix, and the report names the file), and the import
function of its kind does everything else.
"""

from __future__ import annotations

import dataclasses
import importlib
import tempfile
from pathlib import Path
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from tryg.accounts.roles import can_import
from tryg.imports.base import ImportReport
from tryg.imports.forms import UploadForm
from tryg.imports.models import ImportBatch

IMPORTERS = {
    ImportBatch.Kind.AREAS: "tryg.imports.areas:import_areas",
    ImportBatch.Kind.POPULATION: "tryg.imports.population:import_population",
    ImportBatch.Kind.SURVEY: "tryg.imports.survey:import_survey",
    ImportBatch.Kind.REGISTER: "tryg.imports.register:import_register",
}
RECENT = 50


def _allowed(request: HttpRequest) -> HttpResponse | None:
    """A log-in redirect for the anonymous; 403 for those who may not import."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not can_import(request.user):
        raise PermissionDenied
    return None


def upload(request: HttpRequest) -> HttpResponse:
    refused = _allowed(request)
    if refused is not None:
        return refused
    report: ImportReport | None = None
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                report = _run(form.cleaned_data["kind"], form.cleaned_data["file"],
                              request.user, form.options())
            except ImportError:
                form.add_error("kind", _("This kind of import is not available yet."))
    else:
        form = UploadForm()
    batches = ImportBatch.objects.select_related("imported_by")[:RECENT]
    return render(request, "tryg/imports/upload.html",
                  {"form": form, "report": report, "batches": batches})


def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    refused = _allowed(request)
    if refused is not None:
        return refused
    record = get_object_or_404(ImportBatch.objects.select_related("imported_by"), pk=batch_id)
    return render(request, "tryg/imports/batch.html", {"batch": record,
                                                        "report": record.report or {}})


def _run(kind: str, upload: UploadedFile[bytes], user: Any,
         options: dict[str, Any]) -> ImportReport:
    module, _sep, function = IMPORTERS[ImportBatch.Kind(kind)].partition(":")
    importer = getattr(importlib.import_module(module), function)
    name = Path(upload.name or "upload").name or "upload"
    with tempfile.TemporaryDirectory(prefix="tryg-upload-") as folder:
        path = Path(folder) / name
        with path.open("wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        report: ImportReport = importer(path, user=user, **options)
    # Problems name the temporary path; the analyst knows the file by its own name.
    errors = [dataclasses.replace(p, source=name) if p.source == str(path) else p
              for p in report.errors]
    return dataclasses.replace(report, errors=errors,
                               warnings=[w.replace(str(path), name) for w in report.warnings])

