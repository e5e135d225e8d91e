"""The ``tryg demo-data`` command: write fictional demo data to a directory.

A thin adapter over :func:`tryg.demo.files.write_demo_data`; ``tryg.cli.main`` registers
:data:`demo_data` on the ``tryg`` group.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from tryg.demo.files import write_demo_data
from tryg.demo.model import SIZES, STATEMENT


@click.command("demo-data")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, dir_okay=True, writable=True, path_type=Path),
    help="Directory to write into (created if missing; must be empty or hold earlier demo data).",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Random seed; the same seed always writes byte-identical files.",
)
@click.option(
    "--size",
    type=click.Choice(sorted(SIZES)),
    default="small",
    show_default=True,
    help="small: 40 neighbourhoods, 5 waves; national: 2,200 neighbourhoods, 10 waves.",
)
def demo_data(out: Path, seed: int, size: str) -> None:
    """Write fictional demo data to a directory.

    Survey answers, police register records and counts, population by sex and age group,
    areas and a map for a fictional municipality, "Demo Kommune", with districts,
    neighbourhoods and vulnerable housing areas. The answers are drawn from a known true
    model and truth.csv holds its true values, so estimates can be checked against them.
    Not real persons or crimes.
    """
    started = time.perf_counter()
    click.echo(f"Generating {size} demo data (seed {seed}) ...")
    try:
        manifest = write_demo_data(out, seed=seed, size=size)
    except FileExistsError as exc:
        raise click.ClickException(str(exc)) from exc
    width = max(len(f["name"]) for f in manifest["files"])
    for entry in manifest["files"]:
        unit = "features" if entry["name"].endswith(".geojson") else "rows"
        rows = "" if entry["rows"] is None else f"{entry['rows']:>10,} {unit}"
        click.echo(f"  {entry['name'].ljust(width)}  {rows}")
    click.echo(f"  {'manifest.json'.ljust(width)}")
    click.echo(f"Wrote {out} in {time.perf_counter() - started:.1f} s.")
    click.echo(STATEMENT)
