"""Organisations, users and their roles, and the audit log.

Roles are a field on the user, not Django groups: a role decides what a person may see (see
:mod:`tryg.accounts.roles`), and a partner is always bound to one organisation.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Organisation(models.Model):
    class Kind(models.TextChoices):
        MUNICIPALITY = "municipality", _("Municipality")
        POLICE = "police", _("Police district")
        REGION = "region", _("Region")
        HOUSING = "housing", _("Housing association")
        LOCAL_COUNCIL = "local_council", _("Local council")
        PARTNER = "partner", _("Other partner")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    area_code = models.CharField(
        _("area code"), max_length=40, blank=True,
        help_text=_("The area the organisation covers (a kommune, a police district)."))

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("Administrator")
    ANALYST = "analyst", _("Analyst")
    COORDINATOR = "coordinator", _("Strategy coordinator")
    PARTNER = "partner", _("Partner")
    WALKER = "walker", _("Walk participant")


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices,
                            default=Role.WALKER)
    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"),
                                     null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="members")

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")


class AuditEvent(models.Model):
    """Who did what, when: imports, runs, publications, permission changes. Append-only."""

    class Action(models.TextChoices):
        IMPORT = "import", _("Import")
        IMPORT_FAILED = "import_failed", _("Import failed")
        RUN = "run", _("Index run")
        PUBLISH = "publish", _("Publication")
        UNPUBLISH = "unpublish", _("Publication withdrawn")
        PERMISSION = "permission", _("Permission change")
        LOGIN_LOCKED = "login_locked", _("Log-in locked")

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True,
                              blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    target = models.CharField(_("object"), max_length=300, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target}"


def audit(action: str, target: str, *, actor: Any = None, **details: Any) -> AuditEvent:
    """Record one audit event (call it inside the transaction of what it records)."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(action=action, target=target[:300], actor=user,
                                     details=details)
