"""``tryg index``: specs, explain and run, in process (CliRunner) and as the installed script."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

import tryg.cli.index as cli_index
from tryg.cli.main import tryg as tryg_group
from tryg.exports import read_results
from tryg.index.catalog import load_spec, shipped_specs, shipped_text
from tryg.index.inputs import Problem
from tryg.index.results import PUBLIC_COLUMNS, RESULT_COLUMNS, conform

BIN = Path(sys.executable).parent
PROGRESS = re.compile(r"^\[\s*\d+\.\d s\]\s+\d+ %  \S")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(tryg_group, list(args))


def run_installed(*args: str) -> subprocess.CompletedProcess[str]:
    exe = BIN / "tryg"
    if not exe.exists():
        pytest.fail(f"{exe} not found: install the package (pip install -e .)")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120,
                          check=False)


# -- specs and explain -----------------------------------------------------------------------


def test_specs_lists_id_version_danish_title_and_short_hash() -> None:
    result = invoke("index", "specs")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "version", "title", "hash"]
    assert len(lines) == 1 + len(shipped_specs())
    for line, spec_id in zip(lines[1:], shipped_specs(), strict=True):
        spec = load_spec(spec_id)
        assert line.startswith(spec_id)
        assert f"  {spec.version}  " in line and spec.title.da in line
        assert line.endswith(spec.hash[:12])


def test_explain_a_shipped_spec_in_both_languages() -> None:
    da = invoke("index", "explain", "dk-tryghedsindeks")
    en = invoke("index", "explain", "dk-tryghedsindeks", "--language", "en")
    assert da.exit_code == 0 and en.exit_code == 0, da.output + en.output
    assert da.stdout.startswith("# Tryghedsindeks (dansk model)")
    assert en.stdout.startswith("# Safety index (Danish model)")
    assert load_spec("dk-tryghedsindeks").hash in en.stdout


def test_explain_a_users_toml_file(tmp_path: Path) -> None:
    text = shipped_text("dk-tryghedsindeks").replace("{ nabolagsproblemer = 1,",
                                                      "{ nabolagsproblemer = 2,")
    path = tmp_path / "mit indeks.toml"
    path.write_text(text, encoding="utf-8")
    result = invoke("index", "explain", str(path), "-l", "en")
    assert result.exit_code == 0, result.output
    assert "`nabolagsproblemer`: weight 2 = 50 %" in result.stdout
    assert load_spec(text).hash in result.stdout


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("dk-tryghedsindex", "not a shipped specification"),
        ("missing.toml", "cannot read missing.toml"),
        ("broken.toml", "not valid TOML"),
        ("incomplete.toml", "missing table [spec]"),
    ],
)
def test_explain_a_bad_spec_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.toml").write_text("[spec\n", encoding="utf-8")
    (tmp_path / "incomplete.toml").write_text("[[items]]\nid = 'x'\n", encoding="utf-8")
    result = invoke("index", "explain", spec)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_installed_specs_and_explain() -> None:
    specs = run_installed("index", "specs")
    assert specs.returncode == 0, specs.stderr
    assert all(spec_id in specs.stdout for spec_id in shipped_specs())
    explain = run_installed("index", "explain", "dk-tryghedsindeks", "--language", "en")
    assert explain.returncode == 0, explain.stderr
    assert explain.stdout.startswith("# Safety index (Danish model)")
    assert "from Q4 of the year before to Q3 of the wave year" in explain.stdout


# -- run, with the computation replaced (the CLI's own logic) --------------------------------


@dataclass(frozen=True)
class FakeResult:
    table: pd.DataFrame
    warnings: tuple[Problem, ...]


def fake_table() -> pd.DataFrame:
    spec = load_spec("dk-tryghedsindeks")
    frame = pd.DataFrame({c: [None, None] for c in RESULT_COLUMNS})
    frame["area_code"] = ["A01", "A02"]
    frame["wave"] = 2015
    frame["measure"] = ["tryghed_trygge", "anmeldelser_straffelov"]
    frame["estimate"] = [0.8, 1.5]
    frame["n"] = [30, 3]
    frame["method"] = ["direct", "register"]
    frame["suppressed"] = [True, False]
    frame["spec_id"], frame["spec_hash"] = spec.id, spec.hash
    return conform(frame)


@pytest.fixture
def fake_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Input files that exist (click checks) and a `_compute` that returns a fixed table."""
    for name in ("survey.csv", "register.csv", "population.csv", "areas.csv"):
        (tmp_path / name).write_text("x\n", encoding="utf-8")

    def compute(spec: object, survey: Path | None, register: Path | None, population: Path,
                areas: Path, progress: cli_index._Progress, area_options: object) -> FakeResult:
        progress("computing", 0.5)
        warning = Problem("register.csv", 7, "quarter", "a made-up warning")
        return FakeResult(fake_table(), (warning,))

    monkeypatch.setattr(cli_index, "_compute", compute)
    monkeypatch.chdir(tmp_path)
    return ["index", "run", "--spec", "dk-tryghedsindeks", "--survey", "survey.csv",
            "--population", "population.csv", "--areas", "areas.csv"]


def test_run_writes_csv_to_stdout_with_progress_and_warnings(fake_inputs: list[str]) -> None:
    result = invoke(*fake_inputs)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == ",".join(RESULT_COLUMNS)
    assert len(result.stdout.splitlines()) == 3
    stderr = result.stderr.splitlines()
    assert any(PROGRESS.match(line) and "computing" in line for line in stderr), stderr
    assert "warning: register.csv, row 7, column 'quarter': a made-up warning" in stderr


def test_quiet_keeps_warnings_but_drops_progress(fake_inputs: list[str]) -> None:
    result = invoke(*fake_inputs, "--quiet")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "warning: register.csv, row 7, column 'quarter': a made-up warning"
    ]


def test_public_output_applies_the_publication_rules(fake_inputs: list[str]) -> None:
    result = invoke(*fake_inputs, "-q", "--public", "--out", "public.json")
    assert result.exit_code == 0, result.output
    public = read_results("public.json")
    assert tuple(public.columns) == PUBLIC_COLUMNS
    assert public.loc[0, "suppressed"] and pd.isna(public["estimate"].loc[0])
    assert public.loc[1, "n_display"] == "< 5"


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json", "parquet"])
def test_format_from_out_or_option(fake_inputs: list[str], fmt: str) -> None:
    result = invoke(*fake_inputs, "-q", "--out", f"results.{fmt}")
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(read_results(f"results.{fmt}"), fake_table(),
                                  check_exact=fmt != "xlsx")
    result = invoke(*fake_inputs, "-q", "--out", "results.data", "--format", fmt)
    assert result.exit_code == 0, result.output
    assert Path("results.data").read_bytes() == Path(f"results.{fmt}").read_bytes()


def test_binary_format_to_stdout(fake_inputs: list[str]) -> None:
    result = invoke(*fake_inputs, "-q", "--format", "parquet")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"PAR1")


def test_run_usage_errors(fake_inputs: list[str]) -> None:
    base = fake_inputs[:4] + fake_inputs[6:]  # without --survey
    result = invoke(*base)
    assert result.exit_code == 2 and "--survey, --register or both" in result.stderr
    result = invoke(*fake_inputs, "--out", "results.txt")
    assert result.exit_code == 2 and "extension" in result.stderr
    assert not Path("results.txt").exists()
    result = invoke(*fake_inputs[:-1], "no-such-file.csv")
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_file_and_database_modes_are_not_mixed(fake_inputs: list[str]) -> None:
    """Options of one mode are refused in the other, before any database is opened."""
    spec = ["index", "run", "--spec", "dk-tryghedsindeks"]
    result = invoke(*fake_inputs, "--data-dir", "site")
    assert result.exit_code == 2 and "--data-dir and --no-survey" in result.stderr
    result = invoke(*spec, "--population", "population.csv", "--survey", "survey.csv")
    assert result.exit_code == 2 and "needs --population and --areas" in result.stderr
    result = invoke(*spec, "--public", "--data-dir", "site")
    assert result.exit_code == 2 and "give --out as well" in result.stderr
    result = invoke(*spec, "--area-level", "kommune", "--data-dir", "site")
    assert result.exit_code == 2 and "describe an --areas file" in result.stderr
    assert not Path("site").exists()


# -- run, for real, on the demo data ---------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tryg.demo.files import write_demo_data

    out = tmp_path_factory.mktemp("demo") / "data"
    write_demo_data(out, seed=3, size="small")
    return out


def demo_args(demo: Path, *extra: str, survey: bool = True) -> list[str]:
    args = ["index", "run", "--spec", "dk-tryghedsindeks",
            "--register", str(demo / "register_counts.csv"),
            "--population", str(demo / "population.csv"), "--areas", str(demo / "areas.csv")]
    if survey:
        args += ["--survey", str(demo / "survey.csv")]
    return [*args, *extra]


@pytest.fixture(scope="module")
def full_run(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    out = tmp_path_factory.mktemp("run") / "results.csv"
    return invoke(*demo_args(demo, "--out", str(out))), out


def test_a_full_run_on_the_demo_data(full_run: tuple[Result, Path]) -> None:
    result, out = full_run
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert any("wrote" in line and PROGRESS.match(line) for line in result.stderr.splitlines())
    table = read_results(out)
    assert tuple(table.columns) == RESULT_COLUMNS
    spec = load_spec("dk-tryghedsindeks")
    assert set(table["spec_hash"]) == {spec.hash} and set(table["spec_id"]) == {spec.id}
    measures = set(table["measure"])
    assert {"tryghed_trygge", "anmeldelser_straffelov", "tryghedsindeks"} <= measures


def test_a_run_is_byte_identical_the_second_time(
    demo: Path, full_run: tuple[Result, Path], tmp_path: Path
) -> None:
    again = tmp_path / "again.csv"
    result = invoke(*demo_args(demo, "-q", "--out", str(again)))
    assert result.exit_code == 0, result.output
    assert again.read_bytes() == full_run[1].read_bytes()


def test_register_only_run(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "register.parquet"
    result = invoke(*demo_args(demo, "-q", "--public", "--out", str(out), survey=False))
    assert result.exit_code == 0, result.output
    table = read_results(out)
    assert tuple(table.columns) == PUBLIC_COLUMNS
    spec = load_spec("dk-tryghedsindeks")
    assert not set(table["measure"]) & {m.id for m in spec.measures}
    assert "anmeldelser_straffelov" in set(table["measure"])


def test_bad_inputs_list_every_problem_and_write_nothing(demo: Path, tmp_path: Path) -> None:
    lines = (demo / "survey.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    area, item = header.index("area_code"), header.index("tryg_nabolag")
    bad = [lines[0]]
    for i, line in enumerate(lines[1:40], start=1):
        cells = line.split(",")
        if i == 2:
            cells[area] = "XXXX"
        if i == 5:
            cells[item] = "12"
        bad.append(",".join(cells))
    survey = tmp_path / "survey.csv"
    survey.write_text("\n".join(bad) + "\n", encoding="utf-8")
    out = tmp_path / "results.csv"
    out.write_text("last year's results\n", encoding="utf-8")
    args = [*demo_args(demo, "--out", str(out), survey=False), "--survey", str(survey)]
    result = invoke(*args)
    assert result.exit_code == 2
    assert "nothing was written" in result.stderr
    # rows are the file's line numbers (the header is line 1)
    assert f"{survey.name}, row 3, column 'area_code'" in result.stderr
    assert f"{survey.name}, row 6, column 'tryg_nabolag'" in result.stderr
    assert out.read_text(encoding="utf-8") == "last year's results\n"


def test_csv_output_has_no_formula_cells(fake_inputs: list[str], monkeypatch: pytest.MonkeyPatch,
                                         formula_texts: tuple[str, ...],
                                         formula_cells: Callable[[bytes], list[str]]) -> None:
    hostile = fake_table()
    hostile["area_code"] = list(formula_texts[:2])
    hostile["area_name"] = list(formula_texts[4:])
    hostile["estimate"] = [-1.39, -0.5]

    def compute(*args: object, **kwargs: object) -> FakeResult:
        return FakeResult(hostile, ())

    monkeypatch.setattr(cli_index, "_compute", compute)
    for extra in (["--out", "results.csv"], ["--public", "--out", "public.csv"], []):
        result = invoke(*fake_inputs, "-q", *extra)
        assert result.exit_code == 0, result.output
        data = Path(extra[-1]).read_bytes() if extra else result.stdout_bytes
        assert formula_cells(data) == [], extra
        assert b"'=HYPERLINK" in data, extra
        assert (b"-1.39" in data) == ("--public" not in extra)  # public: suppressed (n = 30)
