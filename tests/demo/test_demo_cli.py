"""``tryg demo-data`` through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tryg.cli.demo_data import demo_data
from tryg.demo.model import STATEMENT


def test_writes_the_small_demo_and_reports_it(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(demo_data, ["--out", str(out), "--seed", "7"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 7 and manifest["size"] == "small"
    for entry in manifest["files"]:
        assert entry["name"] in result.output
    assert STATEMENT in result.output
    survey_rows = next(f["rows"] for f in manifest["files"] if f["name"] == "survey.csv")
    assert f"{survey_rows:,} rows" in result.output


def test_help_documents_every_option() -> None:
    result = CliRunner().invoke(demo_data, ["--help"])
    assert result.exit_code == 0
    for option in ("--out", "--seed", "--size", "small", "national"):
        assert option in result.output
    assert demo_data.name == "demo-data"
    short = demo_data.get_short_help_str()
    assert short and not short.endswith("...")


def test_errors_are_usage_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(demo_data, []).exit_code == 2  # --out is required
    assert runner.invoke(demo_data, ["--out", str(tmp_path), "--size", "huge"]).exit_code == 2
    assert runner.invoke(demo_data, ["--out", str(tmp_path), "--seed", "-1"]).exit_code == 2
    (tmp_path / "mine.csv").write_text("x\n", encoding="utf-8")
    result = runner.invoke(demo_data, ["--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "not empty" in result.output
