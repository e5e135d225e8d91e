"""Organisations, users and their roles, and the audit log.

Roles are a field on the user, not Django groups: a role decides what a person may see (see
:mod:`tryg.accounts.roles`), and a partner is always bound to one organisation.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
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

    def clean(self) -> None:
        """A kind an analyst may not work for is refused while analysts belong to it (the
        rule of :meth:`User.clean`, which changing the organisation would otherwise undo)."""
        super().clean()
        if (self.pk is not None and self.kind not in ANALYST_KINDS
                and self.members.filter(role=Role.ANALYST).exists()):
            raise ValidationError({"kind": _(
                "An analyst works for a municipality or a police district.")})


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("Administrator")
    ANALYST = "analyst", _("Analyst")
    COORDINATOR = "coordinator", _("Strategy coordinator")
    PARTNER = "partner", _("Partner")
    WALKER = "walker", _("Walk participant")


#: The kinds of organisation an analyst works for.
ANALYST_KINDS = (Organisation.Kind.MUNICIPALITY, Organisation.Kind.POLICE)

#: Fields of a user that decide what the user may see or do: every change is audited.
PERMISSION_FIELDS: tuple[str, ...] = (
    "role", "organisation_id", "is_staff", "is_superuser", "is_active")


class UserQuerySet(models.QuerySet["User"]):
    """``update()`` and ``bulk_update()`` bypass the model signals; these audit them too."""

    def update(self, **kwargs: Any) -> int:
        changed = {_field_name(k) for k in kwargs} & set(PERMISSION_FIELDS)
        if not changed:
            return super().update(**kwargs)
        from tryg.accounts.permission_audit import audit_bulk_change

        before = list(self.values("pk", "username", *PERMISSION_FIELDS))
        count = super().update(**kwargs)
        audit_bulk_change(before, changed)
        return count

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        objs = list(objs)
        changed = {_field_name(f) for f in fields} & set(PERMISSION_FIELDS)
        if not changed:
            return super().bulk_update(objs, fields, batch_size=batch_size)
        from tryg.accounts.permission_audit import audit_bulk_change

        pks = [o.pk for o in objs]
        before = list(self.model._default_manager.filter(pk__in=pks)
                      .values("pk", "username", *PERMISSION_FIELDS))
        count = super().bulk_update(objs, fields, batch_size=batch_size)
        audit_bulk_change(before, changed)
        return count


def _field_name(name: str) -> str:
    return "organisation_id" if name == "organisation" else name


class UserManager(DjangoUserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    use_in_migrations = True


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices,
                            default=Role.WALKER)
    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"),
                                     null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="members")

    objects: ClassVar[UserManager] = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # A partner speaks for an organisation: without one the account means nothing.
            models.CheckConstraint(
                condition=~models.Q(role="partner") | models.Q(organisation__isnull=False),
                name="partner_has_organisation",
                violation_error_message=_("A partner must belong to an organisation."),
            ),
        ]

    def clean(self) -> None:
        super().clean()
        if self.role == Role.PARTNER and self.organisation_id is None:
            raise ValidationError(
                {"organisation": _("A partner must belong to an organisation.")})
        if (self.role == Role.ANALYST and self.organisation is not None
                and self.organisation.kind not in ANALYST_KINDS):
            raise ValidationError({"organisation": _(
                "An analyst works for a municipality or a police district.")})


class AuditQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        # Deleting a user sets ``actor`` to NULL (on_delete=SET_NULL): the one allowed change.
        if kwargs.keys() == {"actor"} and kwargs["actor"] is None:
            return super().update(**kwargs)
        raise AuditLogLockedError(_("The audit log cannot be changed."))

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogLockedError(_("The audit log cannot be changed."))


class AuditLogLockedError(PermissionError):
    """An attempt to change or delete an audit event."""


class AuditEvent(models.Model):
    """Who did what, when: imports, runs, publications, permission changes. Append-only.

    Locked three ways: the admin is read-only; ``save()`` of an existing event, ``delete()``
    and the queryset's ``update()``/``delete()`` raise :class:`AuditLogLockedError`; and a database
    trigger (migration 0002) refuses an UPDATE of the event's content. The one change allowed
    is the database's own ``actor = NULL`` when a user is deleted; ``actor_name`` keeps who it
    was.
    """

    class Action(models.TextChoices):
        IMPORT = "import", _("Import")
        IMPORT_FAILED = "import_failed", _("Import failed")
        IMPORT_WITHDRAWN = "import_withdrawn", _("Import withdrawn")
        RUN = "run", _("Index run")
        PUBLISH = "publish", _("Publication")
        UNPUBLISH = "unpublish", _("Publication withdrawn")
        PERMISSION = "permission", _("Permission change")
        LOGIN_LOCKED = "login_locked", _("Log-in locked")

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True,
                              blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(_("by (user name)"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    target = models.CharField(_("object"), max_length=300, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditLogLockedError(_("The audit log cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogLockedError(_("The audit log cannot be changed."))


def audit(action: str, target: str, *, actor: Any = None, **details: Any) -> AuditEvent:
    """Record one audit event (call it inside the transaction of what it records).

    Without ``actor`` the user of the current request is taken (see
    :mod:`tryg.accounts.current`), so a change made in the admin is attributed to whoever
    made it.
    """
    if actor is None:
        from tryg.accounts.current import current_user

        actor = current_user()
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        action=action, target=target[:300], actor=user,
        actor_name=user.get_username() if user is not None else "", details=details)
