"""``tryg demo``: a whole site with demo data, in one command.

Two demos:

* the fictional demo municipality (default): the files of ``tryg demo-data`` (size small), a
  fictional kommune with districts, neighbourhoods and housing areas;
* ``--from DIR``: Aalborg Kommune from the real Danish files in DIR (DAGI kommuner, postal
  districts and parishes, FOLK1A, STRAF11: all of Denmark), with SYNTHETIC survey answers for
  Aalborg's parishes calibrated to the published figure (see :mod:`tryg.demo.aalborg`).

Either way the files are imported through the import services (the same as ``tryg import``
and the upload page), the index is run and published, organisations and one demo user per
role are made (passwords printed once), and the site is served unless ``--no-serve``.

The data folder holds a marker file (:data:`MARKER`); a non-empty folder without it is never
touched. Run again, an existing complete demo is served as it is; ``--fresh`` deletes and
rebuilds it (new passwords). The demo always uses SQLite in its own folder, whatever
``DATABASE_URL`` says, so it cannot write into a production database.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from tryg.accounts.demo import DemoUser

MARKER = "tryg-demo.json"
MARKER_STATEMENT = "A tryg demo site made by `tryg demo`; `tryg demo --fresh` may delete it."
SPEC = "dk-tryghedsindeks"

#: The real files `--from DIR` needs, by what they are: a glob pattern each.
REAL_FILES: dict[str, str] = {
    "kommuner": "dk_kommuner*.geojson",
    "sogne": "dk_sogne*.topojson",
    "postnumre": "dk_postnumre*.geojson",
    "folk1a": "dk_folk1a*.csv",
    "straf11": "dk_straf11*.csv",
}
POSTAL_PREFIX = "post-"


class _Steps:
    """Progress lines with the seconds since the start."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def __call__(self, text: str) -> None:
        click.echo(f"[{time.monotonic() - self.start:6.1f} s] {text}")


@click.command("demo")
@click.option("--port", default=8000, show_default=True, type=int,
              help="Port to serve the site on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("tryg-demo"), show_default=True,
              help="Folder for the demo site (created; a non-empty folder that is not a tryg "
                   "demo is refused).")
@click.option("--from", "source", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Build Aalborg Kommune from the real Danish files in this folder (see the "
                   "README's Data section) instead of the fictional municipality.")
@click.option("--fresh", is_flag=True,
              help="Delete an existing demo in --data-dir and build it again (new passwords).")
@click.option("--no-serve", is_flag=True, help="Build the demo, do not serve it.")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True,
              help="Random seed of the demo data (fictional data or synthetic answers).")
def demo(port: int, host: str, data_dir: Path, source: Path | None, fresh: bool,
         no_serve: bool, seed: int) -> None:
    """Build a demo site and serve it.

    The site is served on http://127.0.0.1:8000 (--host, --port) unless --no-serve.

    Without --from: the fictional demo municipality of `tryg demo-data` (not real persons or
    crimes). With --from DIR: Aalborg Kommune from the real files in DIR (DAGI kommuner,
    postnumre and sogne; FOLK1A; STRAF11), all of Denmark imported, Aalborg's 57 parishes
    and 18 postal districts placed in it by containment, real reported-crime counts, and
    SYNTHETIC survey answers calibrated to the published Aalborg figure (labelled synthetic).

    The files are imported, the safety index (dk-tryghedsindeks) is run and published, and
    demo users are made, one per role; their passwords are printed once. Run again, the
    existing demo is served; --fresh rebuilds it.
    """
    steps = _Steps()
    kind = "aalborg" if source is not None else "fictional"
    existing = _existing(data_dir)
    if existing is not None and (fresh or not existing.get("complete")
                                 or existing.get("kind") != kind):
        if not fresh and existing.get("complete"):
            raise click.ClickException(
                f"{data_dir} holds the {existing.get('kind')} demo; use --fresh to replace "
                "it, or another --data-dir")
        steps(f"removing the earlier demo in {data_dir}")
        shutil.rmtree(data_dir)
        existing = None
    _use_sqlite_in(data_dir)
    if existing is None:
        users = _build(data_dir, kind, source, seed, steps)
        _print_users(users, host, port)
    else:
        steps(f"{data_dir} holds a complete {kind} demo; serving it (--fresh rebuilds it; "
              "the passwords were printed when it was built)")
    if no_serve:
        click.echo(f"Serve it with: tryg serve --data-dir {data_dir} --port {port}")
        return
    from tryg.cli.site import serve

    click.get_current_context().invoke(serve, data_dir=str(data_dir), host=host, port=port,
                                       threads=8)


def _existing(data_dir: Path) -> dict[str, Any] | None:
    """The marker of a demo in ``data_dir``; None when it is absent or empty. A non-empty
    folder without a marker is refused."""
    if not data_dir.exists() or not any(data_dir.iterdir()):
        return None
    try:
        marker = json.loads((data_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        marker = None
    if not isinstance(marker, dict) or marker.get("statement") != MARKER_STATEMENT:
        raise click.ClickException(f"{data_dir} is not empty and is not a tryg demo; give "
                                   "another --data-dir")
    return marker


def _write_marker(data_dir: Path, **fields: Any) -> None:
    text = json.dumps({"statement": MARKER_STATEMENT, **fields}, indent=2, sort_keys=True)
    (data_dir / MARKER).write_text(text + "\n", encoding="utf-8")


def _use_sqlite_in(data_dir: Path) -> None:
    """The demo's database is SQLite in its folder, never the configured DATABASE_URL."""
    os.environ["DATABASE_URL"] = ""
    os.environ["TRYG_DATA_DIR"] = str(data_dir.resolve())


def _build(data_dir: Path, kind: str, source: Path | None, seed: int,
           steps: _Steps) -> list[DemoUser]:
    data_dir.mkdir(parents=True, exist_ok=True)
    _write_marker(data_dir, kind=kind, complete=False, source=str(source or ""))
    files = data_dir / "files"
    from tryg.cli.site import setup_site

    steps(f"creating the database in {data_dir}")
    setup_site(str(data_dir))
    from tryg.accounts.demo import AALBORG_ORGANISATIONS, FICTIONAL_ORGANISATIONS, make_demo_users

    if kind == "aalborg":
        assert source is not None
        users = make_demo_users(AALBORG_ORGANISATIONS)
        _build_aalborg(source, files, seed, steps)
    else:
        users = make_demo_users(FICTIONAL_ORGANISATIONS)
        _build_fictional(files, seed, steps)
    from tryg.walks.demo import make_demo_walks

    steps(f"fictional safety walks: {make_demo_walks()} findings")
    run_and_publish(steps)
    from tryg.strategy.demo import demo_strategy

    steps("the strategy template Tryg Aalborg 2014–17, with FICTIONAL measurements")
    users += demo_strategy(seed=seed)
    _write_marker(data_dir, kind=kind, complete=True, source=str(source or ""), seed=seed)
    return users


#: The fictional demo wave's producer, shown on the (Danish) pages' data notice ("made by:");
#: a wave has one producer text, so it is Danish, as the site's main language.
FICTIONAL_PRODUCER = "tryg demo-data (FIKTIVE svar)"


def run_import(step: Callable[[str], None], function: Callable[..., Any], path: Path,
               **options: Any) -> Any:
    """Import one file with an import service; stop the demo on any error."""
    from tryg.accounts.demo import demo_analyst

    report = function(path, user=demo_analyst(), **options)
    for line in report.lines():
        step(line if report.ok else f"error: {line}")
    if not report.ok:
        raise click.ClickException(f"the demo could not import {path.name}")
    return report


def _build_fictional(files: Path, seed: int, steps: _Steps) -> None:
    from tryg.demo.files import write_demo_data

    steps("writing the fictional demo data (tryg demo-data, size small)")
    write_demo_data(files, seed=seed, size="small")
    from tryg.imports.areas import import_areas
    from tryg.imports.population import import_population
    from tryg.imports.register import import_register
    from tryg.imports.survey import import_survey

    # the map squares first (no parents), then the hierarchy, which adds parents and keeps
    # the squares' boundaries
    run_import(steps, import_areas, files / "areas.geojson", level="nabolag")
    run_import(steps, import_areas, files / "areas.csv", replace=True)
    run_import(steps, import_population, files / "population.csv")
    run_import(steps, import_register, files / "register_counts.csv", format="counts")
    run_import(steps, import_survey, files / "survey.csv", synthetic=True,
               producer=FICTIONAL_PRODUCER)


def real_files(source: Path) -> dict[str, Path]:
    """The real files in ``source`` (:data:`REAL_FILES`); every missing one is named."""
    found: dict[str, Path] = {}
    missing = []
    for what, pattern in REAL_FILES.items():
        matches = sorted(source.glob(pattern))
        if matches:
            found[what] = matches[0]
        else:
            missing.append(f"{what} ({pattern})")
    if missing:
        raise click.ClickException(
            f"{source} lacks {', '.join(missing)}; the README's Data section says where to "
            "download them")
    return found


def _build_aalborg(source: Path, files: Path, seed: int, steps: _Steps) -> None:
    """All of Denmark's areas, population and reported crime; synthetic answers for
    Aalborg's parishes."""
    from tryg.areas.services import areas_by_code, child_codes, total_population
    from tryg.demo import aalborg
    from tryg.demo.truth import ITEMS
    from tryg.imports.areas import import_areas
    from tryg.imports.population import import_population
    from tryg.imports.register import import_register
    from tryg.imports.survey import import_survey

    real = real_files(source)
    run_import(steps, import_areas, real["kommuner"])
    run_import(steps, import_areas, real["sogne"], parent_level="kommune")
    run_import(steps, import_areas, real["postnumre"], parent_level="kommune",
               code_prefix=POSTAL_PREFIX)
    run_import(steps, import_population, real["folk1a"])
    run_import(steps, import_register, real["straf11"])
    kommune = areas_by_code([aalborg.KOMMUNE_CODE])[aalborg.KOMMUNE_CODE]
    parishes = child_codes(kommune.code, "sogn")
    population = total_population(kommune.code)
    steps(f"{kommune.name}: {len(parishes)} parishes; drawing SYNTHETIC survey answers "
          f"(seed {seed})")
    survey = aalborg.generate_survey(parishes, population, seed=seed)
    files.mkdir(parents=True, exist_ok=True)
    survey_file = files / "aalborg_survey_SYNTHETIC.csv"
    margins_file = files / "aalborg_population_sex_age_ASSUMED.csv"
    answers = survey.responses.astype(dict.fromkeys(ITEMS, "Int64"))
    answers.to_csv(survey_file, index=False, encoding="utf-8", lineterminator="\n")
    survey.margins.astype({"population": "int64"}).to_csv(
        margins_file, index=False, encoding="utf-8", lineterminator="\n")
    parish_file = files / "aalborg_parish_population_ASSUMED.csv"
    survey.parishes.astype({"population": "int64"}).to_csv(
        parish_file, index=False, encoding="utf-8", lineterminator="\n")
    (files / "README_SYNTHETIC.txt").write_text(
        f"{aalborg.STATEMENT}\n\nHow they were made: see tryg.demo.aalborg.\n"
        f"{survey_file.name}: one row per synthetic respondent.\n"
        f"{margins_file.name}: ASSUMED residents 15+ by sex x age group of Aalborg Kommune "
        "(FOLK1A total x assumed shares), the survey's calibration margins.\n"
        f"{parish_file.name}: ASSUMED residents 15+ per parish (drawn sizes, not Statistics "
        "Denmark figures), the weights of the small-area benchmarking.\n",
        encoding="utf-8")
    run_import(steps, import_population, margins_file)
    run_import(steps, import_population, parish_file)
    run_import(steps, import_survey, survey_file, synthetic=True, producer=aalborg.PRODUCER)


def run_and_publish(steps: Callable[[str], None]) -> Any:
    """Run the Danish index on the stored data and publish it (as the demo analyst)."""
    from tryg.accounts.demo import demo_analyst
    from tryg.index.catalog import load_spec
    from tryg.runs.models import IndexRun
    from tryg.runs.services import publish, run_index

    steps(f"running the index ({SPEC})")
    analyst = demo_analyst()
    run = run_index(load_spec(SPEC), user=analyst)
    if run.status != IndexRun.Status.DONE:
        for problem in run.problems:
            click.echo(f"  {problem}", err=True)
        raise click.ClickException(f"the demo's index run #{run.pk} failed")
    publish(run, analyst)
    steps(f"index run #{run.pk} done and published: {run.results.count():,} result rows, "
          f"fingerprint {run.fingerprint[:16]}…")
    return run


def _print_users(users: list[DemoUser], host: str, port: int) -> None:
    click.echo("")
    click.echo(f"Demo users (log in at http://{host}:{port}/login/; the passwords are shown "
               "only now):")
    width = max(len(u.role) for u in users)
    for u in users:
        org = f"  ({u.organisation})" if u.organisation else ""
        click.echo(f"  {u.role.ljust(width)}  {u.username:<12} {u.password}{org}")
    click.echo("")
