"""The demo site's organisations and users (``tryg demo``): an administrator and one user per
other role, with random passwords that the command prints once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from tryg.accounts.models import Organisation, Role

#: name, kind and area code of the demo's municipality, police and housing association
Organisations = list[tuple[str, str, str]]

FICTIONAL_ORGANISATIONS: Organisations = [
    ("Demo Kommune (fiktiv)", "municipality", "9999"),
    ("Demo Politi (fiktiv)", "police", ""),
    ("Demo Boligforening (fiktiv)", "housing", "")]
AALBORG_ORGANISATIONS: Organisations = [
    ("Aalborg Kommune (demo)", "municipality", "0851"),
    ("Nordjyllands Politi (demo)", "police", ""),
    ("Demo-boligforening, Aalborg (demo)", "housing", "")]
#: the demo user who imports the files and runs and publishes the index
ANALYST = "analyst"


@dataclass(frozen=True)
class DemoUser:
    role: str
    username: str
    password: str
    organisation: str | None


def make_demo_users(organisations: Organisations) -> list[DemoUser]:
    """The organisations (municipality, police, housing association, in that order), an
    administrator and one user per other role, each with a random password."""
    users = get_user_model()
    made: list[DemoUser] = []
    with transaction.atomic():
        orgs = [Organisation.objects.create(name=n, kind=k, area_code=c)
                for n, k, c in organisations]
        municipality, police, housing = orgs
        plan = [(Role.ADMINISTRATOR, "admin", None), (Role.ANALYST, ANALYST, municipality),
                (Role.COORDINATOR, "coordinator", municipality),
                (Role.PARTNER, "partner", housing), (Role.WALKER, "walker", police)]
        for role, name, org in plan:
            password = secrets.token_urlsafe(12)
            if role == Role.ADMINISTRATOR:
                users.objects.create_superuser(name, password=password, role=role)
            else:
                users.objects.create_user(name, password=password, role=role,
                                          organisation=org)
            made.append(DemoUser(str(role), name, password, org.name if org else None))
    return made


def demo_analyst() -> Any:
    """The demo's analyst (made by :func:`make_demo_users`)."""
    return get_user_model().objects.get(username=ANALYST)
