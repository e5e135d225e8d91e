"""The one error the geometry core raises.

Geometry comes from files the user chose, so a bad ring or an unknown coordinate system is an
input problem, not a bug: readers catch :class:`GeometryError` and turn it into an
``InputError`` that names the file. Keeping it a ``ValueError`` lets plain callers treat it as
one.
"""

from __future__ import annotations


class GeometryError(ValueError):
    """Geometry that cannot be used: the message says which feature or area and why."""
