"""Making, checking and revoking Open311 API keys (``tryg open311 key add ORG``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from tryg.accounts.models import AuditEvent, Organisation, audit
from tryg.walks.open311.models import ApiKey

PREFIX = "tryg311_"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def add(organisation: Organisation, name: str = "") -> tuple[ApiKey, str]:
    """A new key for ``organisation``: the stored record and the key itself (shown once)."""
    key = PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        record = ApiKey.objects.create(organisation=organisation, name=name,
                                       prefix=key[:len(PREFIX) + 6], key_hash=_hash(key))
        audit(AuditEvent.Action.PERMISSION, f"Open311 API key #{record.pk}",
              organisation=organisation.name, change="key added")
    return record, key


def check(key: str, *, now: dt.datetime | None = None) -> ApiKey | None:
    """The live key ``key`` is (its use noted), or None for an unknown or revoked key."""
    if not key or len(key) > 200:
        return None
    record = (ApiKey.objects.select_related("organisation")
              .filter(key_hash=_hash(key), revoked_at__isnull=True).first())
    if record is not None:
        record.last_used_at = now or timezone.now()
        record.save(update_fields=["last_used_at"])
    return record


def revoke(key_id: int, *, now: dt.datetime | None = None) -> bool:
    """Revoke key number ``key_id``; False when there is no such live key."""
    with transaction.atomic():
        done = bool(ApiKey.objects.filter(pk=key_id, revoked_at__isnull=True).update(
            revoked_at=now or timezone.now()))
        if done:
            audit(AuditEvent.Action.PERMISSION, f"Open311 API key #{key_id}",
                  change="key revoked")
    return done
