"""``tryg check --deploy``: passes for the documented production setup, names every problem of
an embedded (laptop) setup."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from jobs.ops_sites import fresh_postgres, tryg, tryg_env


@pytest.mark.slow
def test_the_documented_production_setup_passes(tmp_path: Path, redis_url: str) -> None:
    shared = tmp_path / "shared-mount"
    shared.mkdir()
    env = tryg_env(
        tmp_path / "data", DATABASE_URL=fresh_postgres("deploy"), TRYG_CACHE_URL=redis_url,
        TRYG_SECRET_KEY="a-long-random-production-key-" + "k" * 40,
        TRYG_ALLOWED_HOSTS="tryg.example.dk", TRYG_SECURE="1",
        TRYG_TRUSTED_PROXIES="10.0.0.1", TRYG_STORAGE_BACKEND=(
            "django.core.files.storage.FileSystemStorage"),
        TRYG_STORAGE_OPTIONS=json.dumps({"location": str(shared)}))
    before = tryg("check", "--deploy", env=env)
    # migrated by the worker below; before it, no worker has been seen
    assert before.returncode != 0
    ran = tryg("worker", "--batch", env=env)  # a worker that ran (and so was seen)
    assert ran.returncode == 0, ran.stderr[-2000:]
    checked = tryg("check", "--deploy", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no issues" in checked.stdout
    assert not list(shared.iterdir())  # the storage check left nothing behind


def test_an_embedded_setup_is_told_what_production_needs(tmp_path: Path) -> None:
    env = tryg_env(tmp_path / "data", DATABASE_URL="")
    del env["TRYG_SECRET_KEY"]
    checked = tryg("check", "--deploy", env=env)
    assert checked.returncode != 0
    found = set(re.findall(r"\((tryg\.[EW]\d{3})\)", checked.stderr))
    assert {"tryg.E001", "tryg.E003", "tryg.E004", "tryg.E006", "tryg.E008",
            "tryg.E010"} <= found, checked.stderr
    # Django's own deployment checks run too
    assert "security.W012" in checked.stderr
    # and without --deploy the same site is fine for a laptop
    assert tryg("check", env=env).returncode == 0
