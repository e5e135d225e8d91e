"""Typed access to a parsed TOML table, with errors that name the key path.

The specification parser reads every setting through this, so a wrong type anywhere in a
spec is reported as e.g. ``subindices[2].anchors must be a list of numbers``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Text:
    """A text in Danish (first) and English."""

    da: str
    en: str

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.da



class SpecError(ValueError):
    """The specification is not valid; the message names the offending key."""


class TableReader:
    """Typed access to a TOML table with errors that name the key path."""

    def __init__(self, data: Mapping[str, Any], path: str) -> None:
        self.data = data
        self.path = path

    def _key(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def table(self, key: str, optional: bool = False) -> TableReader:
        value = self.data.get(key)
        if value is None:
            if optional:
                return TableReader({}, self._key(key))
            raise SpecError(f"missing table [{self._key(key)}]")
        if not isinstance(value, dict):
            raise SpecError(f"[{self._key(key)}] must be a table")
        return TableReader(value, self._key(key))

    def tables(self, key: str) -> list[TableReader]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise SpecError(f"[[{self._key(key)}]] must be an array of tables")
        return [TableReader(v, f"{self._key(key)}[{i}]") for i, v in enumerate(value)]

    def string(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or (default is None and not value):
            raise SpecError(f"{self._key(key)} must be a non-empty string")
        return value

    def text(self, key: str, optional: bool = False) -> Text:
        value = self.data.get(key)
        if value is None and optional:
            return Text("", "")
        if isinstance(value, str):
            return Text(value, value)
        if not isinstance(value, dict) or not isinstance(value.get("da"), str):
            raise SpecError(f"{self._key(key)} must be a string or a table with da (and en)")
        return Text(value["da"], str(value.get("en", value["da"])))

    def number(self, key: str, default: float | None = None) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SpecError(f"{self._key(key)} must be a number")
        return float(value)

    def integer(self, key: str, default: int | None = None) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(f"{self._key(key)} must be a whole number")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise SpecError(f"{self._key(key)} must be true or false")
        return value

    def strs(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SpecError(f"{self._key(key)} must be a list of strings")
        return tuple(value)

    def nums(self, key: str) -> tuple[float, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
        ):
            raise SpecError(f"{self._key(key)} must be a list of numbers")
        return tuple(float(v) for v in value)

    def choice(self, key: str, options: tuple[str, ...], default: str | None = None) -> Any:
        """One of ``options`` (typed ``Any`` so each caller's Literal type accepts it)."""
        value = self.data.get(key, default)
        if value not in options:
            raise SpecError(f"{self._key(key)} must be one of {', '.join(options)} (got {value!r})")
        return str(value)


def unique(what: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise SpecError(f"{what}: the id {i!r} is used twice")
        seen.add(i)
