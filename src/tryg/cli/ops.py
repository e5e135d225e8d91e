"""``tryg worker``, ``tryg check``, ``tryg backup`` and ``tryg restore``: running a site."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Literal

import click

from tryg.cli.site import setup_site

_DATA_DIR = click.option("--data-dir", type=click.Path(file_okay=False), default=None,
                         help="The data folder (overrides TRYG_DATA_DIR).")


@click.command("worker")
@_DATA_DIR
@click.option("--interval", default=1.0, show_default=True, type=click.FloatRange(min=0.05),
              help="Seconds between looks at an empty queue.")
@click.option("--batch", is_flag=True, help="Run the queued jobs, then stop.")
@click.option("--stop-with", "parent", type=int, default=None, hidden=True,
              help="Stop when the process with this id (tryg serve, which started this "
                   "worker) has ended.")
def worker(data_dir: str | None, interval: float, batch: bool, parent: int | None) -> None:
    """Run background jobs from the queue.

    The jobs are index runs started from the pages, page pre-rendering and reports.

    Production runs one or more of these, on any machines that reach the database; `tryg
    serve` and `tryg demo` start one beside the web server. A worker that dies is noticed
    (a job's lease, TRYG_JOB_LEASE) and its job runs again elsewhere. SIGTERM ends the job
    in hand first.
    """
    if parent is not None:
        _stop_with(parent)
    setup_site(data_dir)
    from tryg.jobs.worker import run_worker

    click.echo(f"tryg worker {os.getpid()} waiting for jobs (Ctrl+C stops it)", err=True)
    run_worker(interval=interval, batch=batch)


def _stop_with(parent: int) -> None:
    """End this process (as SIGTERM would) once ``parent`` has gone."""

    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True, name="tryg-parent-watch").start()


def start_embedded_worker(data_dir: str | None) -> subprocess.Popen[bytes]:
    """A ``tryg worker`` child process for ``tryg serve``/``tryg demo`` (the embedded site
    needs no other service); it ends with its parent."""
    command = [sys.executable, "-m", "tryg.cli.main", "worker", "--stop-with", str(os.getpid())]
    if data_dir:
        command += ["--data-dir", data_dir]
    return subprocess.Popen(command, env=dict(os.environ))


@click.command("check")
@_DATA_DIR
@click.option("--deploy", is_flag=True,
              help="Also the production checks: Django's deployment checks and tryg's "
                   "(secret key, hosts, HTTPS, PostgreSQL, shared cache, storage, a worker "
                   "seen recently). Warnings fail too.")
def check(data_dir: str | None, deploy: bool) -> None:
    """Check the site's configuration.

    Django's system checks and tryg's; with --deploy those for production too.
    """
    setup_site(data_dir, migrate=False)
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", deploy=deploy, fail_level="WARNING" if deploy else "ERROR")
    except SystemCheckError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("backup")
@_DATA_DIR
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def backup(data_dir: str | None, target: Path) -> None:
    """Back up the database and stored files.

    TARGET is the archive to write (.tar.gz).

    SQLite is copied with its online backup API, PostgreSQL with pg_dump -Fc; the site can
    keep running. The archive's manifest holds every table's row count and checksum.
    """
    summary, vendor = _archive(data_dir, "backup", target)
    click.echo(f"{target}: {summary} ({vendor})")


@click.command("restore")
@_DATA_DIR
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(data_dir: str | None, source: Path) -> None:
    """Restore a backup into an empty site.

    SOURCE is an archive written by `tryg backup`.

    The database must be of the kind the backup was made from (SQLite or PostgreSQL) and
    empty (new, or only migrated). Every table and file is then checked against the
    archive's manifest. The secret key is not in the backup: set TRYG_SECRET_KEY (or keep
    the data folder's secret_key file) to keep log-ins valid.
    """
    summary, _vendor = _archive(data_dir, "restore", source)
    click.echo(f"restored {source}: {summary}; every table and file checked")


def _archive(data_dir: str | None, direction: Literal["backup", "restore"], path: Path
             ) -> tuple[str, str]:
    """Back up to or restore from ``path``; (what the archive holds, the database's kind)."""
    setup_site(data_dir, migrate=False)
    from tryg.backup import archive
    from tryg.backup.errors import BackupError

    try:
        manifest = (archive.backup if direction == "backup" else archive.restore)(path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    rows = sum(t.rows for t in manifest.tables.values())
    return (f"{len(manifest.tables)} tables, {rows} rows, {len(manifest.files)} files",
            manifest.vendor)
