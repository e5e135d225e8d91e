"""``tryg report``: the city council's follow-up report as PDF or HTML (a thin adapter over
:func:`tryg.reports.services.build_report`)."""

from __future__ import annotations

import datetime
from pathlib import Path

import click


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None
          ) -> datetime.date | None:
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD") from exc


@click.command("report")
@click.option("--format", "fmt", type=click.Choice(["pdf", "html"]), required=True,
              help="PDF (tagged PDF/UA-1) or one self-contained HTML file.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The file to write (written whole or not at all).")
@click.option("--language", type=click.Choice(["da", "en"]), default="da", show_default=True,
              help="The report's language (Danish first).")
@click.option("--wave", type=int, default=None, help="The measurement (year) to report on "
              "(default: the latest).")
@click.option("--areas", default="", metavar="CODES",
              help="Comma-separated codes of the areas the council follows (default: the "
                   "setting TRYG_REPORT_AREAS, else the vulnerable housing areas).")
@click.option("--strategy", default=None, metavar="S",
              help="The strategy (id or name) of the strategy section (default: the latest).")
@click.option("--internal", is_flag=True,
              help="An internal report (not for publication): the sections' internal details "
                   "too, and --run may name an unpublished run.")
@click.option("--run", "run_id", type=int, default=None,
              help="Internal reports: preview this finished run as it would be published.")
@click.option("--created", callback=_date, default=None, metavar="YYYY-MM-DD",
              help="The report's date (default: today); the same date and data give the same "
                   "file.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="The data folder (overrides TRYG_DATA_DIR).")
def report(fmt: str, out: Path, language: str, wave: int | None, areas: str,
           strategy: str | None, internal: bool, run_id: int | None,
           created: datetime.date | None, data_dir: str | None) -> None:
    """Write the council's report as PDF or HTML.

    The city council's follow-up report, from the stored, published figures. A public
    report by default: only what the public pages show (the latest publication's public
    view). Danish unless --language en. Made here and now (the analysts' page makes large
    ones in the background).
    """
    if run_id is not None and not internal:
        raise click.UsageError("--run needs --internal (a public report shows the publication)")
    from tryg.cli.site import setup_site

    setup_site(data_dir)
    from tryg.exports.atomic import atomic_write_bytes
    from tryg.reports.sections import ReportOptions
    from tryg.reports.services import ReportError, build_report
    from tryg.reports.strategy_section import strategy_exists

    if strategy and not strategy_exists(strategy):
        raise click.BadParameter(f"no strategy has the number or name {strategy!r}",
                                 param_hint="--strategy")

    options = ReportOptions(
        audience="internal" if internal else "public", language=language, wave=wave,
        areas=tuple(c.strip() for c in areas.split(",") if c.strip()), strategy=strategy,
        run=run_id, created=created)
    try:
        body = build_report(options, "pdf" if fmt == "pdf" else "html")
    except ReportError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        atomic_write_bytes(out, body)
    except OSError as exc:
        raise click.ClickException(f"could not write {out}: {exc}") from exc
    click.echo(f"wrote {out} ({len(body):,} bytes)")
