"""tryg: local safety strategies for Danish municipalities and police.

The package follows the Tryg Aalborg model: a safety index (Tryghedsindeks)
built from resident surveys and the police register, initiatives, and safety
walks (tryghedsvandringer). The statistics engine lives in :mod:`tryg.stats`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__: str = version("tryg")
except PackageNotFoundError:  # pragma: no cover - only when run from an uninstalled tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
