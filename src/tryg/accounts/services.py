"""Accounts made outside the pages (``tryg user add``): checked as the admin pages check them.

The password is checked by the site's password validators and stored with the site's hasher
(Argon2); creating the account is a permission change and lands in the audit log (through
:mod:`tryg.accounts.signals`).
"""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from tryg.accounts.models import Organisation, User


class AccountError(ValueError):
    """An account that cannot be made as asked; the message says why."""


def organisation_for(username: str, organisation: str | None,
                     organisation_kind: str | None) -> Organisation | None:
    """The stored organisation named ``organisation`` (None for none, or one still to be made
    with ``organisation_kind``); refuses a taken user name and an unknown organisation
    without a kind. Checked before a password is asked for."""
    if User.objects.filter(username=username).exists():
        raise AccountError(f"a user named {username!r} exists already")
    if not organisation:
        return None
    org = Organisation.objects.filter(name=organisation).first()
    if org is None and organisation_kind is None:
        known = ", ".join(Organisation.objects.values_list("name", flat=True)) or "none"
        raise AccountError(f"no organisation named {organisation!r} (known: {known}); add "
                           "--organisation-kind KIND to create it")
    return org


def check_password(password: str, *, username: str, email: str, role: str) -> None:
    """The site's password validators on ``password`` for the account to be made."""
    try:
        validate_password(password, User(username=username, email=email, role=role))
    except ValidationError as exc:
        raise AccountError(" ".join(exc.messages)) from exc


def add_user(username: str, password: str, *, role: str, email: str = "",
             organisation: str | None = None, organisation_kind: str | None = None) -> User:
    """Make the account (and its organisation, when ``organisation_kind`` says to); an
    administrator may also use the admin pages. Nothing is stored when a check fails."""
    org = organisation_for(username, organisation, organisation_kind)
    candidate = User(username=username, email=email, role=role)
    with transaction.atomic():
        if org is None and organisation:
            org = Organisation(name=organisation, kind=str(organisation_kind))
            org.full_clean()
            org.save()
        candidate.organisation = org
        candidate.is_staff = candidate.is_superuser = role == "administrator"
        candidate.set_password(password)
        try:
            candidate.full_clean()
        except ValidationError as exc:
            raise AccountError(" ".join(exc.messages)) from exc
        candidate.save()
    return candidate
