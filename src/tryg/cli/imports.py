"""``tryg import``: areas, population, survey waves and register data into a site's database.

Each sub-command calls the same import function the upload page uses (:mod:`tryg.imports`):
the whole file is validated first, then written in one transaction. On success the report
lines are printed; on failure every problem is listed and the exit code is 2.
"""

from __future__ import annotations

import datetime
import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

_DATA_DIR = click.option("--data-dir", type=click.Path(file_okay=False), default=None,
                         help="The data folder (overrides TRYG_DATA_DIR).")
_REPLACE = click.option("--replace", is_flag=True,
                        help="Replace what is already stored (areas with the same codes, the "
                             "same waves, figures for the same year, register counts for the "
                             "same area, quarter and offence) instead of refusing.")
_PROGRESS = click.option("--progress", is_flag=True,
                         help="Print a line to stderr after each chunk of rows written.")
_SHEET = click.option("--sheet", help="XLSX sheet name.")
_ENCODING = click.option("--encoding", help="Text encoding of a CSV (default: UTF-8 if valid, "
                                            "else Windows-1252, Excel's in Denmark).")
_FILES = click.argument("files", nargs=-1, required=True,
                        type=click.Path(exists=True, dir_okay=False))
_COLUMN = click.option(
    "--column", "columns", multiple=True, metavar="FILE_NAME=NAME",
    help="Map a column of the file to tryg's name, e.g. --column id=respondent_id (repeat).")


def _mapping(pairs: Sequence[str], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise click.BadParameter(f"{pair!r} is not FILE_NAME=NAME", param_hint=option)
        out[key.strip()] = value.strip()
    return out


def _progress(enabled: bool) -> Callable[[str, int, int], None] | None:
    if not enabled:
        return None

    def show(what: str, done: int, total: int) -> None:
        click.echo(f"  writing {what}: {done:,}/{total:,}", err=True)

    return show


def _run(data_dir: str | None, files: Sequence[str], importer: str, **options: Any) -> None:
    """Set up the site, then import each file with ``importer`` ("module:function", loaded
    only now: Django must be configured first); print each report; exit 2 if any failed."""
    from tryg.cli.site import setup_site

    if data_dir:
        Path(data_dir).mkdir(parents=True, exist_ok=True)
    setup_site(data_dir)
    module, _, function = importer.partition(":")
    try:
        run = getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError) as exc:
        raise click.ClickException(f"{importer} is not available: {exc}") from None
    failed = False
    for path in files:
        report = run(path, **options)
        for line in report.lines():
            click.echo(line, err=not report.ok)
        failed = failed or not report.ok
    if failed:
        raise SystemExit(2)


@click.group("import")
def import_() -> None:
    """Import areas, population, surveys, registers.

    Each file is validated first, then written in one transaction. A file imported before
    (same kind, same SHA-256) is recognised and nothing is written.
    """


@import_.command("areas")
@_FILES
@click.option("--level", help="Level of the areas when the file does not say (e.g. sogn).")
@click.option("--code", help="Column/property holding the area code.")
@click.option("--name", help="Column/property holding the area name.")
@click.option("--parent", help="Column/property holding the parent's code.")
@click.option("--parent-level",
              help="Find parents by containment among stored areas of this level "
                   "(default: the nearest coarser DAGI level, e.g. kommune for sogn).")
@click.option("--layer", help="TopoJSON object or GeoPackage layer to read.")
@click.option("--crs", help="Coordinate reference system, when the file names none "
                            "(e.g. EPSG:25832).")
@click.option("--code-prefix", default="",
              help="Put this before every code of the file (codes are unique across levels: "
                   "DAGI parishes and postal districts share four-digit codes).")
@click.option("--missing-code", "missing_codes", multiple=True, metavar="NAME=CODE",
              help="Code for a feature whose code is empty, by its name (repeat).")
@_REPLACE
@_PROGRESS
@_DATA_DIR
def areas(files: tuple[str, ...], level: str | None, code: str | None, name: str | None,
          parent: str | None, parent_level: str | None, layer: str | None, crs: str | None,
          code_prefix: str, missing_codes: tuple[str, ...], replace: bool, progress: bool,
          data_dir: str | None) -> None:
    """Import areas (CSV, GeoJSON, GPKG, SHP, ...).

    A CSV hierarchy, or boundaries from GeoJSON, TopoJSON, GeoPackage or Shapefile (.shp or a
    .zip); the CRS is detected and the boundaries stored in WGS84."""
    missing = _mapping(missing_codes, "--missing-code")
    _run(data_dir, files, "tryg.imports.areas:import_areas", level=level, code=code,
         name=name, parent=parent, parent_level=parent_level, layer=layer, crs=crs,
         code_prefix=code_prefix, missing_codes=missing, replace=replace,
         progress=_progress(progress))


@import_.command("population")
@_FILES
@click.option("--level", help="Level of the areas a table names (default kommune).")
@_COLUMN
@_SHEET
@_ENCODING
@_REPLACE
@_PROGRESS
@_DATA_DIR
def population(files: tuple[str, ...], level: str | None, columns: tuple[str, ...],
               sheet: str | None, encoding: str | None, replace: bool, progress: bool,
               data_dir: str | None) -> None:
    """Import population per area and year.

    Generic tables (area_code, year, population, optional sex and age_group) and Statistics
    Denmark's FOLK1A (kommune names, quarterly figures averaged per year)."""
    mapping = _mapping(columns, "--column")
    _run(data_dir, files, "tryg.imports.population:import_population", level=level,
         columns=mapping or None, sheet=sheet, encoding=encoding, replace=replace,
         progress=_progress(progress))


@import_.command("survey")
@_FILES
@_COLUMN
@click.option("--fieldwork-start", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First day of fieldwork (YYYY-MM-DD).")
@click.option("--fieldwork-end", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last day of fieldwork (YYYY-MM-DD).")
@click.option("--producer", help="Who collected the answers (the survey firm).")
@click.option("--synthetic", is_flag=True, help="The answers are made up (demo data).")
@_SHEET
@_ENCODING
@_REPLACE
@_PROGRESS
@_DATA_DIR
def survey(files: tuple[str, ...], columns: tuple[str, ...],
           fieldwork_start: datetime.datetime | None, fieldwork_end: datetime.datetime | None,
           producer: str | None, synthetic: bool, sheet: str | None, encoding: str | None,
           replace: bool, progress: bool, data_dir: str | None) -> None:
    """Import survey waves (CSV, XLSX, SPSS).

    One wave per wave year in the file; a stored wave is replaced only with --replace."""
    mapping = _mapping(columns, "--column")
    _run(data_dir, files, "tryg.imports.survey:import_survey", columns=mapping or None,
         replace=replace,
         fieldwork_start=fieldwork_start.date() if fieldwork_start else None,
         fieldwork_end=fieldwork_end.date() if fieldwork_end else None, producer=producer,
         synthetic=synthetic, sheet=sheet, encoding=encoding, progress=_progress(progress))


@import_.command("register")
@_FILES
@click.option("--format", "format_", default="auto", show_default=True,
              help="records, counts, straf11 or auto (told from the header).")
@_COLUMN
@click.option("--crs", help="Coordinate reference system of record coordinates "
                            "(e.g. EPSG:25832).")
@_REPLACE
@_DATA_DIR
def register(files: tuple[str, ...], format_: str, columns: tuple[str, ...], crs: str | None,
             replace: bool, data_dir: str | None) -> None:
    """Import police register data.

    Records, counts, or Statistics Denmark's STRAF11."""
    mapping = _mapping(columns, "--column")
    _run(data_dir, files, "tryg.imports.register:import_register", format=format_,
         columns=mapping or None, crs=crs, replace=replace)


@import_.command("withdraw")
@click.argument("batch_id", type=int)
@_DATA_DIR
def withdraw(batch_id: int, data_dir: str | None) -> None:
    """Withdraw an import and all it wrote.

    Areas are withdrawn only when nothing else uses them. Published runs keep their
    results; run the index again for the withdrawal to show."""
    from tryg.cli.site import setup_site

    setup_site(data_dir)
    from tryg.imports.models import ImportBatch
    from tryg.imports.withdraw import WithdrawError, withdraw_import

    record = ImportBatch.objects.filter(pk=batch_id).first()
    if record is None:
        raise click.ClickException(f"there is no import #{batch_id}")
    try:
        deleted = withdraw_import(record)
    except WithdrawError as exc:
        raise click.ClickException(str(exc)) from None
    made = ", ".join(f"{n:,} {what}" for what, n in deleted.items())
    click.echo(f"import #{batch_id} ({record.file_name}) withdrawn: deleted {made}; "
               "run the index again for it to show")


@import_.command("reports")
@_FILES
@click.option("--mapping", metavar="NAME|FILE.toml",
              help="Which column holds what: a TOML mapping file, or a shipped one by name "
                   "(boston-311).")
@click.option("--column", "columns", multiple=True, metavar="FIELD=FILE_COLUMN",
              help="Name the file's column for a field (category, opened, status, closed, "
                   "deadline, latitude, longitude, external_id, text, address); repeat. "
                   "Overrides the mapping file.")
@click.option("--date-format", help="strptime format of the dates (default ISO 8601).")
@click.option("--timezone", "timezone_name",
              help="Time zone of dates without one (default Europe/Copenhagen).")
@click.option("--public", is_flag=True,
              help="Show the imported findings publicly (open data) on the map and in Open311.")
@click.option("--encoding", help="Text encoding (default: UTF-8 if valid, else Windows-1252).")
@_PROGRESS
@_DATA_DIR
def reports(files: tuple[str, ...], mapping: str | None, columns: tuple[str, ...],
            date_format: str | None, timezone_name: str | None, public: bool,
            encoding: str | None, progress: bool, data_dir: str | None) -> None:
    """Import public-space reports (311 requests).

    They become findings with their actions. Each file is checked whole, then written in one
    transaction; rows whose id was imported before are skipped."""
    _run(data_dir, files, "tryg.walks.reports_import:import_file", mapping=mapping,
         columns=_mapping(columns, "--column"), date_format=date_format,
         timezone_name=timezone_name, public=public, encoding=encoding,
         progress=_progress(progress))
