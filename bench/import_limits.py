"""Benchmark: how fast a zip bomb is refused, against the work it would have cost.

The probe's file: an XLSX of a few MB whose sheet unpacks to 1.5 GB (a run of zeros, written
here with :mod:`zipfile` at deflate level 1, as any tool would), and a zipped Shapefile whose
``.shp`` does the same. Timed, in the same run:

* the refusal by the reader (``tryg.readers.read_survey``, ``read_area_geometry``), in this
  process with the libraries loaded;
* the refusal by ``tryg import survey`` end to end, as a subprocess on an SQLite site
  (Python's start and Django's set-up included), next to the same command on an empty CSV;
* the **work avoided**: only inflating the sheet with :mod:`zipfile` (no XML parsed; openpyxl
  would parse it after that and took over 600 s in the probe).

Run from the repository root: ``.venv/bin/python bench/import_limits.py``. The table is
printed and written to bench/results/import_limits.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS_DIR, machine, markdown_table, timed
from tryg.index.inputs import InputError
from tryg.readers import read_area_geometry, read_survey

SHEET = "xl/worksheets/sheet1.xml"
CHUNK = 1 << 24


def write_bomb(path: Path, member: str, size: int, others: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, data in others.items():
            archive.writestr(name, data)
        with archive.open(member, "w") as out:
            zeros = bytes(CHUNK)
            for _ in range(size // CHUNK):
                out.write(zeros)
    return path


def refused(read: object, path: Path, **options: object) -> str:
    try:
        read(path, **options)  # type: ignore[operator]
    except InputError as exc:
        return str(exc.problems[0])
    raise SystemExit(f"{path} was not refused")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "import_limits.md")
    args = parser.parse_args()
    size = 96 * CHUNK  # 1.5 GiB
    with tempfile.TemporaryDirectory(prefix="tryg-bench-limits-") as folder:
        base = Path(folder)
        xlsx, build_xlsx = timed(lambda: write_bomb(base / "svar.xlsx", SHEET, size, {}))
        shp, _ = timed(lambda: write_bomb(base / "sogne.zip", "sogne.shp", size,
                                          {"sogne.shx": bytes(100), "sogne.dbf": bytes(100)}))
        refused(read_survey, xlsx)  # warm: the readers' libraries are loaded
        runs = []
        for _ in range(5):
            message, seconds = timed(lambda: refused(read_survey, xlsx))
            runs.append(seconds)
        reader_s = min(runs)
        shp_runs = []
        for _ in range(5):
            _, seconds = timed(lambda: refused(read_area_geometry, shp, level="sogn"))
            shp_runs.append(seconds)
        env = {**os.environ, "TRYG_DATA_DIR": str(base / "site")}
        tryg = Path(sys.executable).with_name("tryg")
        empty = base / "empty.csv"
        empty.write_text("respondent_id\n")
        subprocess.run([str(tryg), "import", "survey", str(empty)], env=env,  # makes the site
                       capture_output=True, timeout=600)
        start = time.perf_counter()
        cli = subprocess.run([str(tryg), "import", "survey", str(xlsx)], env=env,
                             capture_output=True, text=True, timeout=600)
        cli_s = time.perf_counter() - start
        assert cli.returncode == 2 and "unpacks to" in cli.stderr, cli.stderr
        start = time.perf_counter()
        subprocess.run([str(tryg), "import", "survey", str(empty)], env=env,
                       capture_output=True, timeout=600)
        empty_s = time.perf_counter() - start

        def inflate() -> int:
            total = 0
            with zipfile.ZipFile(xlsx) as archive, archive.open(SHEET) as sheet:
                while chunk := sheet.read(CHUNK):
                    total += len(chunk)
            return total

        inflated, inflate_s = timed(inflate)
        mb = xlsx.stat().st_size / (1 << 20)
    rows = [
        ["reader refuses the XLSX (`read_survey`)", f"{reader_s * 1000:.2f} ms"],
        ["reader refuses the zipped Shapefile (`read_area_geometry`)",
         f"{min(shp_runs) * 1000:.2f} ms"],
        ["`tryg import survey` refuses it, whole process (existing site)", f"{cli_s:.2f} s"],
        ["(`tryg import survey` of an empty CSV, whole process, for comparison)",
         f"{empty_s:.2f} s"],
        ["work avoided: only inflating the sheet with zipfile", f"{inflate_s:.2f} s"],
    ]
    info = machine(packages=("openpyxl", "pyogrio", "django"), with_r=False)
    lines = [
        f"# bench/import_limits.py — {time.strftime('%Y-%m-%d')}", "",
        f"An XLSX of {mb:.1f} MB whose sheet unpacks to {inflated / (1 << 30):.1f} GiB "
        f"(built in {build_xlsx:.1f} s), and a zipped Shapefile alike; default limits "
        "(TRYG_MAX_UNPACKED_MB = 1024). Best of 5 for the readers.", "",
        markdown_table(["what", "time"], rows), "",
        f"Refusal: {message}", "",
        *(f"- {k}: {v}" for k, v in info.items()),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
