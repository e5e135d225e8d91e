"""Signal handlers: permission changes and log-in lockouts go into the audit log.

Connected in :meth:`tryg.accounts.apps.AccountsConfig.ready`. Saving a user compares its
permission fields with the stored row (read in ``pre_save``); the many-to-many signals cover
groups and individual permissions from both sides (``user.groups.add(g)`` and
``g.user_set.add(u)``), and a group's own permissions.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.utils import timezone

from tryg.accounts import permission_audit
from tryg.accounts.models import PERMISSION_FIELDS, AuditEvent, User, audit

_BEFORE = "_tryg_permissions_before"
_CLEARED = "_tryg_m2m_cleared"


def _relevant(update_fields: Any) -> bool:
    """False for saves that touch no permission field (e.g. ``last_login`` at log-in)."""
    if update_fields is None:
        return True
    names = {"organisation_id" if f == "organisation" else f for f in update_fields}
    return bool(names & set(PERMISSION_FIELDS))


def user_pre_save(sender: type[User], instance: User, raw: bool = False,
                  update_fields: Any = None, **kwargs: Any) -> None:
    if raw or instance._state.adding or not _relevant(update_fields):
        return
    before = (User._base_manager.filter(pk=instance.pk)
              .values(*PERMISSION_FIELDS).first())
    setattr(instance, _BEFORE, before)


def user_post_save(sender: type[User], instance: User, created: bool, raw: bool = False,
                   update_fields: Any = None, **kwargs: Any) -> None:
    if raw:
        return
    if created:
        permission_audit.audit_created(instance)
        return
    before = instance.__dict__.pop(_BEFORE, None)
    if before is not None:
        permission_audit.audit_changes(instance.get_username(), before,
                                       permission_audit.snapshot(instance))


def user_post_delete(sender: type[User], instance: User, **kwargs: Any) -> None:
    permission_audit.audit_deleted(instance)


def _names(model: type[Any], pks: set[Any] | None) -> list[str]:
    if not pks:
        return []
    if model is Permission:
        return [f"{app}.{code}" for app, code in Permission.objects.filter(pk__in=pks)
                .values_list("content_type__app_label", "codename")]
    return [str(o) for o in model.objects.filter(pk__in=pks)]


def user_m2m_changed(sender: Any, instance: Any, action: str, reverse: bool,
                     model: type[Any], pk_set: set[Any] | None, **kwargs: Any) -> None:
    """``User.groups`` or ``User.user_permissions`` changed, from either side."""
    kind = "groups" if sender is User.groups.through else "permissions"
    if action == "pre_clear":
        # Remember what is about to go: post_clear has no pk_set.
        related = (instance.user_set.all() if reverse else
                   getattr(instance, "groups" if kind == "groups" else "user_permissions"))
        setattr(instance, _CLEARED, set(related.values_list("pk", flat=True)))
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if action == "post_clear":
        pk_set = instance.__dict__.pop(_CLEARED, set())
    verb = "added" if action == "post_add" else "removed"
    if reverse:  # instance is a Group or Permission; pk_set are users
        users = list(User._base_manager.filter(pk__in=pk_set or ()))
        name = (_names(Permission, {instance.pk})[0] if isinstance(instance, Permission)
                else str(instance))
        permission_audit.audit_membership(kind, verb, users, [name])
    else:
        permission_audit.audit_membership(kind, verb, [instance], _names(model, pk_set))


def group_permissions_changed(sender: Any, instance: Any, action: str, reverse: bool,
                              model: type[Any], pk_set: set[Any] | None,
                              **kwargs: Any) -> None:
    """``Group.permissions`` changed: the rights of every member change."""
    if action == "pre_clear":
        related = instance.group_set.all() if reverse else instance.permissions.all()
        setattr(instance, _CLEARED, set(related.values_list("pk", flat=True)))
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if action == "post_clear":
        pk_set = instance.__dict__.pop(_CLEARED, set())
    verb = "added" if action == "post_add" else "removed"
    if reverse:  # instance is a Permission; pk_set are groups
        perm = _names(Permission, {instance.pk})
        for group in Group.objects.filter(pk__in=pk_set or ()):
            members = group.user_set.values_list("username", flat=True)
            permission_audit.audit_group_permissions(group.name, verb, perm, members)
    else:
        members = instance.user_set.values_list("username", flat=True)
        permission_audit.audit_group_permissions(
            instance.name, verb, _names(Permission, pk_set), members)


def login_locked(sender: Any, request: Any = None, username: str | None = None,
                 ip_address: str | None = None, **kwargs: Any) -> None:
    """django-axes locked a user name + address after too many failed log-ins.

    axes signals again at every further attempt during the lock; one event per lock is
    enough (an attack would otherwise fill the log).
    """
    since = timezone.now() - timedelta(hours=float(settings.AXES_COOLOFF_TIME or 1))
    if AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_LOCKED, at__gte=since,
                                 details__username=username or "",
                                 details__ip_address=ip_address or "").exists():
        return
    audit(AuditEvent.Action.LOGIN_LOCKED, f"user {username or '?'}",
          username=username or "", ip_address=ip_address or "")


#: The length of django-axes' user name column (its failed log-ins, by user name).
AXES_USERNAME_LENGTH = 255


def axes_username(request: Any, credentials: dict[str, Any] | None) -> str | None:
    """The user name django-axes records for a log-in (``AXES_USERNAME_CALLABLE``): as sent,
    cut to its column. Django's log-in forms pass a name of any length to ``authenticate``
    (their ``max_length`` is only the input's attribute), so a posted name of 256 characters
    or more would not fit axes' column: a server error on PostgreSQL. No account has such a
    name; the cut one still counts its failures."""
    field = getattr(settings, "AXES_USERNAME_FORM_FIELD", "username")
    name = (credentials or getattr(request, "POST", {})).get(field)
    return name[:AXES_USERNAME_LENGTH] if isinstance(name, str) else None


def connect() -> None:
    """Connect the handlers (idempotent: each has a ``dispatch_uid``)."""
    from axes.signals import user_locked_out

    pre_save.connect(user_pre_save, sender=User, dispatch_uid="tryg_user_pre_save")
    post_save.connect(user_post_save, sender=User, dispatch_uid="tryg_user_post_save")
    post_delete.connect(user_post_delete, sender=User, dispatch_uid="tryg_user_post_delete")
    m2m_changed.connect(user_m2m_changed, sender=User.groups.through,
                        dispatch_uid="tryg_user_groups")
    m2m_changed.connect(user_m2m_changed, sender=User.user_permissions.through,
                        dispatch_uid="tryg_user_permissions")
    m2m_changed.connect(group_permissions_changed, sender=Group.permissions.through,
                        dispatch_uid="tryg_group_permissions")
    user_locked_out.connect(login_locked, dispatch_uid="tryg_login_locked")
