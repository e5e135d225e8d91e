"""Django settings for a tryg site, all derived from :mod:`tryg.site.config`.

Nothing is read from the environment here directly: :func:`tryg.site.config.load` does that,
so tests and the CLI can build a site from any mapping.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import dj_database_url
from csp.constants import NONE, SELF

from tryg.imports.tempfiles import sweep
from tryg.site.config import load, secret_key

CONFIG = load(os.environ)

BASE_DIR = CONFIG.data_dir
# The data folder holds the SQLite file, uploads and collected static files: make it here,
# once, so every entry point (serve, manage, demo, wsgi) finds it.
UPLOAD_TEMP_DIR = CONFIG.data_dir / "uploads" / "tmp"
for _folder in (CONFIG.data_dir, CONFIG.data_dir / "static", CONFIG.data_dir / "uploads",
                UPLOAD_TEMP_DIR):
    _folder.mkdir(parents=True, exist_ok=True)
# Uploads being checked wait in a folder per process there (tryg.imports.tempfiles); remove
# what processes that were killed left behind. Folders of live processes are locked and kept.
sweep(UPLOAD_TEMP_DIR)
SECRET_KEY = secret_key(CONFIG)
DEBUG = CONFIG.debug
ALLOWED_HOSTS = list(CONFIG.allowed_hosts)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    # django-ninja as an app: its docs page then uses the Swagger UI files it ships
    # (served by whitenoise), not the CDN copy it falls back to otherwise.
    "ninja",
    "tryg.accounts",
    "tryg.areas",
    "tryg.surveys",
    "tryg.police_register",
    "tryg.imports",
    "tryg.runs",
    "tryg.web",
    "tryg.analysis",
    "tryg.public",
    "tryg.strategy",
    "django_tasks",
    "django_tasks_db",
    "tryg.jobs",
    "tryg.walks",
    "tryg.reports",
]

MIDDLEWARE = [
    # First: forwarding headers (X-Forwarded-For/-Proto) count only from TRYG_TRUSTED_PROXIES.
    "tryg.site.proxies.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # An anonymous visitor's repeated request for a public page, answered from the page cache
    # with the headers the middlewares below gave it the first time (tryg.public.fast).
    "tryg.public.fast.PublicPageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # errors under /open311/v2/ (the NUL refused just below, a 404) in the GeoReport format
    "tryg.walks.open311.middleware.Open311ErrorsMiddleware",
    "tryg.web.params.BadParameterMiddleware",
    # a wrong method's empty 405 (require_POST) gets a page in the site's layout and language
    "tryg.web.not_allowed.NotAllowedPageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tryg.accounts.current.CurrentUserMiddleware",
    # no-store on logged-in users' pages and everything outside the public set
    "tryg.web.nostore.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "tryg.site.urls"
WSGI_APPLICATION = "tryg.site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _databases() -> dict[str, Any]:
    if CONFIG.database_url:
        db = dj_database_url.parse(CONFIG.database_url, conn_max_age=60)
        return {"default": db}
    return {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(CONFIG.data_dir / "tryg.sqlite3"),
            # Keep each server thread's connection open: opening one costs more than a
            # public page served from the cache, and closing the last one checkpoints the
            # WAL (bench/web_load.py).
            "CONN_MAX_AGE": 600,
            "OPTIONS": {
                # WAL: readers (the site) never wait for a writer (an import); IMMEDIATE:
                # a write transaction takes its lock at BEGIN, so two imports queue instead
                # of failing half-way with "database is locked".
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
        }
    }


DATABASES = _databases()
# The public pages are cached per published run and language (tryg.public.cache): in each
# process's memory by default; a shared cache (e.g. Redis) can be configured here instead.
CACHES: dict[str, Any] = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "tryg-public",
        "TIMEOUT": 24 * 3600,
        "OPTIONS": {"MAX_ENTRIES": 2000},
    } if not CONFIG.cache_url else {
        # Django's own Redis backend (redis-py): one cache for every server process, so a
        # publication is seen by all of them at once (tryg.public.generation).
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CONFIG.cache_url,
        "TIMEOUT": 24 * 3600,
        "KEY_PREFIX": "tryg",
    }
}
# What the stack answered to anonymous requests for public pages (tryg.public.fast): small
# entries in each process's memory, kept apart so they never push rendered pages out.
CACHES["answers"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                     "LOCATION": "tryg-answers", "TIMEOUT": 24 * 3600,
                     "OPTIONS": {"MAX_ENTRIES": 10000}}
if not CONFIG.cache_url:
    # The initiatives' evaluations (tryg.strategy.evaluation_cache, seconds each, keyed by
    # publication) in files of the data folder when no shared cache is configured: they
    # outlive the process, so `tryg report` reads what the site (or an earlier report)
    # computed. With a shared cache they are kept there, like the pages.
    CACHES["evaluations"] = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(CONFIG.data_dir / "cache" / "evaluations"),
        "TIMEOUT": 30 * 24 * 3600,
        "OPTIONS": {"MAX_ENTRIES": 1000},
    }
if CONFIG.cache_url:
    # each process's copy of the shared entries it reads (tryg.public.cache): entries are
    # keyed by publication and never change, so a copy cannot be stale
    CACHES["local"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                       "LOCATION": "tryg-local", "TIMEOUT": 24 * 3600,
                       "OPTIONS": {"MAX_ENTRIES": 500}}
# Background jobs (tryg.jobs): Django's Tasks API (the django-tasks backport) with the
# database backend, so the embedded site needs no other service and a production site shares
# its queue through PostgreSQL (any number of `tryg worker` processes).
TASKS: dict[str, Any] = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
TRYG_JOB_LEASE = CONFIG.job_lease
# Stored files (Django's storage API): the uploads folder by default, any storage class
# (e.g. S3-compatible object storage through django-storages) when configured.
STORAGES: dict[str, Any] = {
    "default": {
        "BACKEND": CONFIG.storage_backend or "django.core.files.storage.FileSystemStorage",
        "OPTIONS": dict(CONFIG.storage_options),
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Seconds a server process trusts its last reading of which run is published (tryg.public.data):
# a publication made in the same process is seen at once, one made elsewhere within this time.
TRYG_PUBLICATION_RECHECK = 1.0
# Publishing a run renders the front page, the map and the top levels' area pages into the
# page cache in a background thread (tryg.public.warm), so their first visitors wait for nothing.
TRYG_WARM_ON_PUBLISH = CONFIG.warm_on_publish
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (django-axes): lock a user name + address pair after N failures, 1 hour.
AXES_FAILURE_LIMIT = CONFIG.login_attempts
AXES_COOLOFF_TIME = 1
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# the posted user name cut to axes' column (a longer one was a server error on PostgreSQL)
AXES_USERNAME_CALLABLE = "tryg.accounts.signals.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
# The client's address: the connection's peer, or behind a trusted reverse proxy the address
# that proxy put in X-Forwarded-For (else every client would share the proxy's address, and
# anyone could lock any user out).
AXES_CLIENT_IP_CALLABLE = "tryg.site.proxies.client_ip"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = CONFIG.language
LANGUAGES = [("da", "Dansk"), ("en", "English")]
# The header's language link (tryg.public.language) remembers the choice for a year.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE: Literal["Lax", "Strict", "None", False] = "Lax"
# One catalogue for the whole site: src/tryg/locale/da/LC_MESSAGES/django.po.
LOCALE_PATHS = [str(Path(__file__).resolve().parents[1] / "locale")]
TIME_ZONE = "Europe/Copenhagen"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = str(CONFIG.data_dir / "static")
MEDIA_ROOT = str(CONFIG.data_dir / "uploads")
# Uploads of national register extracts are large: keep them on disk, not in memory, in
# the data folder (not the system's temporary folder), and stop one past TRYG_MAX_UPLOAD_MB.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = str(UPLOAD_TEMP_DIR)
FILE_UPLOAD_HANDLERS = [
    "tryg.imports.uploads.UploadLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "tryg.imports.uploads.ProcessTemporaryUploadHandler",
]
# The form's other fields (not files) stay limited by Django's own setting.
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
TRYG_MAX_UPLOAD_MB = CONFIG.max_upload_mb
TRYG_DATA_LICENCE = CONFIG.data_licence
# Limits on one file read by an import (tryg.readers.limits via tryg.imports.base).
TRYG_MAX_UNPACKED_MB = CONFIG.max_unpacked_mb
TRYG_MAX_ROWS = CONFIG.max_rows
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (tryg.site.proxies
# removes those headers from every other peer's requests).
TRYG_TRUSTED_PROXIES = CONFIG.trusted_proxies
if CONFIG.trusted_proxies:
    # The proxy ends TLS and says so; without it, a request is https only if the WSGI server
    # itself says so (gunicorn from its --forwarded-allow-ips).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Content-Security-Policy (django-csp) on every page: scripts, styles, images and requests from
# the site itself only, no inline script or style (the pages have none: scripts and styles are
# static files, the server-drawn SVG charts use presentation attributes), no plug-ins, no
# framing. /api/docs adds ``data:`` images for Swagger UI's icons (tryg.api.api).
CONTENT_SECURITY_POLICY: dict[str, Any] = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
# HSTS for this host only: a municipality's site (tryg.kommune.dk) must not decide for every
# other host of its domain (includeSubDomains), nor for the browsers' preload list.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]
if CONFIG.secure:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000

# E-mail (walk invitations, reminders and summaries): files in a folder (tests, demos), an SMTP
# server, or else the server's log.
DEFAULT_FROM_EMAIL = CONFIG.email_from
if CONFIG.email_file_path:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = CONFIG.email_file_path
elif CONFIG.email_host:
    EMAIL_HOST, _, _port = CONFIG.email_host.partition(":")
    EMAIL_PORT = int(_port or 25)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# Safety walks (tryg.walks): the duplicate suggestion's radius, the photo size limit and the
# citizens' report rate per address.
TRYG_WALK_DUPLICATE_METRES = CONFIG.walk_duplicate_metres
TRYG_WALK_PHOTO_MAX_MB = CONFIG.walk_photo_max_mb
TRYG_REPORTS_PER_HOUR = CONFIG.reports_per_hour

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"forbidden_without_traceback": {
        "()": "tryg.site.logs.ForbiddenWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    # a 403 (PermissionDenied) is one warning line, not a traceback
    # a file a reader could not read: the library's own words, which the page does not show
    # (tryg.readers.unreadable)
    "loggers": {"django.request": {"filters": ["forbidden_without_traceback"]},
                "tryg.readers": {"level": "INFO"}},
}
