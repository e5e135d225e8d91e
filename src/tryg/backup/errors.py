"""The one error of backing up and restoring."""

from __future__ import annotations


class BackupError(Exception):
    """A backup or restore that cannot be made, with the reason."""
