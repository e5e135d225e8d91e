"""``tryg serve`` and ``tryg manage``: the Django site from the command line."""

from __future__ import annotations

import click

from tryg.site.config import SETTINGS

#: The start of the line `tryg serve` prints once it listens.
SERVED_ON = "tryg is served on"

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
reverse proxy in production (set TRYG_TRUSTED_PROXIES to its address), or use
`gunicorn tryg.site.wsgi`. Settings come from the environment:

{_ENV_HELP}""")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="The data folder (overrides TRYG_DATA_DIR).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=int,
              help="Worker threads answering requests.")
@click.option("--worker/--no-worker", default=True, show_default=True,
              help="Start a background worker (tryg worker) beside the server; --no-worker "
                   "when workers run as their own services.")
def serve(data_dir: str | None, host: str, port: int, threads: int, worker: bool) -> None:
    setup_site(data_dir)
    from django.conf import settings
    from waitress.server import create_server

    from tryg.imports.uploads import FORM_OVERHEAD, max_upload_bytes
    from tryg.site.wsgi import application

    trusted = settings.TRYG_TRUSTED_PROXIES
    if settings.CONFIG.secure and not trusted:
        click.echo("note: TRYG_SECURE=1 but TRYG_TRUSTED_PROXIES is empty: no request counts "
                   "as https, so every one is redirected to https. Set TRYG_TRUSTED_PROXIES "
                   "to the address of the reverse proxy that ends TLS.", err=True)
    # waitress trusts one exact address or every peer ('*'), and when it trusts X-Forwarded-For
    # it replaces REMOTE_ADDR by the entry a fixed count (trusted_proxy_count) from the right.
    # TRYG_TRUSTED_PROXIES is a list of networks, applied alike under every WSGI server by the
    # site's first middleware (tryg.site.proxies): it keeps the forwarding headers only on
    # requests whose peer is a trusted proxy, the client is read from X-Forwarded-For by trust
    # rather than by count, and Django reads X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER). So
    # waitress's own proxy handling stays off (no trusted_proxy); it passes the headers on when
    # proxies are configured, and removes them itself (its default) when none are.
    # waitress refuses a body past its own limit (1 GB by default) with a bare 413 before
    # the site sees it: make room for TRYG_MAX_UPLOAD_MB, so that the site says why.
    # Past twice that, waitress refuses from the Content-Length, before any of it arrives.
    body = 2 * (max_upload_bytes() + FORM_OVERHEAD + settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    server = create_server(application, host=host, port=port, threads=threads, ident="tryg",
                           clear_untrusted_proxy_headers=not trusted,
                           max_request_body_size=body)
    from tryg.cli.ops import start_embedded_worker

    child = start_embedded_worker(data_dir) if worker else None
    try:
        # Said once the port is bound (connections wait in its backlog until run() accepts
        # them), so a script or a test may read this line instead of polling the port.
        click.echo(f"{SERVED_ON} http://{host}:{port}/  (Ctrl+C stops it)")
        server.run()
    finally:
        if child is not None:
            child.terminate()
            child.wait()


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
