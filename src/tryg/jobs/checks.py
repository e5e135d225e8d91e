"""tryg's own deployment checks, run by ``tryg check --deploy`` beside Django's.

Registered as Django system checks with the tag ``deploy`` (they run only with ``--deploy``).
What the documented production setup is (several servers behind a TLS proxy): a secret key
of its own, real host names, HTTPS, PostgreSQL, a shared cache (Redis), a storage every
server reaches, and at least one ``tryg worker`` seen recently.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core import checks
from django.utils import timezone

#: A worker that has given no sign of life for this long counts as gone.
WORKER_SEEN_WITHIN = datetime.timedelta(minutes=5)
_LOCAL = ("127.0.0.1", "localhost", "::1", "testserver")
_TEST_KEYS = ("tryg-tests-only-not-a-secret",)


def _config() -> Any:
    return settings.CONFIG


@checks.register(checks.Tags.security, deploy=True)
def check_secret_key(**_: Any) -> list[checks.CheckMessage]:
    key = _config().secret_key
    if not key or key in _TEST_KEYS:
        return [checks.Error(
            "TRYG_SECRET_KEY is not set: each server would make its own key in its data "
            "folder, and sessions made by one would not be valid on another.",
            hint="Set TRYG_SECRET_KEY to one long random value on every server "
                 "(python3 -c 'import secrets; print(secrets.token_urlsafe(50))').",
            id="tryg.E001")]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_hosts(**_: Any) -> list[checks.CheckMessage]:
    hosts = list(settings.ALLOWED_HOSTS)
    if "*" in hosts:
        return [checks.Error("TRYG_ALLOWED_HOSTS allows every host name (*).",
                             hint="List the site's own host names.", id="tryg.E002")]
    if not [h for h in hosts if h not in _LOCAL]:
        return [checks.Error("TRYG_ALLOWED_HOSTS names only this machine.",
                             hint="List the host names the public reaches the site by.",
                             id="tryg.E003")]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_https(**_: Any) -> list[checks.CheckMessage]:
    config = _config()
    if not config.secure:
        return [checks.Error("TRYG_SECURE is off: cookies are sent without HTTPS.",
                             hint="Serve the site through HTTPS and set TRYG_SECURE=1.",
                             id="tryg.E004")]
    if not config.trusted_proxies:
        return [checks.Error(
            "TRYG_SECURE=1 but TRYG_TRUSTED_PROXIES is empty: no request counts as https, "
            "so every one is redirected.",
            hint="Set TRYG_TRUSTED_PROXIES to the reverse proxy that ends TLS.",
            id="tryg.E005")]
    return []


@checks.register(checks.Tags.database, deploy=True)
def check_database(**_: Any) -> list[checks.CheckMessage]:
    engine = str(settings.DATABASES["default"]["ENGINE"])
    if engine.endswith("sqlite3"):
        return [checks.Error(
            "The database is SQLite in the data folder: one server only.",
            hint="Set DATABASE_URL to PostgreSQL (postgres://user@host:5432/tryg) for a site "
                 "with several servers or workers.", id="tryg.E006")]
    from django.db import connection

    try:
        connection.ensure_connection()
    except Exception as exc:  # any failure to connect is the message
        return [checks.Error(f"The database cannot be reached: {exc}", id="tryg.E007")]
    return []


@checks.register(checks.Tags.caches, deploy=True)
def check_cache(**_: Any) -> list[checks.CheckMessage]:
    backend = str(settings.CACHES["default"]["BACKEND"])
    if backend.endswith((".LocMemCache", ".DummyCache")):
        return [checks.Error(
            "The page cache is in each process's memory: servers do not share pages, and a "
            "publication reaches the others only when they next read the database.",
            hint="Set TRYG_CACHE_URL to a shared cache, e.g. redis://host:6379/0.",
            id="tryg.E008")]
    from django.core.cache import cache

    try:
        cache.set("tryg-check-deploy", "ok", 10)
        answered = cache.get("tryg-check-deploy")
    except Exception as exc:
        return [checks.Error(f"The cache cannot be reached: {exc}", id="tryg.E009")]
    if answered != "ok":
        return [checks.Error("The cache does not keep what is stored in it.", id="tryg.E009")]
    return []


@checks.register(deploy=True)
def check_storage(**_: Any) -> list[checks.CheckMessage]:
    if not _config().storage_backend:
        return [checks.Error(
            "Stored files are in this server's data folder, where other servers do not "
            "see them.",
            hint="Set TRYG_STORAGE_BACKEND: S3-compatible storage "
                 "(storages.backends.s3.S3Storage, pip install django-storages[s3]) or "
                 "django.core.files.storage.FileSystemStorage with TRYG_STORAGE_OPTIONS "
                 "{\"location\": \"/a/shared/mount\"}.", id="tryg.E010")]
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    try:
        name = default_storage.save("tryg-check-deploy.txt", ContentFile(b"ok"))
        default_storage.delete(name)
    except Exception as exc:
        return [checks.Error(f"Files cannot be stored: {exc}", id="tryg.E011")]
    return []


@checks.register(checks.Tags.database, deploy=True)
def check_worker(**_: Any) -> list[checks.CheckMessage]:
    from tryg.jobs.services import last_worker_seen

    try:
        seen = last_worker_seen()
    except Exception as exc:
        return [checks.Error(f"The workers' table cannot be read: {exc}", id="tryg.E012")]
    if seen is None or seen < timezone.now() - WORKER_SEEN_WITHIN:
        return [checks.Warning(
            "No background worker has been seen in the last five minutes: index runs and "
            "other jobs wait in the queue.",
            hint="Run `tryg worker` on one or more machines (a service each).",
            id="tryg.W001")]
    return []
