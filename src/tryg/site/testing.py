"""Settings for tryg's own test suite (``DJANGO_SETTINGS_MODULE`` in pyproject.toml).

The suite runs twice in CI: on SQLite (the embedded default), and with ``TRYG_TEST_DB=postgres``
the database tests again on PostgreSQL (``TRYG_TEST_POSTGRES_URL``, default the local server's
``test`` database; Django creates and drops ``test_test`` beside it).
"""

import os
import tempfile

_db = os.environ.get("TRYG_TEST_DB", "sqlite").strip().lower()
if _db not in ("sqlite", "postgres"):
    raise ValueError(f"TRYG_TEST_DB must be sqlite or postgres, not {_db!r}")
os.environ["TRYG_DATA_DIR"] = tempfile.mkdtemp(prefix="tryg-test-")
os.environ.setdefault("TRYG_SECRET_KEY", "tryg-tests-only-not-a-secret")
os.environ["TRYG_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
# Tests read English page text unless they ask for Danish (the product's default, tested in
# tests/site/test_translations.py with LANGUAGE_CODE = "da").
os.environ["TRYG_LANGUAGE"] = "en"
if _db == "postgres":
    os.environ["DATABASE_URL"] = os.environ.get(
        "TRYG_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
else:
    os.environ["DATABASE_URL"] = ""

from tryg.site.settings import *  # noqa: E402, F403

TEST_DATABASE = _db
# The initiatives' evaluations in the default (in-memory) cache, which tests clear; the file
# store of a data folder is tested by tests/reports/test_report_evaluations.py.
CACHES.pop("evaluations", None)  # noqa: F405
# Every test reads the publication from its own database (a test's rollback sends no signal);
# tests/public/test_public_cache.py covers the recheck interval the site uses.
TRYG_PUBLICATION_RECHECK = 0.0
# No background thread renders pages behind a test's back (tests/public/test_public_warm.py
# calls tryg.public.warm.warm directly).
TRYG_WARM_ON_PUBLISH = False
# Jobs run at once, within the request that queues them (tests/jobs/ run the database
# backend and a worker themselves).
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
