"""Benchmark: importing a national police extract (records with coordinates) into the database.

The job: 4,000,000 record-level reports (record_id, date, offence, lon, lat; 1 % of them at sea,
outside every area) placed in 2,200 areas with real boundaries (the 2,148 Danish parishes of
DAGI 2014, the 52 largest split in two) and written to the database by
``tryg.imports.register.import_register``: read and checked, placed point-in-polygon, one row
per record plus the counts per area × quarter × offence, in one transaction.

It is timed, in the same run and on the same file, against the **floor** of the libraries the
import uses: reading the CSV with pyarrow, and one shapely STRtree point-in-polygon query of
all points (both predicates are timed; the faster, ``intersects``, which tryg.geo uses, is
the floor). The imports run in subprocesses, each into a fresh database: SQLite (a file in a
temporary data folder, WAL) and PostgreSQL (a scratch database created and dropped here on
``--postgres``). Before any time is reported, the per-area counts each import stored are
checked against the floor's query.

Run from the repository root: ``.venv/bin/python bench/import_register.py`` (``--quick`` for a
smoke run with 200,000 records). The table is printed and written to
bench/results/import_register.md. Target: each import within 1.5× of the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS_DIR, machine, markdown_table, peak_rss_mib, timed
from tryg import geo
from tryg.readers import read_area_geometry

SOGNE = "dk_sogne_dagi2014.topojson"
AREAS = 2_200
OFFENCES = 30


def shared_data() -> Path:
    env = os.environ.get("TRYG_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def build_areas(sogne: Path, n: int) -> geo.AreaGeometry:
    """The parishes, the largest split in two at their bounding box's middle, to ``n``."""
    _, layer, _ = read_area_geometry(sogne)
    codes, geoms = list(layer.codes), list(layer.geometries)
    extra = n - len(codes)
    largest = np.argsort(-shapely.area(layer.geometries))[:max(extra, 0)]
    for i in sorted(largest.tolist()):
        x0, y0, x1, y1 = shapely.bounds(geoms[i])
        xm = (x0 + x1) / 2
        half = shapely.box(x0 - 1, y0 - 1, xm, y1 + 1)
        west = geo.polygonal(shapely.intersection(geoms[i], half))
        east = geo.polygonal(shapely.difference(geoms[i], half))
        geoms[i] = west
        codes.append(f"{codes[i]}-b")
        geoms.append(east)
    return geo.AreaGeometry(tuple(codes), np.array(geoms, dtype=object))


def make_records(layer: geo.AreaGeometry, n: int, outside: float, seed: int, path: Path) -> None:
    """``n`` records sorted by date: most uniform inside a random area (areas weighted
    log-normally), ``outside`` of them at sea (in the layer's extent but in no area)."""
    rng = np.random.default_rng(seed)
    n_out = round(n * outside)
    weights = rng.lognormal(0.0, 1.0, len(layer))
    per_area = rng.multinomial(n - n_out, weights / weights.sum())
    xs, ys = [], []
    for geom, k in zip(layer.geometries, per_area, strict=True):
        x0, y0, x1, y1 = shapely.bounds(geom)
        got_x: list[np.ndarray] = []
        need = k
        shapely.prepare(geom)
        while need > 0:
            cx = rng.uniform(x0, x1, need * 3 + 10)
            cy = rng.uniform(y0, y1, need * 3 + 10)
            ok = shapely.contains_xy(geom, cx, cy)
            got_x.append(np.c_[cx[ok], cy[ok]][:need])
            need -= len(got_x[-1])
        if got_x:
            pts = np.concatenate(got_x)
            xs.append(pts[:, 0])
            ys.append(pts[:, 1])
    bx0, by0, bx1, by1 = layer.bounds()
    sea_x: list[np.ndarray] = []
    sea_y: list[np.ndarray] = []
    need = n_out
    while need > 0:
        cx = rng.uniform(bx0, bx1, need * 3 + 10)
        cy = rng.uniform(by0, by1, need * 3 + 10)
        ok = geo.area_index(layer, cx, cy) < 0
        sea_x.append(cx[ok][:need])
        sea_y.append(cy[ok][:need])
        need -= len(sea_x[-1])
    x = np.concatenate(xs + sea_x)
    y = np.concatenate(ys + sea_y)
    days = rng.integers(0, 3652, n)
    order = np.argsort(days, kind="stable")
    perm = rng.permutation(n)[order]  # date order, places in random order
    probs = 1.0 / np.arange(1, OFFENCES + 1)
    offence = rng.choice(OFFENCES, n, p=probs / probs.sum())
    date = np.datetime64("2014-01-01") + days[order].astype("timedelta64[D]")
    labels = np.array([f"{1000 + k}" for k in range(OFFENCES)], dtype=object)
    table = pa.table({
        "record_id": pa.array(np.arange(1, n + 1)),
        "date": pa.array(date, type=pa.date32()),
        "offence": pa.array(labels[offence], type=pa.string()),
        "lon": pa.array(np.round(x[perm], 6)),
        "lat": pa.array(np.round(y[perm], 6)),
    })
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="none"))


def floor(path: Path, layer: geo.AreaGeometry) -> dict[str, Any]:
    """Reading the CSV (pyarrow, as the import does) and one STRtree query of all points."""
    table, t_read = timed(lambda: pacsv.read_csv(path))
    x = table.column("lon").to_numpy()
    y = table.column("lat").to_numpy()
    points, t_points = timed(lambda: shapely.points(x, y))
    tree = shapely.STRtree(layer.geometries)
    pairs, t_intersects = timed(lambda: tree.query(points, predicate="intersects"))
    _, t_within = timed(lambda: tree.query(points, predicate="within"))
    per_area = np.bincount(pairs[1][np.unique(pairs[0], return_index=True)[1]],
                           minlength=len(layer))
    return {"read": t_read, "points": t_points, "intersects": t_intersects,
            "within": t_within, "rows": table.num_rows,
            "per_area": dict(zip(layer.codes, per_area.tolist(), strict=True))}


# --- the import, in a subprocess with its own database ----------------------------------------


def worker(args: argparse.Namespace) -> None:
    """Set up Django on the given database, store the areas, time one import, print JSON."""
    os.environ["TRYG_DATA_DIR"] = args.data_dir
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("TRYG_SECRET_KEY", "bench-only")
    import tryg.site

    tryg.site.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Sum

    call_command("migrate", verbosity=0)
    from tryg.areas.models import Area
    from tryg.imports.register import import_register
    from tryg.police_register.models import RegisterCount

    features = json.loads(Path(args.areas).read_text())
    Area.objects.bulk_create([Area(code=f["code"], name=f["code"], level="sogn",
                                   geometry=f["geometry"]) for f in features], batch_size=500)
    connection.close()
    report, seconds = timed(lambda: import_register(args.csv))
    per_area = dict(RegisterCount.objects.filter(import_batch_id=report.batch_id)
                    .values("area__code").annotate(n=Sum("count")).values_list("area__code", "n"))
    again, seconds_again = timed(lambda: import_register(args.csv))
    print(json.dumps({"seconds": seconds, "ok": report.ok, "created": report.created,
                      "warnings": report.warnings[:3], "errors": [str(e) for e in report.errors],
                      "per_area": per_area, "duplicate": again.duplicate,
                      "duplicate_seconds": seconds_again, "peak_mib": peak_rss_mib(),
                      "vendor": connection.vendor}))


def run_worker(csv: Path, areas: Path, data_dir: Path, database_url: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", "--csv", str(csv), "--areas", str(areas),
           "--data-dir", str(data_dir), "--database-url", database_url]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"import worker failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def postgres_database(base_url: str, name: str, create: bool) -> None:
    import psycopg

    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--outside", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="200,000 records")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres",
                        help="server for the scratch database ('' to skip PostgreSQL)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "import_register.md")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("--areas", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    rows = 200_000 if args.quick else args.rows
    with tempfile.TemporaryDirectory(prefix="tryg-bench-") as tmp:
        work = Path(tmp)
        layer, t_areas = timed(lambda: build_areas(shared_data() / SOGNE, AREAS))
        areas_file = work / "areas.json"
        areas_file.write_text(json.dumps([
            {"code": c, "geometry": shapely.to_geojson(g)}
            for c, g in zip(layer.codes, layer.geometries, strict=True)]))
        csv = work / "records.csv"
        _, t_gen = timed(lambda: make_records(layer, rows, args.outside, args.seed, csv))
        print(f"{len(layer):,} areas ({t_areas:.1f} s), {rows:,} records, "
              f"{csv.stat().st_size / 2**20:,.0f} MiB CSV ({t_gen:.1f} s)", flush=True)
        base = floor(csv, layer)
        floor_s = base["read"] + base["points"] + min(base["intersects"], base["within"])
        print(f"floor: {floor_s:.2f} s", flush=True)
        results: dict[str, dict[str, Any]] = {}
        sqlite_dir = work / "sqlite"
        sqlite_dir.mkdir()
        results["SQLite (WAL)"] = run_worker(csv, areas_file, sqlite_dir, "")
        print(f"SQLite: {results['SQLite (WAL)']['seconds']:.2f} s", flush=True)
        if args.postgres:
            name = f"tryg_bench_{os.getpid()}"
            postgres_database(args.postgres, name, create=True)
            try:
                url = args.postgres.rsplit("/", 1)[0] + "/" + name
                pg_dir = work / "pg"
                pg_dir.mkdir()
                results["PostgreSQL"] = run_worker(csv, areas_file, pg_dir, url)
                print(f"PostgreSQL: {results['PostgreSQL']['seconds']:.2f} s", flush=True)
            finally:
                postgres_database(args.postgres, name, create=False)
    report(args, rows, len(layer), base, floor_s, results)


def report(args: argparse.Namespace, rows: int, n_areas: int, base: dict[str, Any],
           floor_s: float, results: dict[str, dict[str, Any]]) -> None:
    expected = {c: n for c, n in base["per_area"].items() if n}
    table = [["floor: pyarrow read_csv + shapely points + one STRtree query",
              f"{floor_s:.2f}", f"{rows / floor_s:,.0f}", "1.0×", "", f"{peak_rss_mib():,.0f}"]]
    ok_all = True
    for name, r in results.items():
        agree = r["ok"] and r["per_area"] == expected and r["duplicate"]
        ok_all = ok_all and agree
        table.append([f"`import_register` into {name}", f"{r['seconds']:.2f}",
                      f"{rows / r['seconds']:,.0f}", f"{r['seconds'] / floor_s:.2f}×",
                      "✓" if agree else "✗", f"{r['peak_mib']:,.0f}"])
    info = machine(packages=("numpy", "pandas", "pyarrow", "shapely", "django", "psycopg"),
                   with_r=False)
    lines = [
        f"# bench/import_register.py — {time.strftime('%Y-%m-%d')}", "",
        f"{rows:,} records with coordinates ({args.outside:.0%} outside every area) into "
        f"{n_areas:,} areas (DAGI 2014 parishes). Floor parts: read {base['read']:.2f} s, "
        f"points {base['points']:.2f} s, STRtree query `intersects` {base['intersects']:.2f} s "
        f"(`within` {base['within']:.2f} s).", "",
        markdown_table(["what", "seconds", "rows/s", "vs floor", "same per-area counts",
                        "peak MiB"], table), "",
        "Target: each import within 1.5× of the floor. ✓ = the import stored the same "
        "number of records per area as the floor's query found, and a second import of the "
        "same file was recognised as a duplicate.", "",
        *(f"- {r}: {n['created']}, duplicate re-import {n['duplicate_seconds']:.2f} s"
          for r, n in results.items()), "",
        *(f"- {k}: {v}" for k, v in info.items()),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    if not ok_all:
        raise SystemExit("an import disagreed with the floor's placement")


if __name__ == "__main__":
    main()
