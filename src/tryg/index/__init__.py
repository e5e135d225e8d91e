"""tryg.index: safety indices from survey answers and the police register.

Pure core: specifications (TOML text, hashed), measures, transforms, comparisons and
publication rules; ``run(spec, survey=..., register=..., population=..., areas=...)`` returns
one tidy table. Files are read by :mod:`tryg.readers`, written by :mod:`tryg.exports`.
"""

from typing import TYPE_CHECKING, Any

from tryg.index.catalog import load_spec, shipped_specs
from tryg.index.inputs import (
    Areas,
    InputError,
    PopulationInput,
    Problem,
    RegisterInput,
    SurveyInput,
)
from tryg.index.spec import Spec, SpecError, parse_spec, result_measure_ids

if TYPE_CHECKING:
    from tryg.index.compute import IndexResult, run


def __getattr__(name: str) -> Any:
    """``run`` and ``IndexResult`` load the computation (scipy, the statistics engine) only
    when first used, so that importing a light part of the package (the input types, the
    spec catalogue) - and so ``tryg --help`` - stays fast."""
    if name in ("run", "IndexResult"):
        from tryg.index import compute

        return getattr(compute, name)
    raise AttributeError(f"module 'tryg.index' has no attribute {name!r}")

__all__ = [
    "Areas",
    "IndexResult",
    "InputError",
    "PopulationInput",
    "Problem",
    "RegisterInput",
    "Spec",
    "SpecError",
    "SurveyInput",
    "load_spec",
    "parse_spec",
    "result_measure_ids",
    "run",
    "shipped_specs",
]
