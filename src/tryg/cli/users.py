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
    from tryg.accounts.services import AccountError, add_user, check_password, organisation_for

    try:
        organisation_for(username, organisation, organisation_kind)
        if generate_password:
            password = secrets.token_urlsafe(15)
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
            check_password(password, username=username, email=email, role=role)
        made = add_user(username, password, role=role, email=email, organisation=organisation,
                        organisation_kind=organisation_kind)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    where = f" in {made.organisation.name}" if made.organisation is not None else ""
    click.echo(f"created {role} {username!r}{where}")
    if generate_password:
        click.echo(f"password (shown once): {password}")
