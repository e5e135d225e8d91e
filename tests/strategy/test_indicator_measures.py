"""An index or register indicator names a measure that exists: one a run of a shipped
specification, or of a specification this installation has run, gives rows for. The attacker
probe stored ``measure_id="no_such_measure"``: the indicator then waited for figures that
never come. The form refuses it naming the id, in the page's language; the YAML template
import refuses it by line; templates naming measures of the shipped specifications import."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from strategy.strategy_helpers import areas, indicator, initiative, people
from tryg.index import load_spec, shipped_specs
from tryg.index.catalog import shipped_text
from tryg.runs.models import StoredSpec
from tryg.strategy import measures
from tryg.strategy.models import Indicator
from tryg.strategy.yaml_template import TemplateError, import_template, shipped

pytestmark = pytest.mark.django_db

TEMPLATE = "tryg-aalborg-2014-17.yaml"
INDICATOR = {"name": "Trygge", "unit": "%", "polarity": "up", "frequency": "annual",
             "order": "1"}


def _coordinator() -> tuple[Client, Any]:
    who = people()
    client = Client()
    client.force_login(who.coordinator)
    return client, initiative([who.housing])


def _own_spec() -> str:
    """A municipality's own specification: the separate indices with one measure renamed."""
    text = shipped_text("separate-indices").replace('"separate-indices"', '"egen-model"')
    return text.replace("onveiligheidsbeleving", "egen_oplevelse")


def test_the_known_measures_are_every_shipped_specifications_result_measures() -> None:
    known = measures.known_measures()
    # a survey measure, a register measure and its smoothed companion, a sub-index, the
    # composite and the gap of dk-tryghedsindeks; the measures of the other shipped specs
    assert {"tryghed_trygge", "anmeldelser_vold", "anmeldelser_vold_eb", "oplevet_tryghed",
            "tryghedsindeks", "gap", "veiligheidsindex", "onveiligheidsbeleving"} <= known
    assert len(shipped_specs()) == 3
    assert "tryghed_trygg" not in known and "" not in known
    # the Amsterdam-style spec has a composite of transform "none": no rows, so no measure
    separate = load_spec("separate-indices")
    assert separate.composite is not None and separate.composite.id not in known


def test_a_stored_specifications_measures_are_known_once_it_is_stored() -> None:
    own = load_spec(_own_spec())
    assert "egen_oplevelse" not in measures.known_measures()
    StoredSpec.objects.create(spec_id=own.id, version=own.version, sha256=own.hash,
                              text=own.source)
    assert "egen_oplevelse" in measures.known_measures()


def test_the_check_names_the_unknown_id() -> None:
    with pytest.raises(ValidationError) as caught:
        measures.check_measure("no_such_measure")
    assert caught.value.messages == [
        "There is no measure no_such_measure in the index specifications (the shipped ones "
        "and those of the stored runs)."]
    measures.check_measure("anmeldelser_straffelov")  # known: no error


@pytest.mark.parametrize("source", ["index", "register"])
def test_the_form_refuses_an_unknown_measure_naming_it(source: str) -> None:
    client, parent = _coordinator()
    url = reverse("strategy:indicator_new", args=[parent.pk])
    response = client.post(url, {**INDICATOR, "source": source,
                                 "measure_id": "no_such_measure"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "There is no measure no_such_measure" in response.content.decode()
    danish = client.post(url, {**INDICATOR, "source": source, "measure_id": "tryghed_trygg"},
                         HTTP_ACCEPT_LANGUAGE="da")
    assert danish.status_code == 400
    assert ("Der findes intet mål tryghed_trygg i indeksspecifikationerne"
            in danish.content.decode())
    assert not Indicator.objects.filter(initiative=parent).exists()


def test_the_form_accepts_the_measures_of_every_known_specification() -> None:
    client, parent = _coordinator()
    url = reverse("strategy:indicator_new", args=[parent.pk])
    own = load_spec(_own_spec())
    StoredSpec.objects.create(spec_id=own.id, version=own.version, sha256=own.hash,
                              text=own.source)
    for source, measure in [("index", "tryghed_trygge"), ("register", "anmeldelser_vold"),
                            ("index", "veiligheidsindex"), ("index", "egen_oplevelse")]:
        response = client.post(url, {**INDICATOR, "name": measure, "source": source,
                                     "measure_id": measure})
        assert response.status_code == 302, (measure, response.content.decode()[:2000])
    assert Indicator.objects.filter(initiative=parent).count() == 4
    # a manual indicator names no measure, and is not asked for one
    assert client.post(url, {**INDICATOR, "source": "manual", "measure_id": ""}
                       ).status_code == 302


def test_editing_an_indicator_to_an_unknown_measure_is_refused() -> None:
    client, parent = _coordinator()
    ind = indicator(parent, source="index", measure_id="tryghed_trygge")
    response = client.post(reverse("strategy:indicator_edit", args=[ind.pk]), {
        **INDICATOR, "source": "index", "measure_id": "no_such_measure"},
        HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    ind.refresh_from_db()
    assert ind.measure_id == "tryghed_trygge"


def test_a_template_naming_another_shipped_specs_measure_imports() -> None:
    areas("0851")
    text = shipped(TEMPLATE)
    assert "measure: tryghed_trygge" in text
    made = import_template(text.replace("measure: tryghed_trygge", "measure: veiligheidsindex",
                                        1), create_organisations=True)
    assert Indicator.objects.filter(initiative__focus_area__strategy=made.strategy,
                                    measure_id="veiligheidsindex").count() == 1


def test_a_template_naming_an_unknown_measure_is_refused_by_line() -> None:
    areas("0851")
    text = shipped(TEMPLATE).replace("measure: tryghed_trygge", "measure: no_such_measure", 1)
    with pytest.raises(TemplateError) as caught:
        import_template(text, source="t.yaml", create_organisations=True)
    assert any("unknown measure 'no_such_measure'" in message
               for _line, message in caught.value.problems), caught.value.problems
    assert not Indicator.objects.exists()
