"""``tryg walks remind``: e-mail reminders of the coming safety walks (run it daily)."""

from __future__ import annotations

import click


@click.group("walks")
def walks() -> None:
    """Safety walks."""


@walks.command("remind")
@click.option("--within-days", type=click.IntRange(0, 60), default=2, show_default=True,
              help="Remind of the planned walks in this many days from today.")
@click.option("--base-url", required=True,
              help="The site's address for the personal links, e.g. https://tryg.example.dk")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="The data folder (overrides TRYG_DATA_DIR).")
def remind(within_days: int, base_url: str, data_dir: str | None) -> None:
    """Remind the participants of the coming walks.

    Each participant with an address is reminded once, with the calendar file and their
    personal link.
    """
    from tryg.cli.site import setup_site

    setup_site(data_dir)
    from django.utils import timezone

    from tryg.walks.invitations import remind_due

    if not base_url.startswith(("https://", "http://")):
        raise click.BadParameter("must start with https:// or http://",
                                 param_hint="--base-url")
    count = remind_due(today=timezone.localdate(), within_days=within_days,
                       base_url=base_url)
    click.echo(f"{count} reminders sent")
