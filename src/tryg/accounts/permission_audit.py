"""Audit events for permission changes: what changed, from what, to what.

A permission change is anything that changes what a person may see or do: the role, the
organisation, ``is_staff``/``is_superuser``/``is_active``, the groups and the individual
permissions of a user, the permissions of a group, and the creation or deletion of an account.
The signal handlers (:mod:`tryg.accounts.signals`) and the bulk updates of
:class:`tryg.accounts.models.UserQuerySet` call the functions here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tryg.accounts.models import PERMISSION_FIELDS, AuditEvent, Organisation, User, audit


def _readable(field: str, value: Any) -> Any:
    if field == "organisation_id":
        if value is None:
            return None
        org = Organisation.objects.filter(pk=value).values_list("name", flat=True).first()
        return org if org is not None else value
    return value


def _label(field: str) -> str:
    return "organisation" if field == "organisation_id" else field


def snapshot(user: User) -> dict[str, Any]:
    """The permission fields of ``user`` as they are in memory."""
    return {f: getattr(user, f) for f in PERMISSION_FIELDS}


def audit_changes(username: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
    """One audit event listing every permission field that differs, if any does."""
    changes = {_label(f): [_readable(f, before[f]), _readable(f, after[f])]
               for f in PERMISSION_FIELDS if before[f] != after[f]}
    if changes:
        audit(AuditEvent.Action.PERMISSION, f"user {username}", change="changed",
              changes=changes)


def audit_created(user: User) -> None:
    audit(AuditEvent.Action.PERMISSION, f"user {user.get_username()}", change="created",
          values={_label(f): _readable(f, v) for f, v in snapshot(user).items()})


def audit_deleted(user: User) -> None:
    audit(AuditEvent.Action.PERMISSION, f"user {user.get_username()}", change="deleted",
          values={_label(f): _readable(f, v) for f, v in snapshot(user).items()})


def audit_bulk_change(before: Iterable[Mapping[str, Any]], fields: set[str]) -> None:
    """After a queryset ``update``/``bulk_update``: compare with the rows read before."""
    rows = {r["pk"]: r for r in before}
    after = User._base_manager.filter(pk__in=rows).values("pk", *PERMISSION_FIELDS)
    for row in after:
        audit_changes(rows[row["pk"]]["username"], rows[row["pk"]], row)


def audit_membership(kind: str, action: str, users: Iterable[User],
                     names: Iterable[str]) -> None:
    """Groups or permissions added to / removed from users."""
    names = sorted(names)
    if not names:
        return
    for user in users:
        audit(AuditEvent.Action.PERMISSION, f"user {user.get_username()}",
              change=f"{kind} {action}", **{kind: names})


def audit_group_permissions(group_name: str, action: str, names: Iterable[str],
                            members: Iterable[str]) -> None:
    """Permissions added to / removed from a group: every member's rights change."""
    names = sorted(names)
    if names:
        audit(AuditEvent.Action.PERMISSION, f"group {group_name}",
              change=f"permissions {action}", permissions=names, members=sorted(members))
