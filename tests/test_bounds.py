"""tryg.bounds' rules for entered text and numbers, held by the forms' common base: no control
character in any field, digits 0 to 9 only in a number field; Danish first."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest
from django import forms
from django.utils import translation

import tryg
from tryg.bounds import CheckedInput, Form, ModelForm, control_character, foreign_digit
from tryg.walks.models import Participant

#: Every control character the rule refuses (C0 but tab, LF and CR; DEL).
CONTROLS = [chr(c) for c in range(32) if chr(c) not in "\t\n\r"] + ["\x7f"]


class _Sample(Form):
    name = forms.CharField(max_length=100)
    note = forms.CharField(required=False, widget=forms.Textarea)
    count = forms.IntegerField(required=False)
    share = forms.DecimalField(required=False, max_digits=6, decimal_places=2)
    ratio = forms.FloatField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["added"] = forms.CharField(required=False)  # as a walk's ratings are


def _errors(data: dict[str, str], language: str = "en") -> dict[str, list[str]]:
    with translation.override(language):
        form = _Sample(data)
        form.is_valid()
        return {k: [str(m) for m in v] for k, v in form.errors.items()}


@pytest.mark.parametrize("char", CONTROLS)
def test_every_control_character_in_any_text_field_is_a_form_error(char: str) -> None:
    for field in ("name", "note", "added"):
        data = {"name": "Vej", field: f"mørk{char}sti"}
        errors = _errors(data)
        assert list(errors) == [field], (field, repr(char))
        if char == "\x00":  # Django's own CharField refuses it first, with its own message
            assert errors[field] == ["Null characters are not allowed."]
        else:
            assert errors[field] == [f"The text holds an invisible control character "
                                     f"(U+{ord(char):04X}), which cannot be stored. Remove it "
                                     "and send again."]


def test_tab_newlines_and_ordinary_text_are_taken() -> None:
    form = _Sample({"name": "Æblevej 3", "note": "linje 1\r\nlinje\t2\nÅ ø – “citat” 😀",
                    "count": "3", "share": "-1.50", "ratio": "2e3"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["note"] == "linje 1\r\nlinje\t2\nÅ ø – “citat” 😀"
    assert (form.cleaned_data["count"], form.cleaned_data["ratio"]) == (3, 2000.0)


def test_the_message_is_danish_first() -> None:
    (message,) = _errors({"name": "a\x01b"}, "da")["name"]
    assert message == ("Teksten indeholder et usynligt kontroltegn (U+0001), som ikke kan "
                       "gemmes. Fjern det, og send igen.")
    (digits,) = _errors({"name": "a", "count": "٣"}, "da")["count"]
    assert digits == "Skriv tallet med cifrene 0 til 9 (ikke ٣)."


@pytest.mark.parametrize(("number", "digit"), [("٣", "٣"), ("３", "３"), ("1٢", "٢"),
                                               ("۴", "۴"), ("१०", "१"), ("-٣", "٣")])
@pytest.mark.parametrize("field", ["count", "share", "ratio"])
def test_a_number_field_takes_only_the_digits_0_to_9(field: str, number: str,
                                                     digit: str) -> None:
    """Django's number fields read all of these (Python's int, float and Decimal do)."""
    errors = _errors({"name": "a", field: number})
    assert errors == {field: [f"Write the number with the digits 0 to 9 (not {digit})."]}


def test_a_text_field_keeps_other_scripts_digits() -> None:
    """Only a number field asks for 0 to 9: a text may hold any script's digits."""
    assert _Sample({"name": "٣ ３", "count": "12"}).is_valid()


def test_a_model_form_refuses_them_too() -> None:
    class _Participant(ModelForm):
        class Meta:
            model = Participant
            fields = ("name", "email")

    form = _Participant({"name": "Ann\x1bB", "email": "ann@example.org"})
    assert not form.is_valid() and list(form.errors) == ["name"]


def test_the_checks() -> None:
    assert control_character("ok\t\r\n") is None and control_character("a\x7f") == "U+007F"
    assert foreign_digit("0123456789") is None and foreign_digit("1٣") == "٣"


def _project_forms() -> list[type[forms.BaseForm]]:
    for module in pkgutil.walk_packages(tryg.__path__, "tryg."):
        if module.name.endswith(".forms"):
            importlib.import_module(module.name)
    found: list[type[forms.BaseForm]] = []
    todo: list[type[Any]] = [forms.BaseForm]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("tryg.") and cls.__module__ != "tryg.bounds":
            found.append(cls)
    return found


def test_every_form_of_the_project_derives_from_the_checked_base() -> None:
    project = _project_forms()
    assert len(project) >= 20  # the walks', the strategy's, the reports' and the imports'
    assert [f for f in project if not issubclass(f, CheckedInput)] == []
