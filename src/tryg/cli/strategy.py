"""``tryg strategy export|import|list`` and ``tryg indicator import FILE``: thin, they parse the
arguments, call :mod:`tryg.strategy` and print. A refused template or file exits with 2 after
listing every problem (line of the YAML; file, row and column of a table)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

_DATA_DIR = click.option("--data-dir", type=click.Path(file_okay=False), default=None,
                         help="The data folder (overrides TRYG_DATA_DIR).")


def _pairs(values: Sequence[str], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in values:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise click.BadParameter(f"{pair!r} is not OLD=NEW", param_hint=option)
        out[key.strip()] = value.strip()
    return out


def _setup(data_dir: str | None) -> None:
    from tryg.cli.site import setup_site

    setup_site(data_dir)


@click.group("strategy")
def strategy() -> None:
    """List, export and import strategies.

    A template (YAML) holds a strategy's focus areas, initiatives and indicator definitions.
    """


@strategy.command("list")
@_DATA_DIR
def list_(data_dir: str | None) -> None:
    """List the strategies and their sizes.

    Each with its numbers of focus areas, initiatives and indicators.
    """
    _setup(data_dir)
    from django.db.models import Count

    from tryg.strategy.models import Strategy

    rows = Strategy.objects.annotate(
        areas=Count("focus_areas", distinct=True),
        initiatives=Count("focus_areas__initiatives", distinct=True),
        indicators=Count("focus_areas__initiatives__indicators", distinct=True)).order_by("pk")
    if not rows:
        click.echo("no strategies")
    for s in rows:
        click.echo(f"#{s.pk}  {s.name}  [{s.status}]  {s.areas} focus areas, "
                   f"{s.initiatives} initiatives, {s.indicators} indicators")


@strategy.command("export")
@click.argument("strategy_id", type=click.IntRange(min=1))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (default: standard output).")
@_DATA_DIR
def export(strategy_id: int, output: Path | None, data_dir: str | None) -> None:
    """Export a strategy as a template (YAML).

    Writes strategy STRATEGY_ID's focus areas, initiatives, indicator definitions and
    targets; no measurements, no people.
    """
    _setup(data_dir)
    from tryg.strategy.models import Strategy
    from tryg.strategy.yaml_template import export_strategy

    found = Strategy.objects.filter(pk=strategy_id).first()
    if found is None:
        raise click.ClickException(f"no strategy #{strategy_id} (see `tryg strategy list`)")
    text = export_strategy(found)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_bytes(text.encode("utf-8"))
        click.echo(f"wrote {output}", err=True)


@strategy.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map-area", "areas", multiple=True, metavar="CODE=CODE",
              help="Map an area code of the template to one of this site (repeat).")
@click.option("--map-organisation", "organisations", multiple=True, metavar="KEY=NAME",
              help="Map an organisation key of the template to an organisation's name here "
                   "(repeat).")
@click.option("--create-organisations", is_flag=True,
              help="Create the template's organisations that do not exist here.")
@_DATA_DIR
def import_(file: Path, areas: Sequence[str], organisations: Sequence[str],
            create_organisations: bool, data_dir: str | None) -> None:
    """Import a strategy template (YAML).

    Every problem is listed with its line, and then nothing is imported.
    """
    area_map = _pairs(areas, "--map-area")
    organisation_map = _pairs(organisations, "--map-organisation")
    _setup(data_dir)
    from tryg.strategy.yaml_template import (
        ENCODING_NAMES,
        TemplateError,
        import_template,
        template_text,
    )

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"{file}: cannot read it: {exc}") from None
    try:
        text, used = template_text(data, str(file))
        if used != "utf-8":
            click.echo(f"note: {file} is not UTF-8; read as {ENCODING_NAMES.get(used, used)}",
                       err=True)
        result = import_template(text, source=str(file), area_map=area_map,
                                 organisation_map=organisation_map,
                                 create_organisations=create_organisations)
    except TemplateError as exc:
        for line in exc.lines():
            click.echo(f"error: {line}", err=True)
        click.echo(f"nothing imported ({len(exc.problems)} problem(s))", err=True)
        sys.exit(2)
    click.echo(f"imported strategy #{result.strategy.pk}: {result.strategy.name}")
    for name in result.created_organisations:
        click.echo(f"  created organisation {name!r}")


@click.group("indicator")
def indicator() -> None:
    """Indicators of the strategies' initiatives."""


@indicator.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_DATA_DIR
def indicator_import(file: Path, data_dir: str | None) -> None:
    """Import measurements (CSV or XLSX).

    Columns: indicator (its id), value, date or wave; optional n, se, low, high, exact,
    method, published. All or nothing: every problem is listed by row and column.
    """
    _setup(data_dir)
    from tryg.index.inputs import InputError
    from tryg.strategy.measurement_import import import_measurements

    try:
        report = import_measurements(file)
    except InputError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        click.echo("nothing imported", err=True)
        sys.exit(2)
    click.echo(f"{report.source}: {report.stored} measurement(s) for {report.indicators} "
               "indicator(s) imported")
