"""What an upload or an import may cost: size, unpacked size and rows, refused with nothing
written; temporary files only in the data folder, and gone when the request ends."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from tryg.accounts.models import Role
from tryg.areas.models import Area
from tryg.cli.main import tryg
from tryg.imports.models import ImportBatch
from tryg.imports.register import import_register
from tryg.imports.survey import import_survey
from tryg.imports.uploads import ProcessTemporaryUploadHandler, upload_folder
from tryg.police_register.models import RegisterCount, RegisterRecord
from tryg.surveys.models import Response, Wave
from zipbombs import workbook, zeros

pytestmark = pytest.mark.django_db

URL = "/analyse/import/"
AREAS = b"code,name,level,parent\n0851,Aalborg,kommune,\nS1,Budolfi,sogn,0851\n"
MB = 1 << 20


def analyst(*, enforce_csrf_checks: bool = False) -> Client:
    user = get_user_model().objects.create_user("analyst", password="a long password 1",
                                                role=Role.ANALYST)
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    client.force_login(user)
    return client


def left_behind() -> list[Path]:
    """Files under the upload temporary folder (the lock files of live processes aside)."""
    base = Path(settings.FILE_UPLOAD_TEMP_DIR)
    return [p for p in base.rglob("*") if p.is_file() and not p.name.endswith(".lock")]


def nothing_written() -> bool:
    return not (ImportBatch.objects.exists() or Area.objects.exists()
                or Response.objects.exists() or Wave.objects.exists()
                or RegisterRecord.objects.exists() or RegisterCount.objects.exists())


@override_settings(TRYG_MAX_UPLOAD_MB=1)
def test_a_body_declared_too_large_is_refused_without_reading_it() -> None:
    """The declared length alone decides: the body here is 20 bytes of nonsense without a
    CSRF token, and reading past it would fail the test client; the answer is 413."""
    client = analyst(enforce_csrf_checks=True)
    response = client.generic("POST", URL, b"not a multipart body",
                              content_type="multipart/form-data; boundary=x",
                              CONTENT_LENGTH=str(3 * MB))
    assert response.status_code == 413
    html = response.content.decode()
    assert "larger than the limit of 1 MB" in html and "Nothing was stored" in html
    assert 'role="alert"' in html and 'enctype="multipart/form-data"' in html
    assert "At most 1 MB." in html  # the form says the limit before anyone tries
    danish = client.generic("POST", URL, b"", content_type="multipart/form-data; boundary=x",
                            CONTENT_LENGTH=str(3 * MB), HTTP_ACCEPT_LANGUAGE="da")
    assert danish.status_code == 413
    assert "Filen er større end grænsen på 1 MB" in danish.content.decode()
    assert "Højst 1 MB." in danish.content.decode()
    assert nothing_written() and not left_behind()


@override_settings(TRYG_MAX_UPLOAD_MB=1, FILE_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_file_growing_past_the_limit_is_stopped_and_its_part_removed() -> None:
    """Within the declared-length margin, the upload handler counts the bytes and stops."""
    client = analyst()
    big = AREAS + b"".join(b"S%07d,Sogn,sogn,0851\n" % i for i in range(70_000))
    assert MB < len(big) < 2 * MB
    response = client.post(URL, {"kind": "areas", "file": SimpleUploadedFile("a.csv", big)})
    assert response.status_code == 413
    assert "larger than the limit of 1 MB" in response.content.decode()
    assert nothing_written() and not left_behind()


def test_the_csrf_token_is_still_checked() -> None:
    client = analyst(enforce_csrf_checks=True)
    response = client.post(URL, {"kind": "areas", "file": SimpleUploadedFile("a.csv", AREAS)})
    assert response.status_code == 403 and nothing_written()


@override_settings(FILE_UPLOAD_MAX_MEMORY_SIZE=16)
def test_an_upload_waits_in_the_data_folder_and_is_gone_after_the_request() -> None:
    handler = ProcessTemporaryUploadHandler()
    handler.new_file("file", "areas.csv", "text/csv", 100)
    assert handler.file is not None
    stored = Path(handler.file.temporary_file_path())
    data_dir = Path(settings.BASE_DIR).resolve()
    assert stored.parent == upload_folder() and stored.is_relative_to(data_dir / "uploads")
    handler.file.close()
    assert not stored.exists()

    client = analyst()
    response = client.post(URL, {"kind": "areas", "file": SimpleUploadedFile("a.csv", AREAS)})
    assert response.status_code == 200 and Area.objects.count() == 2
    assert not left_behind()
    bad = client.post(URL, {"kind": "areas", "file": SimpleUploadedFile("b.csv", b"x\n1\n")})
    assert "nothing was stored" in bad.content.decode() and not left_behind()


@override_settings(FILE_UPLOAD_MAX_MEMORY_SIZE=16)
def test_a_large_upload_with_a_long_danish_name_waits_on_disk_too() -> None:
    """A large upload's temporary file keeps the name's suffix; a "suffix" of 200 "æ" (400
    bytes) is more than a file system allows in a name: the upload was a server error."""
    name = "omr." + "æ" * 200
    response = analyst().post(URL, {"kind": "areas", "file": SimpleUploadedFile(name, AREAS)})
    assert response.status_code == 200 and Area.objects.count() == 2
    assert not left_behind()


@override_settings(TRYG_MAX_ROWS=1)
def test_an_upload_with_too_many_rows_is_refused_and_nothing_written() -> None:
    client = analyst()
    response = client.post(URL, {"kind": "areas", "file": SimpleUploadedFile("a.csv", AREAS)})
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 error: nothing was stored." in html
    assert "<td>a.csv</td>" in html
    assert "at least 2 rows, more than the limit of 1 (TRYG_MAX_ROWS)" in html
    assert nothing_written() and not left_behind()


def test_an_xlsx_bomb_upload_is_refused_and_nothing_written(tmp_path: Path) -> None:
    bomb = workbook(tmp_path / "svar.xlsx", zeros("xl/worksheets/sheet1.xml"))
    client = analyst()
    response = client.post(URL, {"kind": "survey",
                                 "file": SimpleUploadedFile("svar.xlsx", bomb.read_bytes())})
    html = response.content.decode()
    assert response.status_code == 200 and "nothing was stored" in html
    assert "unpacks to 1,536.0 MB" in html and "TRYG_MAX_UNPACKED_MB" in html
    assert nothing_written() and not left_behind()


def test_imports_refuse_bombs_and_rows_over_the_limit(tmp_path: Path) -> None:
    bomb = workbook(tmp_path / "svar.xlsx", zeros("xl/worksheets/sheet1.xml"))
    report = import_survey(bomb)
    assert not report.ok and "unpacks to 1,536.0 MB" in str(report.errors[0])
    records = tmp_path / "records.csv"
    records.write_text("date,offence,area_code\n" +
                       "".join(f"2020-01-0{d},vold,0851\n" for d in range(1, 6)))
    with override_settings(TRYG_MAX_ROWS=4):
        report = import_register(records)
    assert not report.ok and "more than the limit of 4 (TRYG_MAX_ROWS)" in str(report.errors[0])
    assert nothing_written()


@override_settings(TRYG_MAX_ROWS=1)
def test_tryg_import_applies_the_limits(tmp_path: Path) -> None:
    path = tmp_path / "areas.csv"
    path.write_bytes(AREAS)
    result = CliRunner().invoke(tryg, ["import", "areas", str(path)], catch_exceptions=False)
    assert result.exit_code == 2
    assert "more than the limit of 1 (TRYG_MAX_ROWS)" in result.stderr
    assert nothing_written()
