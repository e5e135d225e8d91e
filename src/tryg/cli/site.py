"""``tryg serve`` and ``tryg manage``: the Django site from the command line."""

from __future__ import annotations

import click

from tryg.site.config import SETTINGS

_ENV_HELP = "\n\n".join(f"{s.name}: {s.help} (default: {s.default or 'empty'})"
                        for s in SETTINGS)


def setup_site(data_dir: str | None = None, *, migrate: bool = True) -> None:
    """Configure Django for this process and bring the database schema up to date."""
    import os

    if data_dir:
        os.environ["TRYG_DATA_DIR"] = data_dir
    from tryg.site import setup

    setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)


@click.command("serve", help=f"""Serve the site on existing data.

Uses waitress (a production-grade WSGI server that also runs on Windows laptops); behind a
reverse proxy in production, or use `gunicorn tryg.site.wsgi`. Settings come from the
environment:

{_ENV_HELP}""")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="The data folder (overrides TRYG_DATA_DIR).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=int,
              help="Worker threads answering requests.")
def serve(data_dir: str | None, host: str, port: int, threads: int) -> None:
    setup_site(data_dir)
    from django.conf import settings
    from waitress import serve as waitress_serve

    from tryg.imports.uploads import FORM_OVERHEAD, max_upload_bytes
    from tryg.site.wsgi import application

    click.echo(f"tryg is served on http://{host}:{port}/  (Ctrl+C stops it)")
    # waitress refuses a body past its own limit (1 GB by default) with a bare 413 before
    # the site sees it: make room for TRYG_MAX_UPLOAD_MB, so that the site says why.
    # Past twice that, waitress refuses from the Content-Length, before any of it arrives.
    body = 2 * (max_upload_bytes() + FORM_OVERHEAD + settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    waitress_serve(application, host=host, port=port, threads=threads, ident="tryg",
                   max_request_body_size=body)


@click.command("manage", context_settings={"ignore_unknown_options": True,
                                           "allow_extra_args": True})
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="The data folder (overrides TRYG_DATA_DIR).")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def manage(data_dir: str | None, args: tuple[str, ...]) -> None:
    """Run a Django management command.

    For example `tryg manage migrate`, `tryg manage createsuperuser` or
    `tryg manage collectstatic`, on the data folder's database.
    """
    setup_site(data_dir, migrate=False)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["tryg manage", *args])
