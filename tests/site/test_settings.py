"""The site is configured from the environment; the test database is the one asked for."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tryg.site.config import SETTINGS, load, secret_key


def test_defaults_and_overrides(tmp_path: Path) -> None:
    config = load({"TRYG_DATA_DIR": str(tmp_path), "TRYG_ALLOWED_HOSTS": "a.dk, b.dk"})
    assert config.data_dir == tmp_path.resolve()
    assert config.allowed_hosts == ("a.dk", "b.dk")
    assert config.database_url == ""
    assert not config.debug
    assert config.language == "da"


def test_bad_language_is_refused() -> None:
    with pytest.raises(ValueError, match="TRYG_LANGUAGE"):
        load({"TRYG_LANGUAGE": "sv"})


def test_secret_key_is_made_once_and_kept(tmp_path: Path) -> None:
    config = load({"TRYG_DATA_DIR": str(tmp_path / "d")})
    first = secret_key(config)
    assert len(first) > 40
    assert secret_key(config) == first
    assert (tmp_path / "d" / "secret_key").stat().st_mode & 0o077 == 0


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in readme]
    assert not missing, f"settings not in README.md: {missing}"


@pytest.mark.django_db
def test_the_database_is_the_one_asked_for() -> None:
    expected = "postgresql" if settings.TEST_DATABASE == "postgres" else "sqlite"
    assert connection.vendor == expected
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            # the test database is in memory (no WAL there); the file database uses WAL
            assert cursor.fetchone()[0] in ("wal", "memory")


def test_limits_have_defaults_and_must_be_whole_positive_numbers() -> None:
    config = load({})
    assert (config.max_upload_mb, config.max_unpacked_mb, config.max_rows) == (
        1024, 1024, 20_000_000)
    assert config.limits().max_unpacked_bytes == 1024 << 20
    assert config.limits().max_rows == 20_000_000
    assert load({"TRYG_MAX_ROWS": "4_000_000"}).max_rows == 4_000_000
    with pytest.raises(ValueError, match="TRYG_MAX_UPLOAD_MB must be a whole number"):
        load({"TRYG_MAX_UPLOAD_MB": "1.5"})
    with pytest.raises(ValueError, match="TRYG_MAX_ROWS must be at least 1"):
        load({"TRYG_MAX_ROWS": "0"})


def test_the_site_uses_the_limits_and_keeps_uploads_in_the_data_folder() -> None:
    assert settings.TRYG_MAX_UPLOAD_MB == 1024 and settings.TRYG_MAX_ROWS == 20_000_000
    assert Path(settings.FILE_UPLOAD_TEMP_DIR) == Path(settings.BASE_DIR) / "uploads" / "tmp"
    assert Path(settings.FILE_UPLOAD_TEMP_DIR).is_dir()
    assert settings.FILE_UPLOAD_HANDLERS[0] == "tryg.imports.uploads.UploadLimitHandler"
