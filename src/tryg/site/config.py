"""Settings of a tryg site, read in one place from an injectable mapping (twelve-factor).

Every setting has a name, a default and a line of help; :func:`load` turns a mapping (normally
``os.environ``) into a frozen :class:`Config`, and ``tryg.site.settings`` turns that into
Django's settings. The table :data:`SETTINGS` also drives ``tryg serve --help`` and the
documentation test that checks every setting is in the README.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tryg.readers.limits import Limits

#: An address or network of a trusted reverse proxy.
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("TRYG_DATA_DIR", "./tryg-data",
            "Folder for the embedded database (SQLite), uploads and the secret key."),
    Setting("DATABASE_URL", "",
            "Database URL, e.g. postgres://user@host:5432/tryg. Empty: SQLite in the data "
            "folder (WAL mode)."),
    Setting("TRYG_SECRET_KEY", "",
            "Django's secret key. Empty: a random key is made once and kept in the data "
            "folder."),
    Setting("TRYG_ALLOWED_HOSTS", "127.0.0.1,localhost",
            "Comma-separated host names the site answers to."),
    Setting("TRYG_DEBUG", "0", "1 shows Django's debug pages. Never in production."),
    Setting("TRYG_LANGUAGE", "da", "Default language of the pages: da or en."),
    Setting("TRYG_SECURE", "0",
            "1 behind HTTPS: secure cookies, HSTS and redirect to https."),
    Setting("TRYG_LOGIN_ATTEMPTS", "5",
            "Failed log-ins from one user name and address before it is locked for an hour."),
    Setting("TRYG_WARM_ON_PUBLISH", "1",
            "1: a publication renders the front page, the map and the upper levels' area "
            "pages in the background, so the first visitors get them from the cache."),
    Setting("TRYG_TRUSTED_PROXIES", "",
            "Comma-separated addresses or networks (e.g. 127.0.0.1,10.0.0.0/8,::1) of the "
            "reverse proxies in front of the site. Only requests from these have their "
            "X-Forwarded-For (the client's address, for the log-in lock) and "
            "X-Forwarded-Proto (https) believed. Empty: no proxy is trusted."),
    Setting("TRYG_MAX_UPLOAD_MB", "1024",
            "Largest file the upload page accepts, in MB; a larger one is refused before it "
            "is stored (HTTP 413)."),
    Setting("TRYG_MAX_UNPACKED_MB", "1024",
            "Largest size an XLSX workbook or zipped Shapefile may unpack to, in MB; checked "
            "from the ZIP's directory before anything is unpacked."),
    Setting("TRYG_MAX_ROWS", "20000000",
            "Most data rows (records, answers, features) one file may have; checked before "
            "the rows are read (imports, uploads and `tryg index run`)."),
    Setting("TRYG_CACHE_URL", "",
            "Shared cache for the public pages, e.g. redis://127.0.0.1:6379/0 (Django's Redis "
            "backend). Needed with several server processes or machines: a publication then "
            "reaches every server's pages at once. Empty: each process keeps its own cache in "
            "memory."),
    Setting("TRYG_STORAGE_BACKEND", "",
            "Django storage class for stored files (exports, reports, backups' files), e.g. "
            "storages.backends.s3.S3Storage (pip install django-storages[s3]). Empty: the "
            "uploads folder in the data folder."),
    Setting("TRYG_STORAGE_OPTIONS", "{}",
            "JSON options of TRYG_STORAGE_BACKEND, e.g. {\"bucket_name\": \"tryg\", "
            "\"endpoint_url\": \"https://s3.example.org\"} (credentials from the backend's "
            "own environment variables, e.g. AWS_ACCESS_KEY_ID)."),
    Setting("TRYG_JOB_LEASE", "60",
            "Seconds a background job's heartbeat stays valid: a job whose worker has given "
            "no sign for this long is taken back and queued again (a worker on the same "
            "machine that died is noticed at once)."),
    Setting("TRYG_DATA_LICENCE", "CC BY 4.0",
            "Licence of the published figures, named on the downloads page, in the codebook "
            "and in the XLSX (e.g. CC BY 4.0, CC0 1.0, or your own words)."),
    Setting("TRYG_EMAIL_HOST", "",
            "SMTP server for e-mail (walk invitations, reminders, summaries), as host or "
            "host:port. Empty: e-mails are written to the server's log (console)."),
    Setting("TRYG_EMAIL_FROM", "tryg@localhost", "Sender address of the site's e-mails."),
    Setting("TRYG_EMAIL_FILE_PATH", "",
            "A folder: e-mails are written there as files instead of sent (tests, demos). "
            "Overrides TRYG_EMAIL_HOST."),
    Setting("TRYG_WALK_DUPLICATE_METRES", "30",
            "Findings of the same category within this many metres of a new one are "
            "suggested as its duplicates."),
    Setting("TRYG_WALK_PHOTO_MAX_MB", "10",
            "Largest photo a finding or an action accepts, in MB (larger: refused, 400)."),
    Setting("TRYG_REPORTS_PER_HOUR", "5",
            "Citizens' reports accepted from one address per hour (the rest: 429)."),
)


@dataclass(frozen=True)
class Config:
    data_dir: Path
    database_url: str
    secret_key: str
    allowed_hosts: tuple[str, ...]
    debug: bool
    language: str
    secure: bool
    login_attempts: int
    trusted_proxies: tuple[Network, ...]
    warm_on_publish: bool
    max_upload_mb: int
    max_unpacked_mb: int
    max_rows: int
    data_licence: str = "CC BY 4.0"
    cache_url: str = ""
    storage_backend: str = ""
    storage_options: Mapping[str, object] = field(default_factory=dict)
    job_lease: int = 60
    email_host: str = ""
    email_from: str = "tryg@localhost"
    email_file_path: str = ""
    walk_duplicate_metres: int = 30
    walk_photo_max_mb: int = 10
    reports_per_hour: int = 5

    def limits(self) -> Limits:
        """The limits on one file for the readers (:mod:`tryg.readers.limits`)."""
        from tryg.readers.limits import Limits  # not at import: the readers load pandas

        return Limits.from_megabytes(max_rows=self.max_rows,
                                     max_unpacked_mb=self.max_unpacked_mb)


def _positive(values: Mapping[str, str], name: str) -> int:
    text = values[name].strip().replace("_", "")
    try:
        number = int(text)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {values[name]!r}") from None
    if number < 1:
        raise ValueError(f"{name} must be at least 1, not {number}")
    return number


def load(environ: Mapping[str, str]) -> Config:
    """The configuration in ``environ``, with the defaults of :data:`SETTINGS`."""
    values = {s.name: environ.get(s.name, s.default) for s in SETTINGS}
    data_dir = Path(values["TRYG_DATA_DIR"]).expanduser().resolve()
    language = values["TRYG_LANGUAGE"].strip().lower() or "da"
    if language not in ("da", "en"):
        raise ValueError(f"TRYG_LANGUAGE must be da or en, not {language!r}")
    return Config(
        data_dir=data_dir,
        database_url=values["DATABASE_URL"].strip(),
        secret_key=values["TRYG_SECRET_KEY"],
        allowed_hosts=tuple(h.strip() for h in values["TRYG_ALLOWED_HOSTS"].split(",")
                            if h.strip()),
        debug=values["TRYG_DEBUG"].strip() in ("1", "true", "yes"),
        language=language,
        secure=values["TRYG_SECURE"].strip() in ("1", "true", "yes"),
        login_attempts=int(values["TRYG_LOGIN_ATTEMPTS"]),
        trusted_proxies=trusted_networks(values["TRYG_TRUSTED_PROXIES"]),
        warm_on_publish=values["TRYG_WARM_ON_PUBLISH"].strip() in ("1", "true", "yes"),
        max_upload_mb=_positive(values, "TRYG_MAX_UPLOAD_MB"),
        max_unpacked_mb=_positive(values, "TRYG_MAX_UNPACKED_MB"),
        max_rows=_positive(values, "TRYG_MAX_ROWS"),
        data_licence=values["TRYG_DATA_LICENCE"].strip() or "CC BY 4.0",
        cache_url=values["TRYG_CACHE_URL"].strip(),
        storage_backend=values["TRYG_STORAGE_BACKEND"].strip(),
        storage_options=_json_object(values, "TRYG_STORAGE_OPTIONS"),
        job_lease=_positive(values, "TRYG_JOB_LEASE"),
        email_host=values["TRYG_EMAIL_HOST"].strip(),
        email_from=values["TRYG_EMAIL_FROM"].strip() or "tryg@localhost",
        email_file_path=values["TRYG_EMAIL_FILE_PATH"].strip(),
        walk_duplicate_metres=_positive(values, "TRYG_WALK_DUPLICATE_METRES"),
        walk_photo_max_mb=_positive(values, "TRYG_WALK_PHOTO_MAX_MB"),
        reports_per_hour=_positive(values, "TRYG_REPORTS_PER_HOUR"),
    )


def _json_object(values: Mapping[str, str], name: str) -> dict[str, object]:
    import json

    try:
        found = json.loads(values[name] or "{}")
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name} must be a JSON object: {exc}") from None
    if not isinstance(found, dict):
        raise ValueError(f"{name} must be a JSON object, not {values[name]!r}")
    return found


def trusted_networks(text: str) -> tuple[Network, ...]:
    """The networks in a comma-separated list of addresses and networks (TRYG_TRUSTED_PROXIES).

    A plain address is a network of one. A network with host bits set (``10.0.0.5/8``) is
    refused rather than widened, as is anything that is not an address (``*``, a host name).
    """
    networks = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=True))
        except ValueError as exc:
            raise ValueError(f"TRYG_TRUSTED_PROXIES: {item!r} is not an IP address or "
                             f"network ({exc})") from exc
    return tuple(networks)


def read_limits(environ: Mapping[str, str]) -> Limits:
    """The limits on one file read (``TRYG_MAX_ROWS``, ``TRYG_MAX_UNPACKED_MB``), for the
    command line that reads files without a site (``tryg index run``)."""
    from tryg.readers.limits import Limits

    values = {s.name: environ.get(s.name, s.default) for s in SETTINGS}
    return Limits.from_megabytes(max_rows=_positive(values, "TRYG_MAX_ROWS"),
                                 max_unpacked_mb=_positive(values, "TRYG_MAX_UNPACKED_MB"))


def secret_key(config: Config) -> str:
    """The configured key, or one made once and kept (mode 600) in the data folder."""
    if config.secret_key:
        return config.secret_key
    import secrets

    path = config.data_dir / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.touch(mode=0o600)
    path.write_text(key, encoding="utf-8")
    return key
