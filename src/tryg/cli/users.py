"""``tryg user add``: accounts from the command line (the first administrator, scripts).

The password is asked for twice (hidden) or, with ``--generate-password``, made and shown
once. It is checked by the site's password validators and stored with the site's hasher
(Argon2). Creating the account is a permission change and lands in the audit log.
"""

from __future__ import annotations

import secrets

import click

ROLES = ("administrator", "analyst", "coordinator", "partner", "walker")
ORGANISATION_KINDS = ("municipality", "police", "region", "housing", "local_council",
                      "partner")


@click.group("user")
def user() -> None:
    """Manage user accounts."""


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES),
              help="What the person may see and do (see the README).")
@click.option("--organisation", default=None,
              help="Name of the organisation the person belongs to (required for partners).")
@click.option("--organisation-kind", type=click.Choice(ORGANISATION_KINDS), default=None,
              help="Create the organisation with this kind if it does not exist yet.")
@click.option("--email", default="", help="E-mail address.")
@click.option("--generate-password", is_flag=True,
              help="Make a random password and print it once, instead of asking for one.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="The data folder (overrides TRYG_DATA_DIR).")
def add(username: str, role: str, organisation: str | None, organisation_kind: str | None,
        email: str, generate_password: bool, data_dir: str | None) -> None:
    """Create an account with a role.

    An administrator may use the admin pages and sees everything; a partner must name an
    organisation.
    """
    from tryg.cli.site import setup_site

    setup_site(data_dir)
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from tryg.accounts.models import Organisation, User

    if User.objects.filter(username=username).exists():
        raise click.ClickException(f"a user named {username!r} exists already")
    org = None
    if organisation:
        org = Organisation.objects.filter(name=organisation).first()
        if org is None and organisation_kind is None:
            known = ", ".join(Organisation.objects.values_list("name", flat=True)) or "none"
            raise click.ClickException(
                f"no organisation named {organisation!r} (known: {known}); add "
                "--organisation-kind KIND to create it")
    candidate = User(username=username, email=email, role=role)
    if generate_password:
        password = secrets.token_urlsafe(15)
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            validate_password(password, candidate)
        except ValidationError as exc:
            raise click.ClickException(" ".join(exc.messages)) from exc
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
            raise click.ClickException(" ".join(exc.messages)) from exc
        candidate.save()
    where = f" in {org.name}" if org is not None else ""
    click.echo(f"created {role} {username!r}{where}")
    if generate_password:
        click.echo(f"password (shown once): {password}")
