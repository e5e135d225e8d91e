"""The readers' messages: English in the problem, a marked template the site translates, and
a Danish translation for every template (Danish is the product's default language)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polib
import pytest

import tryg
from tryg.index.inputs import InputError, Problem
from tryg.readers import read_survey

SOURCE = Path(tryg.__file__).parent
CATALOGUE = SOURCE / "locale" / "da" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


# Where the no-op marker comes from: tryg.messages, or its re-export in tryg.index.inputs.
MARKER_MODULES = frozenset({"tryg.messages", "tryg.index.inputs"})


def marks_with_underscore(tree: ast.Module) -> bool:
    """The module imports the no-op marker as ``_`` (``from tryg.messages import mark as _``,
    or from ``tryg.index.inputs``), as extraction expects."""
    return any(isinstance(node, ast.ImportFrom) and node.module in MARKER_MODULES
               and any(a.name == "mark" and a.asname == "_" for a in node.names)
               for node in ast.walk(tree))


def marked_templates() -> dict[str, str]:
    """Every template marked with the no-op marker under ``src/tryg`` (or, in the site's
    code, with Django's ``gettext_noop``) → its module."""
    found: dict[str, str] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        markers = {"gettext_noop"} | ({"_"} if marks_with_underscore(tree) else set())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in markers:
                argument = node.args[0]
                assert isinstance(argument, ast.Constant) and isinstance(argument.value, str), (
                    f"{path.name}:{node.lineno}: mark a literal, not an expression")
                found.setdefault(argument.value, path.relative_to(SOURCE).as_posix())
    return found


def test_the_readers_mark_their_messages() -> None:
    modules = set(marked_templates().values())
    assert {"readers/cells.py", "readers/text.py", "readers/table.py",
            "readers/survey.py", "readers/population.py", "readers/register.py",
            "readers/records.py", "readers/statbank.py", "readers/areas.py",
            "strategy/measurement_import.py", "index/respondents.py",
            "imports/survey.py", "imports/population.py", "imports/register.py",
            "imports/areas.py", "index/areas.py", "readers/vector.py", "readers/limits.py",
            "readers/reports311.py", "index/population.py", "index/register.py",
            "index/survey.py", "index/modelled.py", "index/hierarchy.py", "index/compute.py",
            "imports/base.py", "runs/services.py", "geo/features.py", "geo/topojson.py",
            "geo/layer.py", "geo/crs.py", "geo/assign.py", "geo/containment.py",
            "areas/services.py"} <= modules


def test_every_marked_template_has_a_danish_translation_with_the_same_placeholders() -> None:
    translations = {e.msgid: e.msgstr for e in polib.pofile(str(CATALOGUE))
                    if not e.obsolete}
    missing = {t: m for t, m in marked_templates().items() if not translations.get(t)}
    assert not missing, f"add these to django.po (then msgfmt): {missing}"
    for template in marked_templates():
        assert sorted(PLACEHOLDER.findall(translations[template])) == \
            sorted(PLACEHOLDER.findall(template)), template


def test_a_problem_keeps_its_english_message_and_its_template(tmp_path: Path) -> None:
    path = tmp_path / "svar.csv"
    path.write_text("respondent_id;wave;area_code;weight\nr1;2022;S1;x\nr2;2022;;1\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_survey(path)
    empty, weight = caught.value.problems
    assert (weight.row, weight.column, weight.message) == (2, "weight", "'x' is not a number")
    assert weight.template == "%(value)s is not a number"
    assert dict(weight.params) == {"value": "'x'"}
    assert (empty.row, empty.column, empty.message) == (3, "area_code", "this cell is empty")
    assert str(weight) == f"{path}, row 2, column 'weight': 'x' is not a number"


def test_problems_compare_by_what_they_say() -> None:
    made = Problem.of("f.csv", 2, "weight", "%(value)s is not a number", value="'x'")
    assert made == Problem("f.csv", 2, "weight", "'x' is not a number")
