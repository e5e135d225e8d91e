"""The ``tryg`` command.

A thin adapter: it parses arguments, reads and writes files, and prints; the work is done by
the core packages (``tryg.stats``, ``tryg.index``). Sub-commands live in their own modules
(``tryg.cli.index``, ``tryg.cli.demo_data``) and are registered here.
"""

from __future__ import annotations

import click

from tryg import __version__
from tryg.cli.demo import demo
from tryg.cli.demo_data import demo_data
from tryg.cli.imports import import_
from tryg.cli.index import index
from tryg.cli.open311 import open311
from tryg.cli.ops import backup, check, restore, worker
from tryg.cli.report import report
from tryg.cli.site import manage, serve
from tryg.cli.strategy import indicator, strategy
from tryg.cli.users import user
from tryg.cli.walks import walks

#: The parts of tryg, in the order a user meets them, with their state.
COMPONENTS: tuple[tuple[str, str], ...] = (
    (
        "tryg.stats",
        "survey statistics: designs, calibration, estimators, contrasts, "
        "replicate weights, small areas, rates",
    ),
    (
        "tryg.index",
        "the safety index: specifications, their formula in words, results tables",
    ),
    ("tryg.exports", "results files: CSV, XLSX, JSON, Parquet (deterministic, atomic)"),
    ("tryg.cli", "this command-line interface"),
)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, "--version", "-V", prog_name="tryg")
def tryg() -> None:
    """tryg: local safety strategies for Danish municipalities and police.

    Built on the Tryg Aalborg model, in which a Danish municipality
    (kommune) and its police district (politikreds) work together: a safety
    index (Tryghedsindeks) from resident surveys and the police register,
    initiatives, and safety walks (tryghedsvandringer).
    """


@tryg.command()
def about() -> None:
    """Show the version and the components of tryg."""
    click.echo(f"tryg {__version__}")
    click.echo("Local safety strategies for Danish municipalities and police.")
    click.echo("")
    click.echo("Components:")
    width = max(len(name) for name, _ in COMPONENTS)
    for name, description in COMPONENTS:
        click.echo(f"  {name.ljust(width)}  {description}")


tryg.add_command(index)
tryg.add_command(demo)
tryg.add_command(demo_data)
tryg.add_command(serve)
tryg.add_command(manage)
tryg.add_command(import_)
tryg.add_command(user)
tryg.add_command(strategy)
tryg.add_command(indicator)
tryg.add_command(worker)
tryg.add_command(check)
tryg.add_command(backup)
tryg.add_command(restore)
tryg.add_command(open311)
tryg.add_command(walks)
tryg.add_command(report)


def main() -> None:
    """Entry point of the ``tryg`` console script."""
    tryg()


if __name__ == "__main__":  # pragma: no cover
    main()
