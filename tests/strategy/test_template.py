"""Strategy templates: the shipped Tryg Aalborg template round-trips byte for byte, and a
malformed template stops with errors naming lines, writing nothing."""

from __future__ import annotations

import pytest

from strategy.strategy_helpers import areas
from tryg.accounts.models import Organisation
from tryg.strategy.models import (
    ChangeRecord,
    FocusArea,
    Indicator,
    Initiative,
    Strategy,
    Target,
)
from tryg.strategy.yaml_template import (
    TemplateError,
    export_strategy,
    import_template,
    schema,
    shipped,
)

TEMPLATE = "tryg-aalborg-2014-17.yaml"


def _counts() -> list[int]:
    return [m.objects.count() for m in (Strategy, FocusArea, Initiative, Indicator, Target,
                                        Organisation, ChangeRecord)]


def _empty_installation() -> None:
    Strategy.objects.all().delete()
    Organisation.objects.all().delete()


@pytest.mark.django_db
def test_the_shipped_template_round_trips_byte_for_byte() -> None:
    areas("0851")
    text = shipped(TEMPLATE)
    result = import_template(text, source=TEMPLATE, create_organisations=True)
    first = export_strategy(result.strategy)
    assert first == text  # the shipped file is itself an export
    _empty_installation()
    again = import_template(first, source="export.yaml", create_organisations=True)
    assert export_strategy(again.strategy).encode() == first.encode()


@pytest.mark.django_db
def test_the_template_holds_the_seven_efforts_and_marks_proposals() -> None:
    areas("0851")
    result = import_template(shipped(TEMPLATE), create_organisations=True)
    initiatives = Initiative.objects.filter(focus_area__strategy=result.strategy)
    assert initiatives.count() == 7
    indicators = Indicator.objects.filter(initiative__in=initiatives)
    named = set(indicators.filter(proposed=False).values_list("measure_id", flat=True))
    assert named == {"tryghed_trygge", "tryghedsindeks"}  # what the press release names
    assert indicators.filter(proposed=True).count() >= 7
    assert all(i.indicators.exists() for i in initiatives)
    assert sorted(result.created_organisations) == ["Aalborg Kommune", "Nordjyllands Politi"]
    assert ChangeRecord.objects.filter(action="import").count() > 20


def _broken(old: str, new: str) -> str:
    text = shipped(TEMPLATE)
    assert old in text
    return text.replace(old, new, 1)


def _line_of(text: str, fragment: str) -> int:
    return text[:text.index(fragment)].count("\n") + 1


@pytest.mark.django_db
@pytest.mark.parametrize(("old", "new", "marker", "words"), [
    ("  - name: Sikre et trygt natteliv\n", "  - name: Sikre et trygt natteliv\n    colour: red\n",
     "colour: red", "unknown key 'colour'"),
    ("    - name: Gadelys forbedret i nattelivsområdet\n"
     "      definition: Lyspunkter, der er sat op eller forbedret siden strategiens start.\n"
     "      unit: antal lyspunkter\n",
     "    - name: Gadelys forbedret i nattelivsområdet\n"
     "      definition: Lyspunkter, der er sat op eller forbedret siden strategiens start.\n",
     "- name: Gadelys forbedret", "lacks the required key 'unit'"),
    ("- code: '0851'\n", "- code: '0851'\n  name: Aalborg Kommune\n- code: '9876'\n",
     "- code: '9876'", "'9876' does not map"),
    ("measure: tryghed_trygge", "measure: tryghed_glad", "measure: tryghed_glad",
     "unknown measure 'tryghed_glad'"),
    # YAML 1.1 numbers Python cannot read, a NUL ("\0" in double quotes: PostgreSQL refuses
    # it), a value longer than its column, a key given twice (YAML keeps the last silently)
    ("      unit: antal lyspunkter\n", "      unit: antal lyspunkter\n      targets:\n"
     "      - date: '2017-12-31'\n        value: .inf\n", "value: .inf", "must be a number"),
    # a target as implausible as the form, the API and the measurement files refuse
    ("      unit: antal lyspunkter\n", "      unit: antal lyspunkter\n      targets:\n"
     "      - date: '2017-12-31'\n        value: 1.0e+308\n", "value: 1.0e+308",
     "is not a plausible value"),
    ("      unit: antal lyspunkter\n", "      unit: antal lyspunkter\n      targets:\n"
     "      - date: '0001-12-31'\n        value: 3\n", "date: '0001-12-31'",
     "is not a plausible date (years 1900 to 2200)"),
    ("tryg_strategy_template: 1\n", "tryg_strategy_template: 1:20\n",
     "tryg_strategy_template: 1:20", "must be a whole number"),
    ("      unit: antal lyspunkter\n", '      unit: "antal\\0 lyspunkter"\n', 'unit: "antal',
     "holds an invisible control character (U+0000), which cannot be stored"),
    # any control character, as the forms refuse: escaped in double quotes, or in the stream
    # (which YAML itself forbids)
    ("      unit: antal lyspunkter\n", '      unit: "antal\\e lyspunkter"\n', 'unit: "antal',
     "holds an invisible control character (U+001B), which cannot be stored"),
    ("      unit: antal lyspunkter\n", "      unit: antal\x1b lyspunkter\n", "unit: antal\x1b",
     "holds an invisible control character (U+001B), which cannot be stored"),
    ("      unit: antal lyspunkter\n", "      unit: antal\x7f lyspunkter\n", "unit: antal\x7f",
     "holds an invisible control character (U+007F), which cannot be stored"),
    ("      unit: antal lyspunkter\n", "      unit: antal lyspunkter\n      plugin: "
     + "p" * 61 + "\n", "plugin: p", "longer than 60 characters"),
    ("  - name: Sikre et trygt natteliv\n", "  - name: Sikre et trygt natteliv\n"
     "    name: Natteliv\n", "name: Natteliv", "the key 'name' is given twice"),
])
def test_a_malformed_template_names_the_line_and_writes_nothing(
        old: str, new: str, marker: str, words: str) -> None:
    areas("0851")
    text = _broken(old, new)
    before = _counts()
    with pytest.raises(TemplateError) as caught:
        import_template(text, source="broken.yaml", create_organisations=True)
    expected = _line_of(text, marker)
    assert any(line == expected and words in message
               for line, message in caught.value.problems), caught.value.problems
    assert f"broken.yaml, line {expected}:" in str(caught.value)
    assert _counts() == before


@pytest.mark.django_db
def test_an_unmapped_organisation_is_listed_and_a_mapping_is_used() -> None:
    areas("0851", "0101")
    text = shipped(TEMPLATE)
    with pytest.raises(TemplateError) as caught:
        import_template(text)
    assert len([p for p in caught.value.problems if "organisation" in p[1]]) == 2
    Organisation.objects.create(name="København Kommune", kind="municipality")
    Organisation.objects.create(name="Københavns Politi", kind="police")
    result = import_template(text, area_map={"0851": "0101"}, organisation_map={
        "aalborg-kommune": "København Kommune", "nordjyllands-politi": "Københavns Politi"})
    codes = set(Initiative.objects.filter(focus_area__strategy=result.strategy)
                .values_list("areas__code", flat=True))
    assert codes == {"0101"}
    assert result.created_organisations == []


@pytest.mark.django_db
def test_yaml_syntax_errors_name_the_line() -> None:
    with pytest.raises(TemplateError) as caught:
        import_template("tryg_strategy_template: 1\nname: [unclosed\n", source="x.yaml")
    assert caught.value.problems[0][0] in (2, 3)


def test_the_schema_describes_every_key_the_export_writes() -> None:
    definitions = schema()
    assert definitions["properties"]["tryg_strategy_template"]["enum"] == [1]
    indicator = definitions["$defs"]["indicator"]
    assert set(indicator["required"]) == {"name", "unit", "source"}
    assert "proposed" in indicator["properties"]


@pytest.mark.django_db
def test_aliases_are_refused_so_a_small_file_cannot_blow_up() -> None:
    text = ("tryg_strategy_template: 1\na: &a [x, x, x]\nb: &b [*a, *a, *a]\n"
            "c: [*b, *b, *b]\n")
    with pytest.raises(TemplateError) as caught:
        import_template(text, source="bomb.yaml")
    # the line of the value used again (the anchor &a)
    assert "aliases" in str(caught.value) and caught.value.problems[0][0] == 2
