"""Logging filters of the site (used by ``LOGGING`` in :mod:`tryg.site.settings`)."""

from __future__ import annotations

import logging


class ForbiddenWithoutTraceback(logging.Filter):
    """Keep ``django.request``'s warning for a 403 on one line: drop its traceback.

    Django logs every ``PermissionDenied`` as "Forbidden (Permission denied): /path" with the
    exception's traceback; a 403 is an expected answer (a partner opening another
    organisation's page, a stale form), and a traceback per 403 buries the real errors in the
    log. The record itself, level WARNING, is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
