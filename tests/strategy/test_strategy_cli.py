"""``tryg strategy list|export|import`` and ``tryg indicator import``: thin, exit 2 on errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from strategy.strategy_helpers import areas, indicator, initiative, people
from tryg.cli.main import tryg
from tryg.strategy.models import Measurement, Strategy
from tryg.strategy.yaml_template import shipped

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(tryg, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_import_list_export(tmp_path: Path) -> None:
    areas("0851")
    template = tmp_path / "tryg.yaml"
    template.write_text(shipped("tryg-aalborg-2014-17.yaml"), encoding="utf-8")
    code, _out, err = run("strategy", "import", str(template))
    assert code == 2 and "nothing imported" in err and "Aalborg Kommune" in err
    assert not Strategy.objects.exists()
    code, out, _ = run("strategy", "import", str(template), "--create-organisations")
    assert code == 0 and out.startswith("imported strategy #")
    strategy = Strategy.objects.get()
    code, out, _ = run("strategy", "list")
    assert f"#{strategy.pk}" in out and "7 initiatives" in out
    exported = tmp_path / "out.yaml"
    code, _out, _err = run("strategy", "export", str(strategy.pk), "-o", str(exported))
    assert code == 0
    assert exported.read_bytes() == template.read_bytes()
    code, _out, err = run("strategy", "import", str(template), "--map-area", "0851=9999")
    assert code == 2 and "'0851' does not map" in err and "line " in err


def test_indicator_import(tmp_path: Path) -> None:
    who = people()
    ind = indicator(initiative([who.housing]))
    good = tmp_path / "m.csv"
    good.write_text(f"indicator,value,wave,se\n{ind.pk},70.5,2024,1.5\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(f"indicator,value,wave\n{ind.pk},x,2024\n", encoding="utf-8")
    code, _out, err = run("indicator", "import", str(bad))
    assert code == 2 and "row 2" in err and "'value'" in err
    code, out, _ = run("indicator", "import", str(good))
    assert code == 0 and "1 measurement(s)" in out
    assert Measurement.objects.get().value == 70.5


def test_a_template_saved_as_windows_1252_is_read_as_the_csv_readers_read_it(
        tmp_path: Path) -> None:
    """Notepad and Excel in Denmark save Windows-1252: read as the CSV readers read it (UTF-8,
    else Windows-1252, said on stderr); bytes neither can decode are an error naming the line,
    not a byte offset alone."""
    areas("0851")
    template = tmp_path / "tryg.yaml"
    template.write_bytes(shipped("tryg-aalborg-2014-17.yaml").encode("cp1252"))
    code, _out, err = run("strategy", "import", str(template), "--create-organisations")
    assert code == 0, err
    assert "not UTF-8" in err and "Windows-1252" in err
    assert Strategy.objects.get().name == "Tryg Aalborg – en mere tryg kommune 2014–17"
    broken = tmp_path / "broken.yaml"
    broken.write_bytes(b"name: Tryg\nfocus_areas:\n  - name: Natteliv \x81\x8d\n")
    code, _out, err = run("strategy", "import", str(broken))
    assert code == 2 and "Traceback" not in err
    assert "broken.yaml, line 3" in err and "not valid UTF-8" in err and "save it as UTF-8" in err
    assert Strategy.objects.count() == 1
