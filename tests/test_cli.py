"""The ``tryg`` command, its documentation, and the README/CI contract."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import tryg
from tryg.cli.main import COMPONENTS, main
from tryg.cli.main import tryg as tryg_group

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run_installed(*args: str) -> subprocess.CompletedProcess[str]:
    exe = BIN / "tryg"
    if not exe.exists():
        pytest.fail(f"{exe} not found: install the package (pip install -e .)")
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, timeout=60, check=False
    )


# -- the installed console script ------------------------------------------------------------


def test_installed_help() -> None:
    result = run_installed("--help")
    assert result.returncode == 0, result.stderr
    assert "Usage: tryg" in result.stdout
    assert "Tryg Aalborg" in result.stdout
    assert "Danish" in result.stdout
    assert "about" in result.stdout


def test_installed_version() -> None:
    result = run_installed("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"tryg, version {tryg.__version__}"


def test_version_is_the_installed_distribution() -> None:
    from importlib.metadata import version

    assert tryg.__version__ == version("tryg")
    assert tryg.__version__ != "0.0.0"


# -- in process, with click's runner -----------------------------------------------------------


def test_help_in_process() -> None:
    result = CliRunner().invoke(tryg_group, ["--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: tryg")
    assert "--version" in result.output
    assert "Show the version and the components of tryg." in result.output


def test_short_help_option() -> None:
    result = CliRunner().invoke(tryg_group, ["-h"])
    assert result.exit_code == 0
    assert "Usage: tryg" in result.output


def test_version_in_process() -> None:
    result = CliRunner().invoke(tryg_group, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"tryg, version {tryg.__version__}\n"


def test_about_lists_version_and_components() -> None:
    result = CliRunner().invoke(tryg_group, ["about"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"tryg {tryg.__version__}"
    assert "Components:" in lines
    for name, description in COMPONENTS:
        assert any(line.split() == [name, *description.split()] for line in lines), name


def test_unknown_command_fails() -> None:
    result = CliRunner().invoke(tryg_group, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command" in result.output


def test_main_is_the_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["tryg", "--version"])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 0


# -- documentation completeness ------------------------------------------------------------------


def all_commands(
    command: click.Command, path: tuple[str, ...] = ()
) -> list[tuple[str, click.Command]]:
    found = [(" ".join(path) or "tryg", command)]
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            found.extend(all_commands(sub, (*path, name)))
    return found


def test_every_command_and_option_has_help() -> None:
    commands = all_commands(tryg_group)
    assert len(commands) >= 2
    for name, command in commands:
        assert command.help and command.help.strip(), f"command {name!r} has no help text"
        if command is not tryg_group:  # subcommands are listed by their short help: keep it whole
            short = command.get_short_help_str()
            assert short and not short.endswith("..."), f"short help of {name!r}: {short!r}"
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"option {param.opts} of {name!r} has no help text"


# -- README and CI -------------------------------------------------------------------------------


def readme_first_block() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^```[^\n]*\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    assert match, "README.md has no code block"
    return match.group(1).splitlines()


def test_readme_starts_with_title_sentence_and_two_line_block() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    non_empty = [line for line in lines if line.strip()]
    assert non_empty[0].startswith("# ")
    assert not non_empty[1].startswith(("#", "```"))  # one-sentence description
    assert non_empty[2].startswith("```")  # then the code block


def test_readme_first_block_has_the_demo_and_test_commands() -> None:
    block = readme_first_block()
    assert len(block) == 2, block
    demo, tests = block
    assert demo.startswith("python3.11 -m venv .venv && ")
    assert "tryg" in demo
    assert tests.startswith("python3.11 -m venv .venv && ")
    assert "'.[dev]'" in tests
    # the whole suite on SQLite, then every database test again on PostgreSQL
    assert "python -m pytest && TRYG_TEST_DB=postgres " in tests
    assert tests.endswith("python -m pytest -m django_db")


def test_ci_runs_the_readme_test_command() -> None:
    script = ROOT / ".ci" / "run"
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert script.stat().st_mode & 0o111, ".ci/run is not executable"
    assert 'eval "$test_command"' in text
    match = re.search(r"awk '(.*?)' README\.md", text, flags=re.DOTALL)
    assert match, ".ci/run does not extract its test command from README.md with awk"
    awk = shutil.which("awk")
    if awk is None:
        pytest.skip("awk not found")
    result = subprocess.run(
        [awk, match.group(1), "README.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert result.stdout.rstrip("\n") == readme_first_block()[1]
