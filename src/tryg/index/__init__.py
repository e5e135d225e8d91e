"""tryg.index: safety indices from survey answers and the police register.

Pure core: specifications (TOML text, hashed), measures, transforms, comparisons and
publication rules; ``run(spec, survey=..., register=..., population=..., areas=...)`` returns
one tidy table. Files are read by :mod:`tryg.readers`, written by :mod:`tryg.exports`.
"""

from tryg.index.catalog import load_spec, shipped_specs
from tryg.index.compute import IndexResult, run
from tryg.index.inputs import (
    Areas,
    InputError,
    PopulationInput,
    Problem,
    RegisterInput,
    SurveyInput,
)
from tryg.index.spec import Spec, SpecError, parse_spec

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
    "run",
    "shipped_specs",
]
