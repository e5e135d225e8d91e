"""The site's logging (``LOGGING`` in tryg.site.settings): a 403 is one warning line.

Django logs a ``PermissionDenied`` on ``django.request`` as "Forbidden (Permission denied)"
with the exception's traceback; a refused page is an expected answer, so the site keeps the
warning and drops the traceback. Other errors keep theirs."""

from __future__ import annotations

import logging
import sys

import pytest
from django.test import Client

from tryg.accounts.models import Role, User
from tryg.site.logs import ForbiddenWithoutTraceback

pytestmark = pytest.mark.django_db


def _request_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "django.request"]


def test_a_403_is_logged_as_one_warning_line_without_a_traceback(
        caplog: pytest.LogCaptureFixture) -> None:
    client = Client()
    client.force_login(User.objects.create_user("walker-log", role=Role.WALKER))
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/analyse/import/")
    assert response.status_code == 403
    (record,) = _request_records(caplog)
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "Forbidden (Permission denied): /analyse/import/"
    assert record.exc_info is None and record.exc_text is None
    assert caplog.text.count("\n") == 1 and "Traceback" not in caplog.text


def test_only_a_403_loses_its_traceback() -> None:
    """The filter drops exc_info for a 403 only."""
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        info = sys.exc_info()
    for status, kept in ((403, False), (500, True), (None, True)):
        record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "x", None,
                                   info)
        if status is not None:
            record.status_code = status
        assert ForbiddenWithoutTraceback().filter(record)
        assert (record.exc_info is not None) is kept, status
