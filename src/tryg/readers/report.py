"""What a reader tells its caller besides the data: counts, warnings, and collected errors.

Every reader collects *all* problems of a file before it gives up, because a user fixing a
survey export in a spreadsheet wants the whole list at once, not one error per run. The
:class:`Collector` is that list; ``raise_if_errors`` turns it into one ``InputError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tryg.index.inputs import InputError, Problem, render


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

    def error(self, row: int | None, column: str | None, message: str, /,
              **params: object) -> None:
        """An error; ``message`` is a marked template when ``params`` fill it
        (:meth:`Problem.of`)."""
        self.errors.append(Problem.of(self.source, row, column, message, **params))

    def warn(self, row: int | None, column: str | None, message: str, /,
             **params: object) -> None:
        self.warnings.append(Problem.of(self.source, row, column, message, **params))

    def bad_cell(self, row: int | None, column: str | None, exc: BadCellError) -> None:
        """An error from a cell parser, keeping its template."""
        self.error(row, column, exc.template, **exc.params)

    def raise_if_errors(self) -> None:
        if self.errors:
            raise InputError(list(self.errors))

    def fail(self, row: int | None, column: str | None, message: str, /,
             **params: object) -> InputError:
        """An ``InputError`` with everything collected so far plus this problem (to raise)."""
        self.error(row, column, message, **params)
        return InputError(list(self.errors))


class BadCellError(ValueError):
    """A cell that does not parse; the message says what was expected.

    Raised with a marked template and its params (``BadCellError(_("%(value)s is not a
    number"), value=...)``), so the message can be shown in the reader's language.
    """

    def __init__(self, template: str, /, **params: object) -> None:
        super().__init__(render(template, params))
        self.template = template
        self.params: dict[str, object] = dict(params)
