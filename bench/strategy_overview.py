"""The strategy overview page, cold, on SQLite: a strategy with 10 focus areas, 200 initiatives
and 2,000 indicators measured over 10 waves (20,000 measurements, 2,000 targets and baselines).

The data is written into a fresh SQLite site by one process; a second process (a server's
state: URLconf and middleware loaded by one request to /healthz) then renders the overview as
an anonymous visitor and as a coordinator: the first render (cold: nothing of the strategy
read yet) and the median of five more, with the number of SQL queries of each.

Usage: ``.venv/bin/python bench/strategy_overview.py`` (prints a markdown table and writes
bench/results/strategy_overview.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FOCUS_AREAS = 10
INITIATIVES = 200
INDICATORS = 2000
WAVES = 10
GOAL_SECONDS = 0.5


def _site(data_dir: Path) -> None:
    for key in [k for k in os.environ if k.startswith(("TRYG_", "DJANGO_", "DATABASE_URL"))]:
        del os.environ[key]
    os.environ["TRYG_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tryg.site.settings"


def build(data_dir: Path) -> None:
    _site(data_dir)
    from tryg.cli.site import setup_site

    setup_site(str(data_dir))
    import datetime as dt

    from django.db import transaction

    from tryg.accounts.models import Organisation, Role, User
    from tryg.strategy.models import (
        Baseline,
        FocusArea,
        Indicator,
        Initiative,
        InitiativeArea,
        Measurement,
        Strategy,
        Target,
    )

    with transaction.atomic():
        orgs = [Organisation.objects.create(name=f"Organisation {k}", kind="partner")
                for k in range(5)]
        User.objects.create_user("coordinator", role=Role.COORDINATOR)
        strategy = Strategy.objects.create(name="Bench", period_start=dt.date(2016, 1, 1),
                                           status=Strategy.Status.ADOPTED)
        strategy.partners.set(orgs)
        focus = FocusArea.objects.bulk_create([
            FocusArea(strategy=strategy, name=f"Fokusområde {k}", order=k)
            for k in range(FOCUS_AREAS)])
        initiatives = Initiative.objects.bulk_create([
            Initiative(focus_area=focus[k % FOCUS_AREAS], name=f"Indsats {k}", order=k,
                       published=True, period_start=dt.date(2016, 1, 1))
            for k in range(INITIATIVES)])
        Initiative.owners.through.objects.bulk_create([
            Initiative.owners.through(initiative_id=i.pk, organisation_id=orgs[k % 5].pk)
            for k, i in enumerate(initiatives)])
        InitiativeArea.objects.bulk_create([InitiativeArea(initiative=i, code=f"A{k:03d}")
                                            for k, i in enumerate(initiatives)])
        per = INDICATORS // INITIATIVES
        indicators = Indicator.objects.bulk_create([
            Indicator(initiative=i, name=f"Indikator {k}.{j}", unit="%", order=j,
                      polarity="up" if j % 2 else "down")
            for k, i in enumerate(initiatives) for j in range(per)])
        Baseline.objects.bulk_create([Baseline(indicator=i, when=dt.date(2015, 12, 31),
                                               value=60.0, se=1.5) for i in indicators])
        Target.objects.bulk_create([Target(indicator=i, when=dt.date(2025, 12, 31), value=75.0)
                                    for i in indicators])
        Measurement.objects.bulk_create([
            Measurement(indicator=i, when=dt.date(2016 + w, 12, 31), value=60 + w * (k % 3),
                        se=1.5, n=400, published=True)
            for k, i in enumerate(indicators) for w in range(WAVES)], batch_size=2000)


def render(data_dir: Path) -> dict[str, float | int]:
    _site(data_dir)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    import tryg.site.wsgi  # noqa: F401  (set up as a server is)
    from tryg.accounts.models import User
    from tryg.strategy.models import Strategy

    client = Client(HTTP_HOST="127.0.0.1")
    client.get("/healthz")
    strategy = Strategy.objects.get()
    url = f"/strategies/{strategy.pk}/"
    out: dict[str, float | int] = {}
    for who in ("anonymous", "coordinator"):
        if who == "coordinator":
            client.force_login(User.objects.get(username="coordinator"))
        times, cpu = [], []
        for _ in range(6):
            with CaptureQueriesContext(connection) as queries:
                start, start_cpu = time.perf_counter(), time.process_time()
                response = client.get(url)
                times.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
            assert response.status_code == 200, response.status_code
        out[f"{who}_cold"] = times[0]
        out[f"{who}_median"] = statistics.median(times[1:])
        out[f"{who}_cpu_cold"] = cpu[0]
        out[f"{who}_queries"] = len(queries.captured_queries)
        out[f"{who}_kib"] = len(response.content) // 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path)
    parser.add_argument("--render", type=Path)
    args = parser.parse_args()
    if args.build:
        build(args.build)
        return
    if args.render:
        print(json.dumps(render(args.render)))
        return
    with tempfile.TemporaryDirectory(prefix="tryg-bench-strategy-") as folder:
        data = Path(folder) / "site"
        start = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--build", str(data)], check=True)
        built = time.perf_counter() - start
        answer = subprocess.run([sys.executable, __file__, "--render", str(data)], check=True,
                                capture_output=True, text=True)
        result = json.loads(answer.stdout.strip().splitlines()[-1])
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import RESULTS_DIR, machine

    lines = [
        "# Strategy overview page, cold, SQLite",
        "",
        f"{FOCUS_AREAS} focus areas, {INITIATIVES} initiatives, {INDICATORS:,} indicators, "
        f"{WAVES} waves ({INDICATORS * WAVES:,} measurements); built in {built:.1f} s. "
        f"Goal: under {GOAL_SECONDS} s cold.",
        "",
        "| visitor | first render (s) | its CPU time (s) | median of 5 more (s) | SQL queries "
        "| page (KiB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for who in ("anonymous", "coordinator"):
        lines.append(f"| {who} | {result[f'{who}_cold']:.3f} | {result[f'{who}_cpu_cold']:.3f} "
                     f"| {result[f'{who}_median']:.3f} "
                     f"| {result[f'{who}_queries']} | {result[f'{who}_kib']} |")
    info = machine(packages=("django",), with_r=False)
    load = os.getloadavg()[0]
    lines += ["", f"Load average at the end: {load:.1f} on {os.cpu_count()} cores (the CPU "
                  "time is what the page itself cost; the wall time includes waiting for a "
                  "core on a shared machine).", "",
              *(f"- {k}: {v}" for k, v in info.items()), ""]
    text = "\n".join(lines)
    print(text)
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "strategy_overview.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
