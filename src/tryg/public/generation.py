"""The publication generation: one counter in a shared cache that every server reads.

With a shared cache (``TRYG_CACHE_URL``, Redis) each change of an index run (a publication,
a withdrawal) bumps the counter, wherever it happens: on another app server, in a worker, on
the command line. :func:`tryg.public.data.latest_publication` reads the counter (one cache
round trip per request, far less than a database query) and reads the publication from the
database again as soon as the counter has moved, so every server serves the new pages at once
instead of after ``TRYG_PUBLICATION_RECHECK``. The page keys themselves name the publication
(:mod:`tryg.public.cache`), so nothing else has to be deleted.

With the per-process cache (the embedded default) there is no counter: :func:`current` is
None and the recheck interval applies, as before.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

KEY = "tryg-publication-generation"


def shared() -> bool:
    """Whether the default cache is shared between processes."""
    backend = str(settings.CACHES.get("default", {}).get("BACKEND", ""))
    return not backend.endswith((".LocMemCache", ".DummyCache"))


def current() -> int | None:
    """The generation now (0 before any change); None without a shared cache or when the
    cache does not answer (the recheck interval applies then)."""
    if not shared():
        return None
    try:
        value = cache.get(KEY)
    except Exception:  # a cache outage makes pages slower, not wrong
        return None
    return int(value) if value is not None else 0


def bump(**_: Any) -> None:
    """Move the generation on once the transaction commits (connected to the saves and
    deletes of index runs): a server that reads the database on seeing the new generation
    must find the change there."""
    if shared():
        transaction.on_commit(_increment)


def _increment() -> None:
    try:
        cache.add(KEY, 0, timeout=None)
        cache.incr(KEY)
    except Exception:  # the others then see the change within TRYG_PUBLICATION_RECHECK
        return
