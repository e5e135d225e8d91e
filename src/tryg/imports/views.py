"""Upload pages for analysts: a file in, the same import as ``tryg import``, its report out.

Thin: the form is checked, the upload is saved under its own name in a temporary folder (the
readers tell formats apart by the suffix, and the report names the file), and the import
function of its kind does everything else.

An upload larger than ``TRYG_MAX_UPLOAD_MB`` is refused with 413 and the page saying why. A
request that declares such a length is refused before its body is read: the view is exempt
from the CSRF middleware, which would otherwise read (and store) the whole body to find the
token first, and checks the token itself once the size is known to be allowed. A body that
grows past the limit anyway is stopped by :class:`tryg.imports.uploads.UploadLimitHandler`.
Temporary files live in this process's upload folder (:mod:`tryg.imports.tempfiles`) and
are removed when the request ends, whatever happened.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import tempfile
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from tryg.accounts.roles import can_import
from tryg.imports.base import ImportReport
from tryg.imports.forms import UploadForm
from tryg.imports.models import ImportBatch
from tryg.imports.problems import from_data, localized, located, number_text
from tryg.imports.uploads import (
    declared_too_large,
    local_name,
    max_upload_bytes,
    upload_folder,
    upload_refused,
)
from tryg.imports.withdraw import WithdrawError, withdraw_import, withdrawable
from tryg.index.inputs import Problem
from tryg.messages import Number

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


@csrf_exempt  # checked by _upload, once the body is known to be small enough to read
def upload(request: HttpRequest) -> HttpResponse:
    refused = _allowed(request)
    if refused is not None:
        return refused
    if request.method == "POST" and declared_too_large(request):
        return _too_large(request)
    return _upload(request)


@csrf_protect
def _upload(request: HttpRequest) -> HttpResponse:
    report: ImportReport | None = None
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if upload_refused(request):
            for name in request.FILES:
                for stored in request.FILES.getlist(name):
                    stored.close()
            return _too_large(request)
        if form.is_valid():
            try:
                report = _run(form.cleaned_data["kind"], form.cleaned_data["file"],
                              request.user, form.options())
            except ImportError:
                form.add_error("kind", _("This kind of import is not available yet."))
    else:
        form = UploadForm()
    return _page(request, form, report)


def _page(request: HttpRequest, form: UploadForm, report: ImportReport | None = None,
          refusal: str | None = None, status: int = 200) -> HttpResponse:
    batches = ImportBatch.objects.select_related("imported_by")[:RECENT]
    warnings = [located(w) for w in report.warnings] if report is not None else []
    return render(request, "tryg/imports/upload.html",
                  {"form": form, "report": report, "warnings": warnings, "batches": batches,
                   "refusal": refusal}, status=status)


def _too_large(request: HttpRequest) -> HttpResponse:
    """413 with the upload page saying why; nothing of the body was stored."""
    limit = number_text(Number(max_upload_bytes() >> 20))
    message = _("The file is larger than the limit of %(limit)s MB for an upload. Nothing "
                "was stored. (The limit is set with TRYG_MAX_UPLOAD_MB; a larger file can be "
                "imported with “tryg import” on the server.)") % {"limit": limit}
    return _page(request, UploadForm(), refusal=message, status=413)


def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    refused = _allowed(request)
    if refused is not None:
        return refused
    record = get_object_or_404(ImportBatch.objects.select_related("imported_by"), pk=batch_id)
    report = record.report or {}
    # an import stored before its warnings were kept as data has their English lines only
    warnings = [located(from_data(w))
                for w in report.get("warning_data", report.get("warnings", []))]
    return render(request, "tryg/imports/batch.html", {
        "batch": record, "report": report, "warnings": warnings,
        "refusal": withdrawable(record)})


@never_cache
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, batch_id: int) -> HttpResponse:
    """GET: the confirmation page; POST (CSRF-checked by the middleware): withdraw."""
    refused = _allowed(request)
    if refused is not None:
        return refused
    record = get_object_or_404(ImportBatch, pk=batch_id)
    if request.method == "POST":
        try:
            deleted = withdraw_import(record, user=request.user)
        except WithdrawError as exc:
            messages.error(request, str(exc))
        else:
            made = ", ".join(f"{n} {what}" for what, n in deleted.items())
            messages.success(request, _("Import #%(id)s is withdrawn; deleted: %(what)s. "
                                        "Published runs are unchanged: run the index again "
                                        "for the withdrawal to show.")
                             % {"id": record.pk, "what": made or "–"})
        return redirect(reverse("imports:batch", args=[record.pk]))
    return render(request, "tryg/imports/withdraw.html",
                  {"batch": record, "refusal": withdrawable(record)})


def _run(kind: str, upload: UploadedFile[bytes], user: Any,
         options: dict[str, Any]) -> ImportReport:
    module, _sep, function = IMPORTERS[ImportBatch.Kind(kind)].partition(":")
    importer = getattr(importlib.import_module(module), function)
    name = Path(upload.name or "upload").name or "upload"
    try:
        with tempfile.TemporaryDirectory(prefix="import-", dir=upload_folder()) as folder:
            path = Path(folder) / local_name(name)
            _save(upload, path)
            report: ImportReport = importer(path, user=user, **options)
    finally:
        upload.close()  # a large upload's temporary file goes now, not at the request's end
    # Problems name the temporary path; the analyst knows the file by its own name, and
    # reads them in the page's language.
    def shown(p: Problem) -> Problem:
        return localized(dataclasses.replace(p, source=name) if p.source == str(path) else p)

    return dataclasses.replace(report, errors=[shown(p) for p in report.errors],
                               warnings=[shown(w) for w in report.warnings])



def _save(upload: UploadedFile[bytes], path: Path) -> None:
    """The upload under ``path``: a second name for Django's temporary file when it has one
    (same folder, no copy), else its bytes written out."""
    temporary = getattr(upload, "temporary_file_path", None)
    if temporary is not None:
        try:
            os.link(temporary(), path)
            return
        except OSError:
            pass
    with path.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
