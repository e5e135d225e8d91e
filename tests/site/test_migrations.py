"""The models and their migrations agree, for every app: a model change without its migration
fails here, not on a user's database. (The police register's package was renamed from
``tryg.crime`` with its label ``crime`` kept: its tables and migrations did not move.)"""

from __future__ import annotations

import io

import pytest
from django.apps import apps
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration() -> None:
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, verbosity=1)
    except SystemExit as exc:  # --check exits 1 when a migration is missing
        pytest.fail(f"makemigrations --check exited {exc.code}:\n{out.getvalue()}")


def test_the_police_register_keeps_its_label_and_tables() -> None:
    config = apps.get_app_config("crime")
    assert config.name == "tryg.police_register"
    assert config.get_model("RegisterCount")._meta.db_table == "crime_registercount"
