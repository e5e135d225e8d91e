"""Benchmark: the council's report (``tryg report``) of the demo and of the national-size demo.

The job: a data folder with the demo imported through the import services, run and published
(as ``tryg demo`` does), then the whole report written by ``tryg report --format pdf`` and
``--format html`` as a user runs it (a new process each time: Django's start, the database
read, every section, the charts, WeasyPrint's layout), timed from the outside, best of
``--repeats``. Two data sets:

* **demo**: the fictional municipality of ``tryg demo`` (size small: 40 neighbourhoods, 5
  waves), with the demo's strategy (fictional measurements; the report computes its
  initiatives' before/after evaluations) and safety walks;
* **national**: ``tryg demo-data --size national`` (2,200 neighbourhoods, 10 waves, ~300,000
  respondents): the map has every neighbourhood and the appendix its table.

The initiatives' evaluations (seconds each on the national data) are kept per publication
in the data folder (:mod:`tryg.strategy.evaluation_cache`): the site computes them when a run
is published, and a report finds them. The first report after the data is prepared finds none
and computes them (the row "evaluations not yet kept"); the timed reports after it read them.
Wall-clock and CPU seconds are both reported: on a shared machine the CPU seconds are what
the report costs, a quiet machine's wall clock is about that plus a little.

In the same process as each report, the stages are timed too (reading the publication,
the sections with their charts, the HTML, WeasyPrint), reported beside the totals.

Targets: the demo's PDF within 10 s, the national one within 60 s.

Usage: ``.venv/bin/python bench/report.py [--sizes demo,national] [--repeats K]
[--keep DIR]``. Prints the markdown table and writes bench/results/report.md. Preparing the
national data folder (import and index run, not timed as part of the report) takes minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import RESULTS_DIR, machine, markdown_table

TRYG = Path(sys.executable).parent / "tryg"
TARGETS = {"demo": 10.0, "national": 60.0}
CREATED = "2026-12-06"


def clean_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TRYG_", "DJANGO_")) and k != "DATABASE_URL"}
    env["TRYG_DATA_DIR"] = str(data_dir)
    return env


def prepare(size: str, data_dir: Path) -> float:
    """Import the demo of ``size`` into ``data_dir``, run and publish the index (in a child
    process); the seconds it took."""
    start = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--prepare", size, str(data_dir)], check=True,
                   env=clean_env(data_dir))
    return time.perf_counter() - start


def _prepare_here(size: str, data_dir: Path) -> None:
    """The child of :func:`prepare`: the import services, the index run, the publication."""
    from tryg.cli.site import setup_site

    setup_site(str(data_dir))
    from django.contrib.auth import get_user_model

    from tryg.accounts.models import Role
    from tryg.demo.files import write_demo_data
    from tryg.imports.areas import import_areas
    from tryg.imports.population import import_population
    from tryg.imports.register import import_register
    from tryg.imports.survey import import_survey
    from tryg.index import load_spec
    from tryg.runs.services import publish, run_index

    files = data_dir / "files"
    write_demo_data(files, seed=1, size="small" if size == "demo" else "national")
    analyst = get_user_model().objects.create_user("bench-analyst", role=Role.ANALYST)
    for report in (
        import_areas(files / "areas.geojson", user=analyst, level="nabolag"),
        import_areas(files / "areas.csv", user=analyst, replace=True),
        import_population(files / "population.csv", user=analyst),
        import_register(files / "register_counts.csv", user=analyst, format="counts"),
        import_survey(files / "survey.csv", user=analyst, synthetic=True),
    ):
        if not report.ok:
            raise SystemExit("\n".join(report.lines()))
    run = run_index(load_spec("dk-tryghedsindeks"), user=analyst)
    publish(run, analyst)
    # the demo's safety walks and strategy (fictional measurements), as `tryg demo` makes them
    from tryg.accounts.models import Organisation
    from tryg.strategy.demo import demo_strategy
    from tryg.walks.demo import make_demo_walks

    municipality = Organisation.objects.create(name="Demo Kommune (fiktiv)",
                                               kind="municipality", area_code="9999")
    Organisation.objects.create(name="Demo Politi (fiktiv)", kind="police")
    get_user_model().objects.create_user("bench-coordinator", role=Role.COORDINATOR,
                                         organisation=municipality)
    make_demo_walks()
    demo_strategy()


def _stages_here(data_dir: Path, fmt: str) -> None:
    """In a child process: the stages of one report, as JSON on stdout."""
    from tryg.cli.site import setup_site

    setup_site(str(data_dir), migrate=False)
    import datetime

    from django.utils import translation

    from tryg.public.data import latest_published_run, published
    from tryg.reports.sections import ReportOptions
    from tryg.reports.services import html_to_pdf, render_html, render_sections, report_data

    options = ReportOptions(created=datetime.date.fromisoformat(CREATED))
    times: dict[str, list[float]] = {}

    def clock() -> tuple[float, float]:
        return time.perf_counter(), time.process_time()

    def lap(name: str, since: tuple[float, float]) -> None:
        now = clock()
        times[name] = [now[0] - since[0], now[1] - since[1]]

    t0 = clock()
    run = latest_published_run()
    assert run is not None
    published(run)
    lap("read the publication", t0)
    t0 = clock()
    with translation.override("da"):
        render_sections(report_data(options))
    lap("sections (figures, charts, templates)", t0)
    t0 = clock()
    html = render_html(options)  # again, whole: the publication and charts are warm
    lap("whole HTML, warm", t0)
    if fmt == "pdf":
        t0 = clock()
        html_to_pdf(html)
        lap("WeasyPrint (layout, PDF/UA)", t0)
    print(json.dumps(times))


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed_report(data_dir: Path, fmt: str, out: Path) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one ``tryg report`` process (on a shared machine the
    CPU seconds are what the report costs; the wall clock includes waiting for a core)."""
    start, cpu = time.perf_counter(), _children_cpu()
    subprocess.run([str(TRYG), "report", "--format", fmt, "--out", str(out), "--created",
                    CREATED], check=True, env=clean_env(data_dir), capture_output=True)
    return time.perf_counter() - start, _children_cpu() - cpu


def stages(data_dir: Path, fmt: str) -> dict[str, list[float]]:
    """Stage → [wall-clock seconds, CPU seconds] of one report in a child process."""
    done = subprocess.run([sys.executable, __file__, "--stages", fmt, str(data_dir)],
                          check=True, env=clean_env(data_dir), capture_output=True, text=True)
    found: dict[str, list[float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def page_count(path: Path) -> int:
    done = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    for line in done.stdout.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="demo,national")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep (and reuse) the prepared data folders here")
    parser.add_argument("--prepare", nargs=2, metavar=("SIZE", "DIR"), help=argparse.SUPPRESS)
    parser.add_argument("--stages", nargs=2, metavar=("FORMAT", "DIR"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "report.md")
    args = parser.parse_args()
    if args.prepare:
        _prepare_here(args.prepare[0], Path(args.prepare[1]))
        return
    if args.stages:
        _stages_here(Path(args.stages[1]), args.stages[0])
        return

    base = args.keep or Path(tempfile.mkdtemp(prefix="tryg-bench-report-"))
    rows: list[list[str]] = []
    stage_rows: list[list[str]] = []
    notes: list[str] = []
    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        data_dir = base / size
        if not (data_dir / "tryg.sqlite3").exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            took = prepare(size, data_dir)
            notes.append(f"{size}: data prepared (import, index run, publication) in "
                         f"{took:.0f} s (not part of the report's time)")
        # the first report after a publication computes the initiatives' evaluations and
        # keeps them in the data folder (tryg.strategy.evaluation_cache); the site computes
        # them when a run is published, so the reports after that one read them
        shutil.rmtree(data_dir / "cache" / "evaluations", ignore_errors=True)
        cold, cold_cpu = timed_report(data_dir, "pdf", base / f"{size}-cold.pdf")
        rows.append([size, "PDF, evaluations not yet kept", f"{cold:.2f}", f"{cold_cpu:.2f}",
                     str(page_count(base / f"{size}-cold.pdf")), "", ""])
        for fmt in ("pdf", "html"):
            out = base / f"{size}.{fmt}"
            best, cpu = min(timed_report(data_dir, fmt, out) for _ in range(args.repeats))
            size_text = f"{out.stat().st_size / 1e6:.2f} MB"
            pages = str(page_count(out)) if fmt == "pdf" else "–"
            target = TARGETS.get(size, 0.0)
            verdict = ("" if fmt != "pdf" else
                       ("met" if best <= target else "NOT met") + f" (< {target:.0f} s)")
            rows.append([size, fmt.upper(), f"{best:.2f}", f"{cpu:.2f}", pages, size_text,
                         verdict])
            for stage, (wall, cpu_stage) in stages(data_dir, fmt).items():
                stage_rows.append([size, fmt.upper(), stage, f"{wall:.2f}", f"{cpu_stage:.2f}"])
    load = os.getloadavg()
    text = "\n".join([
        f"# bench/report.py — {time.strftime('%Y-%m-%d')}",
        "",
        *(f"- {k}: {v}" for k, v in machine(
            packages=("django", "weasyprint", "pydyf", "vl-convert-python"),
            with_r=False).items()),
        f"- load average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (a machine "
        "shared with other work)",
        "",
        f"`tryg report --format FORMAT --created {CREATED}` as a new process (Django's start "
        f"included), best of {args.repeats}:",
        "",
        markdown_table(["data", "format", "seconds (wall)", "CPU seconds", "pages", "file",
                        "target (wall)"], rows),
        "",
        "Stages, in one process (the HTML again once the publication and charts are warm):",
        "",
        markdown_table(["data", "format", "stage", "seconds (wall)", "CPU seconds"],
                       stage_rows),
        "",
        *[f"- {n}" for n in notes],
        "",
    ])
    print(text)
    args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
