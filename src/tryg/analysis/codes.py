"""The codes of a run's page in words, in the page's language: a result row's measure, method
and flags, and the inputs the run read. The words are those the public pages use
(:mod:`tryg.public.measures`) and the imports' kinds (:class:`ImportBatch.Kind`): one wording
for each code. The downloads keep the codes (they are data; the codebook explains them)."""

from __future__ import annotations

from typing import Any

from tryg.imports.models import ImportBatch
from tryg.index.spec import Spec
from tryg.public.measures import catalogue, flag_labels, method_label


def label_rows(rows: list[dict[str, Any]], spec: Spec, language: str) -> list[dict[str, Any]]:
    """``rows`` with ``measure_label``, ``method_label`` and ``flag_labels`` added."""
    measures = catalogue(spec)
    for row in rows:
        code = str(row.get("measure") or "")
        info = measures.get(code)
        row["measure_label"] = info.label(language) if info is not None else code
        row["method_label"] = method_label(row.get("method"))
        row["flag_labels"] = flag_labels(row.get("flags"))
    return rows


def measure_choices(measures: list[str], spec: Spec, language: str) -> list[tuple[str, str]]:
    """(code, "label (code)") of each measure, for the page's filter."""
    known = catalogue(spec)
    return [(m, f"{known[m].label(language)} ({m})" if m in known else m) for m in measures]


def input_label(name: str) -> str:
    """An input of a run (``areas``, ``population``, ``survey``, ``register``) in words."""
    kinds = ImportBatch.Kind
    return str(kinds(name).label) if name in kinds.values else name
