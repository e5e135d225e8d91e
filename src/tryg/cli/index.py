"""``tryg index``: the shipped specifications, their formula in words, and index runs.

An adapter: files are read here (a user's spec, the input tables through ``tryg.readers``)
and written here (through ``tryg.exports``); the formula, the computation and the publication
rules live in the pure core (``tryg.index``). Errors in the inputs are reported all at once,
each with file, row and column, and then nothing is written (exit code 2), so a run either
produces a complete, consistent file or none.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from tryg.exports import FORMATS, format_for, results_bytes, write_results
from tryg.index.catalog import load_spec, shipped_specs
from tryg.index.explain import explain as explain_spec
from tryg.index.inputs import InputError, Problem
from tryg.index.results import public_view
from tryg.index.spec import Spec, SpecError, parse_spec

if TYPE_CHECKING:  # the computation and the readers are imported when a run needs them
    from tryg.index import IndexResult
    from tryg.readers import ReadReport

T = TypeVar("T")


class SpecParam(click.ParamType[Spec, "str | Spec"]):
    """A specification given as a shipped id or as the path of a ``.toml`` file."""

    name = "spec"

    def convert(
        self, value: str | Spec, param: click.Parameter | None, ctx: click.Context | None
    ) -> Spec:
        if isinstance(value, Spec):
            return value
        text = str(value)
        path = Path(text)
        try:
            if text.endswith(".toml") or "/" in text or "\\" in text or path.is_file():
                try:
                    source = path.read_text(encoding="utf-8")
                except OSError as exc:
                    self.fail(f"cannot read {text}: {exc.strerror or exc}", param, ctx)
                return parse_spec(source)
            return load_spec(text)
        except SpecError as exc:
            self.fail(str(exc), param, ctx)


SPEC = SpecParam()


@click.group("index")
def index() -> None:
    """The safety index: specs, explanations, runs.

    A specification (spec) is the whole formula of an index as a TOML file: the questions,
    the measures, the register window, sub-indices, weights, comparisons and publication
    rules. Three ship with tryg (see `tryg index specs`); your own is a .toml file (start
    from a shipped one). The spec's hash goes into every result row.
    """


@index.command("specs")
def specs() -> None:
    """List the specifications that ship with tryg.

    One line each: id, version, title (in Danish) and the first 12 characters of the hash.
    """
    rows = [("id", "version", "title", "hash")]
    for spec_id in shipped_specs():
        spec = load_spec(spec_id)
        rows.append((spec.id, spec.version, spec.title.da, spec.hash[:12]))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False))
                   + "  " + row[3])


@index.command("explain")
@click.argument("spec", type=SPEC, metavar="SPEC")
@click.option("--language", "-l", type=click.Choice(["da", "en"]), default="da",
              show_default=True, help="Language of the explanation: Danish or English.")
def explain(spec: Spec, language: str) -> None:
    """Explain a spec's whole formula in words.

    SPEC is the id of a shipped specification (see `tryg index specs`) or the path of a
    .toml file. The text (Markdown) covers every question, measure, register window,
    sub-index, weight, comparison and publication rule, with the spec's hash.
    """
    click.echo(explain_spec(spec, language), nl=False)


class _Progress:
    """Progress lines on stderr with the seconds since the start (silent with --quiet)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.start = time.monotonic()

    def __call__(self, step: str, fraction: float) -> None:
        if not self.quiet:
            elapsed = time.monotonic() - self.start
            click.echo(f"[{elapsed:6.1f} s] {100 * fraction:3.0f} %  {step}", err=True)


def _report(problems: list[Problem], heading: str) -> None:
    click.echo(heading, err=True)
    for p in problems:
        click.echo(f"  {p}", err=True)


INPUT = click.Path(exists=True, dir_okay=False, path_type=Path)


@index.command("run")
@click.option("--spec", "spec", type=SPEC, required=True, metavar="SPEC",
              help="Shipped spec id or path of a .toml spec.")
@click.option("--survey", type=INPUT,
              help="Survey answers, one row per respondent (leave out for register measures "
                   "only).")
@click.option("--register", type=INPUT,
              help="Police register: reported offences per area, quarter and offence.")
@click.option("--population", type=INPUT,
              help="Population per area and year (and sex/age group for calibration).")
@click.option("--areas", type=INPUT,
              help="Areas: a CSV (code, name, level, optional parent, valid_from, valid_to) "
                   "or a GeoJSON/TopoJSON boundary layer (DAGI layers such as KOMKODE/KOMNAVN "
                   "are recognised). Tables keyed by area names (STRAF11, FOLK1A) are matched "
                   "to these areas' codes by name.")
@click.option("--area-code-field", metavar="NAME",
              help="Column (CSV) or property (GeoJSON) of --areas holding the area code, when "
                   "it is not 'code' or a known DAGI property.")
@click.option("--area-name-field", metavar="NAME",
              help="Column or property of --areas holding the area name, when it is not "
                   "'name' or a known DAGI property.")
@click.option("--area-level", metavar="LEVEL",
              help="Level of every area in --areas when the file does not say (e.g. "
                   "'kommune' for a GeoJSON layer other than DAGI's).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Results file (.csv, .xlsx, .json or .parquet); default: CSV on stdout.")
@click.option("--public", is_flag=True,
              help="Apply the spec's publication rules: blank suppressed rows, hide small "
                   "register counts.")
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="File format (default: from the extension of --out, else csv).")
@click.option("--quiet", "-q", is_flag=True,
              help="No progress lines on stderr (warnings and errors are still shown).")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Without input files: the site's data folder (overrides TRYG_DATA_DIR).")
@click.option("--no-survey", is_flag=True,
              help="Without input files: leave the stored survey answers out (register "
                   "measures only).")
def run(spec: Spec, survey: Path | None, register: Path | None, population: Path | None,
        areas: Path | None, area_code_field: str | None, area_name_field: str | None,
        area_level: str | None, out: Path | None, public: bool, fmt: str | None,
        quiet: bool, data_dir: str | None, no_survey: bool) -> None:
    """Compute the index from survey and register.

    From files or from the stored data. With input files (--population, --areas and
    --survey and/or --register), reads them, computes every measure, sub-index and
    comparison of the spec per area and wave, and writes one row per area, wave and
    measure (to --out, else CSV on stdout). Without
    --survey only the register measures are computed, for the years whose register window
    the data covers. Register and population tables that name areas instead of giving codes
    (Statistics Denmark's STRAF11 and FOLK1A) are matched to the codes of --areas by name
    ("Copenhagen" = "København"); their aggregate rows ("Region ...", "Unknown
    municipality") are left out with a warning, and a name that matches no area is an error.
    Problems in the inputs are all listed (file, row, column) and nothing is written; the
    exit code is then 2.

    Without input files, the run uses the site's database (see `tryg import`; --data-dir or
    TRYG_DATA_DIR / DATABASE_URL): the current imports of areas, population, survey answers
    and register data. The run and its results are stored; the run's id, its results
    fingerprint (SHA-256 of the results as CSV: two runs on unchanged data give the same)
    and its counts are printed, and --out [--public] writes the stored results to a file.
    A run whose inputs fail is stored as failed, with its problems, and the exit code is 2.
    """
    files = (survey, register, population, areas)
    try:
        fmt = format_for(str(out), fmt) if out is not None else (fmt or "csv")
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    progress = _Progress(quiet)
    if all(f is None for f in files):
        if public and out is None:
            raise click.UsageError("--public writes a file: give --out as well")
        if area_code_field or area_name_field or area_level:
            raise click.UsageError("--area-code-field, --area-name-field and --area-level "
                                   "describe an --areas file")
        _run_stored(spec, data_dir, out, public, fmt, progress, survey=not no_survey)
        return
    if data_dir is not None or no_survey:
        raise click.UsageError("--data-dir and --no-survey are for runs from the database "
                               "(without input files)")
    if population is None or areas is None:
        raise click.UsageError("a run from files needs --population and --areas (leave out "
                               "every input file to run on the stored data)")
    if survey is None and register is None:
        raise click.UsageError("give --survey, --register or both")
    try:
        area_options = _AreaOptions(area_code_field, area_name_field, area_level)
        result = _compute(spec, survey, register, population, areas, progress, area_options)
    except InputError as exc:
        _report(exc.problems, f"tryg: {len(exc.problems)} problem(s) in the inputs; "
                              "nothing was written:")
        sys.exit(2)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    table = public_view(result.table, spec) if public else result.table
    try:
        if out is None:
            sys.stdout.flush()
            sys.stdout.buffer.write(results_bytes(table, fmt))
            sys.stdout.buffer.flush()
        else:
            write_results(table, out, format=fmt)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"could not write the results: {exc}") from exc
    progress(f"wrote {len(table)} rows to {out if out is not None else 'stdout'}", 1.0)


def _run_stored(spec: Spec, data_dir: str | None, out: Path | None, public: bool, fmt: str,
                progress: _Progress, *, survey: bool) -> None:
    """``tryg index run`` without input files: a stored run on the database's data."""
    from tryg.cli.site import setup_site

    setup_site(data_dir)
    from tryg.runs.models import IndexRun
    from tryg.runs.services import public_results, results_frame, run_index

    run = run_index(spec, progress=progress, survey=survey)
    if run.status != IndexRun.Status.DONE:
        click.echo(f"tryg: index run #{run.pk} failed; nothing was stored:", err=True)
        for problem in run.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(2)
    for warning in run.warnings:
        click.echo(f"warning: {warning}", err=True)
    table = results_frame(run)
    click.echo(f"index run #{run.pk} ({spec.id} {spec.version}, spec {spec.hash[:12]}): done")
    click.echo(f"results fingerprint: {run.fingerprint}")
    for name, fp in sorted(run.inputs.items()):
        click.echo(f"  input {name}: {fp['rows']:,} rows, sha256 {fp['sha256'][:12]}, "
                   f"imports {', '.join(f'#{b}' for b in fp['batches']) or '-'}")
    waves = sorted({int(w) for w in table["wave"]})
    click.echo(f"  {len(table):,} result rows: {table['area_code'].nunique():,} areas, "
               f"{len(waves)} waves ({waves[0]}-{waves[-1]}), "
               f"{table['measure'].nunique()} measures" if waves else "  0 result rows")
    if out is not None:
        written = public_results(run) if public else table
        try:
            write_results(written, out, format=fmt)
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"could not write the results: {exc}") from exc
        click.echo(f"wrote {len(written):,} rows to {out}" + (" (public view)" if public else ""))


@dataclass(frozen=True)
class _AreaOptions:
    """How to read --areas: the code and name columns/properties and the level."""

    code: str | None = None
    name: str | None = None
    level: str | None = None


def _compute(spec: Spec, survey: Path | None, register: Path | None, population: Path,
             areas: Path, progress: _Progress, area_options: _AreaOptions) -> IndexResult:
    """Read the inputs and run the index; one InputError carries the problems of every file."""
    # Imported here: the computation and the readers pull in statistics, file-format and
    # geometry libraries that `tryg index specs` and `tryg index explain` do not need.
    from tryg.index import run as run_index
    from tryg.index.areas import codes_for_names
    from tryg.index.inputs import PopulationInput, RegisterInput
    from tryg.readers import read_areas, read_population, read_register, read_survey
    from tryg.site.config import read_limits

    opts = area_options
    try:
        limits = read_limits(os.environ)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None

    problems: list[Problem] = []
    warnings: list[Problem] = []

    def read(what: str, path: Path | None, reader: Callable[[Path], tuple[T, ReadReport]]
             ) -> T | None:
        if path is None:
            return None
        progress(f"reading {what}: {path}", 0.0)
        try:
            data, report = reader(path)
        except InputError as exc:  # keep going: report the problems of every file at once
            problems.extend(exc.problems)
            return None
        warnings.extend(report.warnings)
        return data

    items = [it.column for it in spec.items]
    area_input = read("areas", areas, lambda p: read_areas(p, code=opts.code, name=opts.name,
                                                           level=opts.level, limits=limits))
    population_input = read("population", population,
                            lambda p: read_population(p, limits=limits))
    survey_input = read("survey", survey, lambda p: read_survey(p, items=items, limits=limits))
    register_input = read("register", register, lambda p: read_register(p, limits=limits))
    if area_input is not None:  # tables keyed by names (STRAF11, FOLK1A) get area codes
        if population_input is not None:
            coded = codes_for_names(population_input.table, area_input)
            population_input = PopulationInput(coded.table)
            problems.extend(coded.problems)
            warnings.extend(coded.warnings)
        if register_input is not None:
            coded = codes_for_names(register_input.counts, area_input)
            register_input = RegisterInput(coded.table)
            problems.extend(coded.problems)
            warnings.extend(coded.warnings)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if problems:
        raise InputError(problems)
    assert area_input is not None and population_input is not None  # required options
    return run_index(spec, survey=survey_input, register=register_input,
                     population=population_input, areas=area_input, progress=progress)
