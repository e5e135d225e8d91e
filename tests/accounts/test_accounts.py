"""Accounts: Argon2, log-in throttling, partners' organisations, the audit log, `tryg user add`."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from django.contrib.auth.hashers import identify_hasher
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tryg.accounts import roles
from tryg.accounts.admin import TrygUserAdmin
from tryg.accounts.current import acting_as
from tryg.accounts.models import AuditEvent, AuditLogLockedError, Organisation, Role, User

PASSWORD = "correct horse battery staple 1"


def _permission_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditEvent.Action.PERMISSION).order_by("id"))


@pytest.fixture
def housing() -> Organisation:
    return Organisation.objects.create(name="Boligforeningen", kind="housing")


# -- passwords and log-in ------------------------------------------------------------------------


@pytest.mark.django_db
def test_stored_passwords_are_argon2() -> None:
    user = User.objects.create_user("ana", password=PASSWORD, role=Role.ANALYST)
    stored = User.objects.get(pk=user.pk).password
    assert stored.startswith("argon2$argon2id$")
    assert identify_hasher(stored).algorithm == "argon2"
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


@pytest.mark.django_db
def test_an_old_pbkdf2_password_is_rehashed_to_argon2_at_log_in() -> None:
    from django.contrib.auth.hashers import make_password

    user = User.objects.create_user("old", role=Role.ANALYST)
    User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    response = Client().post(reverse("login"), {"username": "old", "password": PASSWORD})
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).password.startswith("argon2$")


@pytest.mark.django_db
def test_log_in_works_and_is_locked_after_the_configured_failures(
        settings: Any) -> None:
    User.objects.create_user("ana", password=PASSWORD, role=Role.ANALYST)
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == settings.CONFIG.login_attempts == 5  # TRYG_LOGIN_ATTEMPTS default
    client = Client()
    ok = client.post(reverse("login"), {"username": "ana", "password": PASSWORD})
    assert ok.status_code == 302 and "_auth_user_id" in client.session
    client.post(reverse("logout"))

    for attempt in range(1, limit + 1):
        response = client.post(reverse("login"), {"username": "ana", "password": "wrong"})
        if attempt < limit:
            assert response.status_code == 200  # the form again, with its error
            assert 'role="alert"' in response.content.decode()
    assert response.status_code == 429  # the lock page
    # Now even the right password is refused, from this address, for this user name.
    response = client.post(reverse("login"), {"username": "ana", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # The lock is audited once, however many attempts follow.
    client.post(reverse("login"), {"username": "ana", "password": "wrong again"})
    locked = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_LOCKED)
    assert locked.count() == 1
    assert locked.get().details["username"] == "ana"
    assert locked.get().details["ip_address"] == "127.0.0.1"
    # Another user name from the same address is not locked.
    User.objects.create_user("bo", password=PASSWORD, role=Role.WALKER)
    other = client.post(reverse("login"), {"username": "bo", "password": PASSWORD})
    assert other.status_code == 302


# -- roles and organisations ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_partner_needs_an_organisation(housing: Organisation) -> None:
    partner = User(username="p", role=Role.PARTNER)
    with pytest.raises(ValidationError) as info:
        partner.full_clean()
    assert "organisation" in info.value.message_dict
    # The database refuses it too, whatever path the row takes.
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="p2", role=Role.PARTNER)
    ok = User(username="p3", role=Role.PARTNER, organisation=housing)
    ok.set_password(PASSWORD)
    ok.full_clean()
    ok.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=ok.pk).update(organisation=None)


@pytest.mark.django_db
def test_an_analyst_works_for_a_municipality_or_police(housing: Organisation) -> None:
    with pytest.raises(ValidationError):
        User(username="a", role=Role.ANALYST, organisation=housing).full_clean(
            exclude=["password"])
    police = Organisation.objects.create(name="Nordjyllands Politi", kind="police")
    User(username="a", role=Role.ANALYST, organisation=police).full_clean(exclude=["password"])


@pytest.mark.django_db
def test_the_admin_form_refuses_a_partner_without_organisation(
        housing: Organisation) -> None:
    admin_user = User.objects.create_superuser("root", "r@example.org", PASSWORD)
    client = Client()
    client.force_login(admin_user)
    target = User.objects.create_user("someone", password=PASSWORD)
    url = reverse("admin:accounts_user_change", args=[target.pk])
    form = {"username": "someone", "role": "partner", "organisation": "",
            "is_active": "on", "date_joined_0": "2030-01-01", "date_joined_1": "12:00:00"}
    response = client.post(url, form)
    assert response.status_code == 200  # the form again
    assert "organisation" in response.context["adminform"].form.errors
    assert User.objects.get(pk=target.pk).role == Role.WALKER
    form["organisation"] = str(housing.pk)
    response = client.post(url, form)
    assert response.status_code == 302
    assert User.objects.get(pk=target.pk).role == Role.PARTNER
    # The add form asks for the role and the organisation as well.
    assert {"role", "organisation"} <= {
        f for _, opts in TrygUserAdmin.add_fieldsets for f in opts["fields"]}


@pytest.mark.django_db
def test_roles() -> None:
    org = Organisation.objects.create(name="Kommunen", kind="municipality")
    people = {r: User.objects.create_user(r, password=PASSWORD, role=r,
                                          organisation=org) for r in Role.values}
    root = User.objects.create_superuser("root", "r@example.org", PASSWORD)
    assert roles.role_of(root) == Role.ADMINISTRATOR
    assert roles.role_of(None) is None
    assert [r for r, u in people.items() if roles.can_see_microdata(u)] == [
        "administrator", "analyst"]
    assert [r for r, u in people.items() if roles.can_see_unpublished(u)] == [
        "administrator", "analyst", "coordinator"]
    assert [r for r, u in people.items() if roles.can_publish(u)] == [
        "administrator", "analyst"]
    people["analyst"].is_active = False
    assert not roles.can_see_microdata(people["analyst"])


# -- the audit log -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_permission_changes_are_audited(housing: Organisation) -> None:
    admin_user = User.objects.create_superuser("root", "r@example.org", PASSWORD)
    user = User.objects.create_user("kim", password=PASSWORD)
    created = _permission_events()[-1]
    assert created.target == "user kim"
    assert created.details["change"] == "created"
    assert created.details["values"]["role"] == "walker"

    with acting_as(admin_user):
        user.role = Role.PARTNER
        user.organisation = housing
        user.save()
    event = _permission_events()[-1]
    assert event.details["changes"] == {"role": ["walker", "partner"],
                                        "organisation": [None, "Boligforeningen"]}
    assert event.actor == admin_user and event.actor_name == "root"

    count = len(_permission_events())
    user.first_name = "Kim"
    user.save()
    User.objects.filter(pk=user.pk).update(last_name="Hansen")
    user.last_login = None
    user.save(update_fields=["last_login"])
    assert len(_permission_events()) == count  # nothing about permissions changed

    User.objects.filter(pk=user.pk).update(is_staff=True)
    assert _permission_events()[-1].details["changes"] == {"is_staff": [False, True]}
    user.refresh_from_db()
    user.is_superuser = True
    user.is_active = False
    User.objects.bulk_update([user], ["is_superuser", "is_active"])
    assert _permission_events()[-1].details["changes"] == {
        "is_superuser": [False, True], "is_active": [True, False]}

    group = Group.objects.create(name="redaktion")
    user.groups.add(group)
    assert _permission_events()[-1].details == {"change": "groups added", "groups": ["redaktion"]}
    group.user_set.remove(user)
    assert _permission_events()[-1].details == {"change": "groups removed",
                                                "groups": ["redaktion"]}
    user.groups.add(group)
    user.groups.clear()
    assert _permission_events()[-1].details == {"change": "groups removed",
                                                "groups": ["redaktion"]}
    perm = Permission.objects.get(codename="view_user")
    user.user_permissions.add(perm)
    assert _permission_events()[-1].details == {"change": "permissions added",
                                                "permissions": ["accounts.view_user"]}
    user.groups.add(group)
    group.permissions.add(perm)
    event = _permission_events()[-1]
    assert event.target == "group redaktion"
    assert event.details == {"change": "permissions added",
                             "permissions": ["accounts.view_user"], "members": ["kim"]}
    user.delete()
    assert _permission_events()[-1].details["change"] == "deleted"


@pytest.mark.django_db
def test_a_role_change_in_the_admin_is_audited_with_who_made_it() -> None:
    admin_user = User.objects.create_superuser("root", "r@example.org", PASSWORD)
    target = User.objects.create_user("someone", password=PASSWORD)
    client = Client()
    client.force_login(admin_user)
    form = {"username": "someone", "role": "coordinator", "is_active": "on",
            "date_joined_0": "2030-01-01", "date_joined_1": "12:00:00"}
    response = client.post(reverse("admin:accounts_user_change", args=[target.pk]), form)
    assert response.status_code == 302
    event = _permission_events()[-1]
    assert event.target == "user someone"
    assert event.details["changes"]["role"] == ["walker", "coordinator"]
    assert event.actor_name == "root"


@pytest.mark.django_db
def test_the_audit_log_cannot_be_edited() -> None:
    user = User.objects.create_user("kim", password=PASSWORD)
    event = _permission_events()[-1]
    event.target = "something else"
    with pytest.raises(AuditLogLockedError):
        event.save()
    with pytest.raises(AuditLogLockedError):
        event.delete()
    with pytest.raises(AuditLogLockedError):
        AuditEvent.objects.filter(pk=event.pk).update(target="x")
    with pytest.raises(AuditLogLockedError):
        AuditEvent.objects.all().delete()
    # Under the ORM, the database refuses as well.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_auditevent SET target = 'x' WHERE id = %s", [event.pk])
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute("DELETE FROM accounts_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).target == "user kim"
    # Deleting a user keeps the events it made, with its name.
    with acting_as(user):
        User.objects.create_user("other", password=PASSWORD)
    made = _permission_events()[-1]
    assert made.actor == user
    user.delete()
    made = AuditEvent.objects.get(pk=made.pk)
    assert made.actor is None and made.actor_name == "kim"


@pytest.mark.django_db
def test_the_admin_shows_the_audit_log_read_only() -> None:
    admin_user = User.objects.create_superuser("root", "r@example.org", PASSWORD)
    client = Client()
    client.force_login(admin_user)
    event = _permission_events()[-1]
    page = client.get(reverse("admin:accounts_auditevent_changelist"))
    assert page.status_code == 200 and "user root" in page.content.decode()
    assert client.get(reverse("admin:accounts_auditevent_add")).status_code == 403
    assert client.post(reverse("admin:accounts_auditevent_delete", args=[event.pk]),
                       {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


# -- tryg user add -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_user_add_with_a_prompted_password() -> None:
    from tryg.cli.main import tryg

    Organisation.objects.create(name="Boligforeningen", kind="housing")
    runner = CliRunner()
    result = runner.invoke(tryg, ["user", "add", "pia", "--role", "partner",
                                  "--organisation", "Boligforeningen"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "created partner 'pia' in Boligforeningen" in result.output
    pia = User.objects.get(username="pia")
    assert pia.role == Role.PARTNER and pia.organisation is not None
    assert pia.password.startswith("argon2$") and pia.check_password(PASSWORD)
    assert not pia.is_staff
    assert _permission_events()[-1].target == "user pia"


@pytest.mark.django_db
def test_user_add_refuses_weak_passwords_and_partners_without_organisation() -> None:
    from tryg.cli.main import tryg

    runner = CliRunner()
    with translation.override("en"):  # the default language (da) words it differently
        weak = runner.invoke(tryg, ["user", "add", "ole", "--role", "analyst"],
                             input="12345\n12345\n")
        assert weak.exit_code != 0
        assert "too short" in weak.output
        lonely = runner.invoke(tryg, ["user", "add", "ole", "--role", "partner",
                                      "--generate-password"])
        assert lonely.exit_code != 0
        assert "partner must belong to an organisation" in lonely.output
        unknown = runner.invoke(tryg, ["user", "add", "ole", "--role", "partner",
                                       "--organisation", "Ukendt", "--generate-password"])
        assert unknown.exit_code != 0 and "--organisation-kind" in unknown.output
        assert not User.objects.filter(username="ole").exists()
    assert not Organisation.objects.filter(name="Ukendt").exists()


@pytest.mark.django_db
def test_user_add_generates_a_password_and_makes_administrators_staff() -> None:
    from tryg.cli.main import tryg

    runner = CliRunner()
    result = runner.invoke(tryg, ["user", "add", "root", "--role", "administrator",
                                  "--organisation", "Testkommune", "--organisation-kind",
                                  "municipality", "--generate-password"])
    assert result.exit_code == 0, result.output
    password = result.output.split("password (shown once): ")[1].strip()
    root = User.objects.get(username="root")
    assert root.check_password(password) and len(password) >= 20
    assert root.is_staff and root.is_superuser
    assert root.organisation == Organisation.objects.get(name="Testkommune", kind="municipality")
    again = runner.invoke(tryg, ["user", "add", "root", "--role", "walker",
                                 "--generate-password"])
    assert again.exit_code != 0 and "exists already" in again.output
