"""The measures an index or register indicator may name: those a run gives rows for.

An indicator's ``measure_id`` is looked up in the published runs' rows
(:func:`tryg.strategy.sources.published_points`); a misspelt id ("tryghed_trygg") would match
nothing, and the indicator would stay "no measurement yet" for ever without saying why. So the
form and the YAML template refuse an id that no known specification has: the shipped ones
(:func:`tryg.index.shipped_specs`) and the ones this installation has run (stored with their
runs, a municipality's own specification among them), by :func:`tryg.index.result_measure_ids`.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tryg.index import SpecError, load_spec, parse_spec, result_measure_ids, shipped_specs


def known_measures() -> set[str]:
    """The measure ids of the shipped and the stored specifications (read when asked: a
    specification stored since counts at once)."""
    from tryg.runs.models import StoredSpec

    ids: set[str] = set()
    for spec_id in shipped_specs():
        ids.update(result_measure_ids(load_spec(spec_id)))
    for text in StoredSpec.objects.values_list("text", flat=True):
        try:
            ids.update(result_measure_ids(parse_spec(text)))
        except SpecError:
            continue  # a stored text that no longer parses names no measure
    return ids


def check_measure(measure_id: str, known: set[str] | None = None) -> None:
    """Refuse a measure id that no known specification has (ValidationError naming it)."""
    if measure_id not in (known if known is not None else known_measures()):
        raise ValidationError(
            _("There is no measure %(measure)s in the index specifications (the shipped ones "
              "and those of the stored runs)."),
            code="unknown_measure", params={"measure": measure_id})
