"""tryg.readers: files in, core inputs out, with a report naming file, row and column.

Adapters, not core: these modules open files. Each ``read_*`` returns the core type from
:mod:`tryg.index.inputs` and a :class:`ReadReport`, or raises one ``InputError`` listing every
problem found (file, row as the file's line number, column, message). Nothing is returned
half-checked, and no library exception (pandas, openpyxl, a ``UnicodeDecodeError``) escapes.
"""

from tryg.readers.areas import read_area_geometry, read_areas
from tryg.readers.population import read_population
from tryg.readers.register import read_register
from tryg.readers.report import ReadReport, RegisterReport
from tryg.readers.survey import read_survey

__all__ = [
    "ReadReport",
    "RegisterReport",
    "read_area_geometry",
    "read_areas",
    "read_population",
    "read_register",
    "read_survey",
]
