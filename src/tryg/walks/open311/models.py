"""Open311 API keys: a key is shown once when made and stored only as its SHA-256.

Registered with the walks app (imported from :mod:`tryg.walks.models`). A key is random
(256 bits), so a fast hash suffices: nothing can be guessed from it, and looking a key up by
its hash is one indexed query.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiKey(models.Model):
    organisation = models.ForeignKey("accounts.Organisation", verbose_name=_("organisation"),
                                     on_delete=models.CASCADE, related_name="open311_keys")
    name = models.CharField(_("name"), max_length=200, blank=True)
    #: The first characters of the key (shown in lists, so a key can be told apart).
    prefix = models.CharField(_("key begins"), max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        app_label = "walks"
        ordering = ["organisation", "created_at", "id"]
        verbose_name = _("Open311 API key")
        verbose_name_plural = _("Open311 API keys")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.organisation})"
