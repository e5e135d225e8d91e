"""What a reader tells its caller besides the data: counts, warnings, and collected errors.

Every reader collects *all* problems of a file before it gives up, because a user fixing a
survey export in a spreadsheet wants the whole list at once, not one error per run. The
:class:`Collector` is that list; ``raise_if_errors`` turns it into one ``InputError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tryg.index.inputs import InputError, Problem


@dataclass(frozen=True)
class ReadReport:
    """How a file was read: rows seen, rows that made it into the result, warnings.

    ``rows_read`` counts data rows (not the header, not blank lines); ``rows_used`` those that
    contributed to the result. ``encoding`` is the text encoding used (``None`` for binary
    formats such as XLSX and SPSS).
    """

    source: str
    rows_read: int
    rows_used: int
    warnings: list[Problem] = field(default_factory=list)
    encoding: str | None = None


@dataclass(frozen=True)
class RegisterReport(ReadReport):
    """A register read, plus the records that could not be placed in an area.

    Records with coordinates outside every area, or with no coordinates at all, are counted
    here and listed (first rows) in ``warnings``; they are not in the counts, and the caller
    decides whether that is acceptable.
    """

    outside_areas: int = 0
    without_location: int = 0
    unplaced_rows: tuple[int, ...] = ()


class Collector:
    """Problems found while reading one source: errors stop the read, warnings do not."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, row: int | None, column: str | None, message: str) -> None:
        self.errors.append(Problem(self.source, row, column, message))

    def warn(self, row: int | None, column: str | None, message: str) -> None:
        self.warnings.append(Problem(self.source, row, column, message))

    def raise_if_errors(self) -> None:
        if self.errors:
            raise InputError(list(self.errors))

    def fail(self, row: int | None, column: str | None, message: str) -> InputError:
        """An ``InputError`` with everything collected so far plus this problem (to raise)."""
        self.error(row, column, message)
        return InputError(list(self.errors))
