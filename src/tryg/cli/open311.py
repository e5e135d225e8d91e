"""``tryg open311 key add|list|revoke``: API keys for other city systems posting requests.

A key is printed once, when made; only its hash is stored. Each key belongs to an
organisation (the system that posts with it).
"""

from __future__ import annotations

import click

_DATA_DIR = click.option("--data-dir", type=click.Path(file_okay=False), default=None,
                         help="The data folder (overrides TRYG_DATA_DIR).")


@click.group("open311")
def open311() -> None:
    """Open311 GeoReport v2 (/open311/v2/).

    Other city systems read the public findings there and post new ones with a key."""


@open311.group("key")
def key() -> None:
    """API keys for posting requests."""


@key.command("add")
@click.argument("organisation")
@click.option("--name", default="", help="What the key is for (e.g. the system using it).")
@_DATA_DIR
def add(organisation: str, name: str, data_dir: str | None) -> None:
    """Make a key for ORGANISATION, print it once.

    ORGANISATION is the organisation's name; only the key's hash is stored."""
    from tryg.cli.site import setup_site

    setup_site(data_dir)
    from tryg.accounts.models import Organisation
    from tryg.walks.open311 import keys

    org = Organisation.objects.filter(name=organisation).first()
    if org is None:
        known = ", ".join(Organisation.objects.values_list("name", flat=True)) or "none"
        raise click.ClickException(f"there is no organisation named {organisation!r} "
                                   f"(known: {known})")
    record, secret = keys.add(org, name)
    click.echo(f"key #{record.pk} for {org.name} (shown only now, store it safely):")
    click.echo(secret)


@key.command("list")
@_DATA_DIR
def list_(data_dir: str | None) -> None:
    """List the keys by their first characters.

    The keys themselves are never stored, so never shown."""
    from tryg.cli.site import setup_site

    setup_site(data_dir)
    from tryg.walks.open311.models import ApiKey

    for k in ApiKey.objects.select_related("organisation"):
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "live"
        click.echo(f"#{k.pk}\t{k.prefix}…\t{k.organisation.name}\t{k.name}\t{state}")


@key.command("revoke")
@click.argument("key_id", type=int)
@_DATA_DIR
def revoke(key_id: int, data_dir: str | None) -> None:
    """Revoke key number KEY_ID."""
    from tryg.cli.site import setup_site

    setup_site(data_dir)
    from tryg.walks.open311 import keys

    if not keys.revoke(key_id):
        raise click.ClickException(f"there is no live key #{key_id}")
    click.echo(f"key #{key_id} revoked")
