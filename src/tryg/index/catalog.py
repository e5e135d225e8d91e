"""The shipped index specifications, and one way in for every kind of specification.

Three specifications ship with tryg as package data (``tryg/index/specs/*.toml``): the Danish
model and two international alternatives. A user's own specification is TOML text; reading it
from a file is the adapter's job (the CLI reads the file and passes the text here), so that this
module, like the rest of the pure core, never opens a file by path.

The one exception to "no I/O" in ``tryg.index``: this module reads the shipped specifications
with :mod:`importlib.resources`. That is read-only access to the package's own data, through the
import system rather than a file path, so it works the same from a checkout, an installed wheel
or a zip; the import contract in ``pyproject.toml`` forbids ``os``, ``pathlib``, ``io`` and the
like, but not ``importlib.resources``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from tryg.index.spec import Spec, SpecError, parse_spec

_PACKAGE = "tryg.index"
_FOLDER = "specs"
_SUFFIX = ".toml"


def shipped_specs() -> list[str]:
    """Ids of the specifications that ship with tryg, sorted.

    A shipped file is named after the id it declares (``dk-tryghedsindeks.toml`` holds
    ``id = "dk-tryghedsindeks"``; a test keeps it so), so the ids are the file names.
    """
    folder = resources.files(_PACKAGE).joinpath(_FOLDER)
    return sorted(
        entry.name[: -len(_SUFFIX)]
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith(_SUFFIX)
    )


def shipped_text(spec_id: str) -> str:
    """The TOML text of a shipped specification (for showing or copying it as a template)."""
    if spec_id not in shipped_specs():
        raise SpecError(_unknown(spec_id))
    return _read(spec_id)


def load_spec(name_or_text: str) -> Spec:
    """A specification from a shipped id (``"dk-tryghedsindeks"``) or from TOML text.

    Anything that is not a shipped id is parsed as TOML, so a user's file works once its text
    has been read. A short string without a newline that is not a shipped id is almost surely
    a mistyped id, so it gets an error listing the shipped ids rather than a TOML parse error.
    """
    if name_or_text in shipped_specs():
        return _parse_shipped(name_or_text)
    if "\n" not in name_or_text and "=" not in name_or_text:
        raise SpecError(_unknown(name_or_text))
    return parse_spec(name_or_text)


@cache
def _parse_shipped(spec_id: str) -> Spec:
    # Spec is frozen, so one parsed copy per process can be shared.
    return parse_spec(_read(spec_id))


def _read(spec_id: str) -> str:
    resource = resources.files(_PACKAGE).joinpath(_FOLDER).joinpath(spec_id + _SUFFIX)
    return resource.read_text(encoding="utf-8")


def _unknown(name: str) -> str:
    return (
        f"{name!r} is not a shipped specification (shipped: {', '.join(shipped_specs())}); "
        "give a shipped id, or the TOML text of a specification"
    )
