"""``tryg open311 key add|list|revoke``: a key is printed once and stored only hashed."""

from __future__ import annotations

import hashlib

import pytest
from click.testing import CliRunner

from tryg.accounts.models import AuditEvent, Organisation
from tryg.cli.main import tryg
from tryg.walks.open311 import keys
from tryg.walks.open311.models import ApiKey

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(tryg, ["open311", "key", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_add_list_revoke() -> None:
    Organisation.objects.create(name="Aalborg Kommune", kind="municipality")
    code, out, _ = run("add", "Aalborg Kommune", "--name", "sagssystem")
    assert code == 0
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("tryg311_") and len(secret) > 40
    record = ApiKey.objects.get()
    assert record.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in (record.prefix, record.name) and secret.startswith(record.prefix)
    assert keys.check(secret) == record and keys.check(secret + "x") is None
    code, out, _ = run("list")
    assert code == 0 and f"#{record.pk}" in out and secret not in out and "live" in out
    assert run("revoke", str(record.pk))[0] == 0
    assert keys.check(secret) is None
    code, out, _ = run("list")
    assert "revoked" in out
    assert run("revoke", str(record.pk))[0] == 1  # no live key of that number
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PERMISSION,
                                     target=f"Open311 API key #{record.pk}").count() == 2


def test_an_unknown_organisation_is_refused() -> None:
    code, _, err = run("add", "Nowhere")
    assert code == 1 and "no organisation named 'Nowhere'" in err
    assert not ApiKey.objects.exists()
