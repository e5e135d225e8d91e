"""The report's sections: a registry of small providers, so that a section appears when its
data exists.

A :class:`Section` is a title, an anchor (the ``id`` its bookmark and the table of contents
point to), a template and a context builder. The builder gets the :class:`ReportData` of the
report being made (audience, options, the published figures, the appendix) and returns the
template's context, or ``None`` when it has nothing to say (no strategy stored, no walks held,
no followed areas): the section is then left out, with its bookmark.

Sections are registered by the apps that own their data, from their ``AppConfig.ready``
(:func:`register`), or listed as dotted paths in the setting ``TRYG_REPORT_SECTIONS``
(:func:`register_from_settings`). The index's own sections are registered by
:mod:`tryg.reports.apps`; the strategy's and the safety walks' providers
(:mod:`tryg.reports.strategy_section`, :mod:`tryg.reports.walks_section`) are registered there
too and stay silent until their app is installed and holds data.

A section can also add lines to the one-page summary (``summary``): the strategy section says
how its initiatives stand there.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.utils.functional import Promise
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from tryg.public.data import Published

Audience = Literal["public", "internal"]
AUDIENCES: tuple[Audience, ...] = ("public", "internal")
LANGUAGES: tuple[str, ...] = ("da", "en")


@dataclass(frozen=True)
class ReportOptions:
    """What a report is made of and for.

    ``audience``: ``"public"`` (only what the public pages show: the latest publication's
    public view) or ``"internal"`` (for analysts and coordinators: the same figures, and the
    sections' internal details, e.g. the walks' open items with their owners; ``run`` may
    name a finished run to preview as it would be published). ``areas``: the codes of the
    areas the council follows (default: setting ``TRYG_REPORT_AREAS``, else every area of the
    level ``TRYG_REPORT_FOLLOWED_LEVEL``). ``wave``: the wave the report is about (default:
    the latest). ``strategy``: the strategy's code or id (default: the current one).
    ``created``: the report's date (the same date gives the same file).
    """

    audience: Audience = "public"
    language: str = "da"
    wave: int | None = None
    areas: tuple[str, ...] = ()
    strategy: str | None = None
    run: int | None = None
    created: datetime.date | None = None

    def __post_init__(self) -> None:
        if self.audience not in AUDIENCES:
            raise ValueError(f"unknown audience {self.audience!r}")
        if self.language not in LANGUAGES:
            raise ValueError(f"unknown language {self.language!r}")
        if self.run is not None and self.audience != "internal":
            raise ValueError("only an internal report can be made of a chosen run")


@dataclass(frozen=True)
class AppendixTable:
    """A table behind a chart: numbered in the appendix, referred to under the chart."""

    number: str
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    #: how many leading cells of a row are its header cells (``<th scope="row">``)
    row_headers: int = 1
    #: which columns are numbers (right-aligned)
    numeric: tuple[bool, ...] = ()

    def _numeric(self, i: int) -> bool:
        return i < len(self.numeric) and self.numeric[i]

    @property
    def header(self) -> list[tuple[str, bool]]:
        """(column name, is a number) of each column."""
        return [(c, self._numeric(i)) for i, c in enumerate(self.columns)]

    @property
    def body(self) -> list[list[tuple[str, bool, bool]]]:
        """Each row's cells as (text, is a row header, is a number)."""
        return [[(v, i < self.row_headers, self._numeric(i)) for i, v in enumerate(row)]
                for row in self.rows]


@dataclass
class Appendix:
    """The tables behind the report's charts, in the order the charts come."""

    tables: list[AppendixTable] = field(default_factory=list)

    def add(self, caption: str, columns: Iterable[str], rows: Iterable[Iterable[Any]], *,
            row_headers: int = 1, numeric: Iterable[bool] = ()) -> AppendixTable:
        table = AppendixTable(
            f"A.{len(self.tables) + 1}", str(caption), tuple(str(c) for c in columns),
            tuple(tuple("" if v is None else str(v) for v in row) for row in rows),
            row_headers, tuple(numeric))
        self.tables.append(table)
        return table


@dataclass(frozen=True)
class SummaryLine:
    """A line of the one-page summary, from a section other than the index's."""

    text: str
    tone: Literal["better", "worse", "neutral"] = "neutral"


@dataclass
class ReportData:
    """What every section's builder gets: the options, the figures (the public view of the
    publication, or of the chosen run for an internal preview), the area the report is
    about, the wave, where every figure comes from, and the appendix to add tables to."""

    options: ReportOptions
    published: Published
    place: tuple[str, str] | None
    wave: int | None
    source: str
    appendix: Appendix = field(default_factory=Appendix)
    #: who asks (internal reports: sections may show what this user may see); None for the
    #: command line and public reports
    user: Any = None
    #: what providers compute once per report (keyed by the provider's own names)
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def audience(self) -> Audience:
        return self.options.audience

    @property
    def language(self) -> str:
        return self.options.language


Builder = Callable[[ReportData], "dict[str, Any] | None"]
Summariser = Callable[[ReportData], "list[SummaryLine]"]


@dataclass(frozen=True)
class Section:
    """A provider of one section of the report.

    ``title``: the heading (a lazy translation, so that it is in the report's language).
    ``order``: where the section comes (cover 0, appendix last). ``build``: the template's
    context, or None to leave the section out.
    """

    key: str
    title: str | Promise
    template: str
    build: Builder
    order: int = 500
    summary: Summariser | None = None

    @property
    def anchor(self) -> str:
        return f"section-{self.key}"


_registry: dict[str, Section] = {}


def register(section: Section) -> Section:
    """Add ``section`` to the report (a section of the same key is replaced: registering
    again from a re-run ``ready`` changes nothing)."""
    _registry[section.key] = section
    return section


def unregister(key: str) -> None:
    _registry.pop(key, None)


def registered() -> list[Section]:
    """The registered sections in their order (then by key)."""
    return sorted(_registry.values(), key=lambda s: (s.order, s.key))


def register_from_settings() -> None:
    """Register the sections listed in ``TRYG_REPORT_SECTIONS`` (dotted paths of
    :class:`Section` objects, or of callables returning one)."""
    for path in getattr(settings, "TRYG_REPORT_SECTIONS", ()):
        found = import_string(path)
        section = found() if callable(found) and not isinstance(found, Section) else found
        if not isinstance(section, Section):
            raise TypeError(f"TRYG_REPORT_SECTIONS: {path} is not a report Section")
        register(section)
