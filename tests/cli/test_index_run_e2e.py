"""``tryg index run`` end to end: the installed script as a subprocess, on real and demo data.

* A re-run with the same spec and inputs writes byte-identical files, in all four formats:
  register only on the real STRAF11/FOLK1A files (names reconciled to DAGI codes), and survey
  + register counts + population + areas on the demo data.
* ``--public`` blanks suppressed rows and the rates of small register counts.
* A malformed input stops the run with exit code 2, names file, row and column on stderr, and
  leaves no file behind (not even a temporary one).
* Tables keyed by area names are matched to the codes of ``--areas``; aggregate rows are
  warnings, an unknown name or two names for one area are errors.

The runs of one test are started in parallel (a few worker threads), to keep the time down.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from tryg.exports import read_results
from tryg.index.results import PUBLIC_COLUMNS, RESULT_COLUMNS

TRYG = Path(sys.executable).parent / "tryg"
FORMATS = ("csv", "xlsx", "json", "parquet")
WORKERS = max(2, min(4, os.cpu_count() or 2))
SPEC = "dk-tryghedsindeks"
MEASURE = "anmeldelser_straffelov"
STRAF11 = "dk_straf11_offences_by_kommune_2007Q1-2019Q3.csv"
FOLK1A = "dk_folk1a_population_by_kommune_2008-2023.csv"
DAGI = "dk_kommuner_dagi2014.geojson"
# Everything but the keys, spec, ``suppressed`` and ``flags`` is blank in a suppressed row.
BLANKED = [c for c in PUBLIC_COLUMNS if c not in {
    "area_code", "area_name", "level", "wave", "measure", "suppressed", "flags", "spec_id",
    "spec_hash"}]

Run = subprocess.CompletedProcess[str]


def tryg(*commands: Sequence[str | Path]) -> list[Run]:
    """Run ``tryg`` once per argument list, a few at a time; results in the given order."""
    if not TRYG.exists():
        pytest.fail(f"{TRYG} not found: install the package (pip install -e .)")

    def one(args: Sequence[str | Path]) -> Run:
        return subprocess.run([str(TRYG), *map(str, args)], capture_output=True, text=True,
                              timeout=300, check=False)

    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(one, commands))


def ok(result: Run) -> Run:
    assert result.returncode == 0, result.stderr
    return result


def twice_in_every_format(args: Sequence[str | Path], folder: Path) -> list[list[str | Path]]:
    """Commands that run ``args`` twice per format, into ``folder/1`` and ``folder/2``."""
    outs = [folder / str(n) / f"results.{fmt}" for n in (1, 2) for fmt in FORMATS]
    for out in outs:
        out.parent.mkdir(parents=True, exist_ok=True)
    return [[*args, "--quiet", "--out", out] for out in outs]


def assert_byte_identical(folder: Path) -> None:
    for fmt in FORMATS:
        first = (folder / "1" / f"results.{fmt}").read_bytes()
        second = (folder / "2" / f"results.{fmt}").read_bytes()
        assert len(first) > 1000, fmt
        assert first == second, f"the two {fmt} files differ"


def same_table(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with empty text as missing (CSV and XLSX cannot tell them apart)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].where(out[column].ne("") & out[column].notna(), None)
    return out


def hand_rate(folder: Path, straf11_name: str, folk1a_name: str, wave: int) -> float:
    """"Penal Code, total" of (wave-1)Q4..waveQ3 per 1,000 residents of the wave's year."""
    quarters = [f"{wave - 1}Q4", f"{wave}Q1", f"{wave}Q2", f"{wave}Q3"]
    with open(folder / STRAF11, encoding="iso-8859-1", newline="") as f:
        (row,) = [r for r in csv.DictReader(f)
                  if r["REGION"] == straf11_name and r["TYPE OF OFFENCE"] == "Penal Code, total"]
    with open(folder / FOLK1A, encoding="utf-8", newline="") as f:
        (people,) = [float(r["population"]) for r in csv.DictReader(f)
                     if r["municipality"] == folk1a_name and r["year"] == str(wave)]
    return sum(int(row[q]) for q in quarters) / people * 1000


# -- real data: register only ----------------------------------------------------------------


@pytest.mark.slow
def test_real_register_only_run_is_byte_identical_and_matches_the_hand_rates(
    shared_data: Path, tmp_path: Path
) -> None:
    args: list[str | Path] = [
        "index", "run", "--spec", SPEC, "--register", shared_data / STRAF11,
        "--population", shared_data / FOLK1A, "--areas", shared_data / DAGI]
    runs = [ok(run) for run in tryg(*twice_in_every_format(args, tmp_path))]
    assert_byte_identical(tmp_path)
    # The aggregate rows of STRAF11 are left out, with a warning each.
    for name in ("Region Hovedstaden", "Region Nordjylland", "Unknown municipality"):
        assert f"'{name}' is an aggregate or unplaced row" in runs[0].stderr
    tables = {fmt: read_results(tmp_path / "1" / f"results.{fmt}") for fmt in FORMATS}
    table = tables["csv"]
    assert list(table.columns) == list(RESULT_COLUMNS)
    for fmt, other in tables.items():  # the four formats hold the same table
        pd.testing.assert_frame_equal(same_table(other), same_table(table), check_exact=False,
                                      rtol=1e-14, obj=fmt)
    rates = table[(table["measure"] == MEASURE) & (table["method"] == "register")]
    kommuner = {c for c in rates["area_code"] if c != "0411"}  # 0411 = Christiansø
    assert len(kommuner) == 98
    assert {"0101", "0851", "0169"} <= kommuner
    got = set(zip(rates["area_code"], rates["wave"], strict=True))
    assert {(c, w) for c in kommuner for w in range(2008, 2019)} <= got
    for code, straf11_name, folk1a_name, wave in [("0851", "Aalborg", "Aalborg", 2015),
                                                  ("0101", "Copenhagen", "København", 2010)]:
        (value,) = rates.loc[(rates["area_code"] == code) & (rates["wave"] == wave), "estimate"]
        assert value == pytest.approx(hand_rate(shared_data, straf11_name, folk1a_name, wave),
                                      rel=0, abs=1e-12)


# -- demo data: survey, register counts, population, areas -----------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "data"
    (run,) = tryg(["demo-data", "--out", folder, "--size", "small"])
    ok(run)
    return folder


def demo_args(demo: Path, *, survey: Path | None = None, register: Path | None = None
              ) -> list[str | Path]:
    return ["index", "run", "--spec", SPEC,
            "--survey", survey or demo / "survey.csv",
            "--register", register or demo / "register_counts.csv",
            "--population", demo / "population.csv", "--areas", demo / "areas.csv"]


@pytest.fixture(scope="module")
def demo_runs(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo run twice per format (``1/``, ``2/``) and with --public once per format
    (``public.<format>``), started as one batch."""
    folder = tmp_path_factory.mktemp("demo_runs")
    commands = twice_in_every_format(demo_args(demo), folder)
    commands += [[*demo_args(demo), "-q", "--public", "--out", folder / f"public.{fmt}"]
                 for fmt in FORMATS]
    for run in tryg(*commands):
        ok(run)
    return folder


@pytest.mark.slow
def test_demo_run_is_byte_identical_in_every_format(demo_runs: Path) -> None:
    assert_byte_identical(demo_runs)
    table = read_results(demo_runs / "1" / "results.parquet")
    assert {"direct", "register", "composite"} <= set(table["method"])
    assert set(table["wave"]) == {2019, 2020, 2021, 2022, 2023}


@pytest.mark.slow
def test_public_output_blanks_suppressed_rows_in_every_format(demo_runs: Path) -> None:
    full = read_results(demo_runs / "1" / "results.csv")
    key = ["area_code", "wave", "measure"]
    hidden = full[full["suppressed"]]
    assert len(hidden) > 0 and hidden["estimate"].notna().all()  # there is something to hide
    small = full[full["method"].isin(["register", "register_eb"]) & (full["n"] <= 4)]
    assert len(small) > 0
    for fmt in FORMATS:
        public = read_results(demo_runs / f"public.{fmt}")
        assert list(public.columns) == list(PUBLIC_COLUMNS), fmt
        assert "n" not in public.columns
        assert public[key].equals(full[key]), fmt
        rows = public[public["suppressed"]]
        assert rows[key].reset_index(drop=True).equals(hidden[key].reset_index(drop=True))
        for column in BLANKED:
            assert rows[column].isna().all(), f"{fmt}: {column} of a suppressed row"
        shown = public[~public["suppressed"]]
        assert shown["estimate"].notna().any()
        few = public.merge(small[key], on=key)
        assert (few["n_display"] == "< 5").all()
        assert few["estimate"].isna().all() and few["ci_high"].isna().all()
    # In the CSV file itself a suppressed row's estimate is an empty field.
    with open(demo_runs / "public.csv", encoding="utf-8", newline="") as f:
        texts = [r for r in csv.DictReader(f) if r["suppressed"] == "True"]
    assert len(texts) == len(hidden)
    assert all(r["estimate"] == "" and r["n_display"] == "" for r in texts)


def _rewrite(source: Path, target: Path, change: str) -> tuple[int, str]:
    """Copy a demo CSV with one malformed cell; return its line number and column."""
    with open(source, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    if change == "outside the scale":
        column = "tryg_nabolag"
        i = next(i for i, r in enumerate(rows[1:], 1) if r[header.index(column)] != "")
        rows[i][header.index(column)] = "9"  # scale 1-7, "don't know" 8
    elif change == "unknown area":
        column, i = "area_code", 7
        rows[i][header.index(column)] = "9999-77-77"
    elif change == "duplicated respondent":
        column = "respondent_id"
        wave = header.index("wave")
        i = next(i for i in range(2, len(rows)) if rows[i][wave] == rows[i - 1][wave])
        rows[i][header.index(column)] = rows[i - 1][header.index(column)]
    elif change == "negative count":
        column, i = "count", 5
        rows[i][header.index(column)] = "-3"
    else:
        raise AssertionError(change)
    with open(target, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return i + 1, column  # rows[0] is line 1


@pytest.mark.parametrize(
    ("change", "fmt"),
    [("outside the scale", "csv"), ("unknown area", "xlsx"),
     ("duplicated respondent", "json"), ("negative count", "parquet")],
)
def test_malformed_input_exits_2_names_file_row_column_and_writes_nothing(
    demo: Path, tmp_path: Path, change: str, fmt: str
) -> None:
    if change == "negative count":
        bad = tmp_path / "bad_register.csv"
        line, column = _rewrite(demo / "register_counts.csv", bad, change)
        args = demo_args(demo, register=bad)
    else:
        bad = tmp_path / "bad_survey.csv"
        line, column = _rewrite(demo / "survey.csv", bad, change)
        args = demo_args(demo, survey=bad)
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / f"results.{fmt}"
    (run,) = tryg([*args, "--out", out])
    assert run.returncode == 2, run.stderr
    assert "nothing was written" in run.stderr
    problem = next((ln for ln in run.stderr.splitlines() if ln.strip().startswith(str(bad))),
                   None)
    assert problem is not None, run.stderr
    assert f", row {line}, column '{column}': " in problem
    assert run.stdout == ""
    assert not out.exists()
    assert list(folder.iterdir()) == []  # no temporary file either


# -- names to codes (small files written here; no shared data needed) ------------------------


def _straf11(path: Path, names: Sequence[str]) -> None:
    """A STRAF11-shaped export (ISO-8859-1) with both offences the spec needs."""
    lines = ["REGION,TYPE OF OFFENCE,2014Q4,2015Q1,2015Q2,2015Q3"]
    for k, name in enumerate(names):
        lines.append(f'{name},"Penal Code, total",{100 + k},{110 + k},{120 + k},{130 + k}')
        lines.append(f'{name},"Crimes of violence, total",{k},{k + 1},{k + 2},{k + 3}')
    path.write_bytes(("\n".join(lines) + "\n").encode("iso-8859-1"))


def _folk1a(path: Path, rows: Sequence[tuple[str, float]]) -> None:
    text = "municipality,year,population\n" + "".join(f"{n},2015,{p}\n" for n, p in rows)
    path.write_text(text, encoding="utf-8")


def _geojson(path: Path, code: str, name: str) -> None:
    features = []
    for i, (c, n) in enumerate([("0101", "København"), ("0851", "Aalborg"),
                                ("0169", "Høje Taastrup")]):
        x = 10.0 + i
        ring = [[x, 55.0], [x + 0.5, 55.0], [x + 0.5, 55.5], [x, 55.5], [x, 55.0]]
        features.append({"type": "Feature", "properties": {code: c, name: n},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}),
                    encoding="utf-8")


def test_names_are_matched_to_the_codes_of_a_geojson_with_its_fields_given(tmp_path: Path
                                                                           ) -> None:
    _straf11(tmp_path / "straf11.csv",
             ["Region Hovedstaden", "Copenhagen", "Aalborg", "Høje-Taastrup",
              "Unknown municipality"])
    _folk1a(tmp_path / "folk1a.csv",
            [("København", 500000.0), ("Aalborg", 200000.0), ("Høje-Taastrup", 50000.5)])
    _geojson(tmp_path / "areas.geojson", "kode", "navn")
    args: list[str | Path] = [
        "index", "run", "--spec", SPEC, "--register", tmp_path / "straf11.csv",
        "--population", tmp_path / "folk1a.csv", "--areas", tmp_path / "areas.geojson"]
    fields = ["--area-code-field", "kode", "--area-name-field", "navn", "--area-level", "kommune"]
    out = tmp_path / "out.csv"
    without, given = tryg([*args, "-q", "--out", tmp_path / "never.csv"],
                          [*args, *fields, "-q", "--out", out])
    assert without.returncode == 2
    assert "cannot tell which properties hold the area code" in without.stderr
    assert not (tmp_path / "never.csv").exists()
    ok(given)
    for name in ("Region Hovedstaden", "Unknown municipality"):
        assert f"'{name}' is an aggregate or unplaced row" in given.stderr
    table = read_results(out)
    rates = table[(table["measure"] == MEASURE) & (table["method"] == "register")]
    assert sorted(rates["area_code"]) == ["0101", "0169", "0851"]
    assert set(rates["level"]) == {"kommune"} and set(rates["wave"]) == {2015}
    value = dict(zip(rates["area_name"], rates["estimate"], strict=True))
    assert value["København"] == pytest.approx((101 + 111 + 121 + 131) / 500000.0 * 1000,
                                               rel=0, abs=1e-12)
    assert value["Høje Taastrup"] == pytest.approx((103 + 113 + 123 + 133) / 50000.5 * 1000,
                                                   rel=0, abs=1e-12)


def test_an_unknown_name_or_two_names_for_one_area_is_an_error(tmp_path: Path) -> None:
    _straf11(tmp_path / "straf11.csv", ["Copenhagen", "Aalborg", "Atlantis"])
    _folk1a(tmp_path / "folk1a.csv",
            [("København", 500000.0), ("Aalborg", 200000.0), ("Copenhagen", 1.0)])
    _geojson(tmp_path / "areas.geojson", "KOMKODE", "KOMNAVN")  # DAGI's own properties
    out = tmp_path / "out.csv"
    (run,) = tryg(["index", "run", "--spec", SPEC, "--register", tmp_path / "straf11.csv",
                   "--population", tmp_path / "folk1a.csv", "--areas",
                   tmp_path / "areas.geojson", "--out", out])
    assert run.returncode == 2, run.stderr
    assert "2 problem(s) in the inputs; nothing was written" in run.stderr
    assert (f"{tmp_path / 'straf11.csv'}, row 6, column 'area_name': 'Atlantis' matches no "
            "area") in run.stderr
    assert (f"{tmp_path / 'folk1a.csv'}, row 4, column 'area_name': 'Copenhagen' and "
            "'København' (row 2) are both area '0101'") in run.stderr
    assert not out.exists()
