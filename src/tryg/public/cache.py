"""Rendered public pages, cached per publication, language and page.

A page's main content is rendered once per (published run, language, page and its
parameters) and kept in Django's cache; a request then only fetches it and wraps it in the
site's frame (header, language switch with its CSRF token, log-in state), which is per
visitor and never cached. The run's id and publication time are part of the key, so
publishing or withdrawing a run changes every key at once: nothing has to be invalidated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.core.cache import cache
from django.utils.translation import get_language

from tryg.public.data import Publication, Published, published

#: Seconds a rendered page is kept (a new publication changes the key anyway).
TIMEOUT = 24 * 3600
PREFIX = "tryg-public-page"


@dataclass(frozen=True)
class Fragment:
    """A rendered page body and its title."""

    title: str
    body: str


def page_key(publication: Publication, language: str, page: str,
             params: Mapping[str, str]) -> str:
    """The cache key of a page: publication, language, page name and the parameters the page
    reads (sorted; other query parameters do not make new entries)."""
    query = "&".join(f"{k}={params[k]}" for k in sorted(params))
    digest = hashlib.sha256(f"{page}?{query}".encode()).hexdigest()[:32]
    return f"{PREFIX}:{publication.key}:{language}:{digest}"


def cached_fragment(publication: Publication, page: str, params: Mapping[str, str],
                    render: Callable[[Published], Fragment]) -> Fragment:
    """The page's fragment from the cache, or rendered from the run's public data and kept.
    ``render`` may raise Http404 (nothing is cached then)."""
    key = page_key(publication, get_language() or "da", page, params)
    found = cache.get(key)
    if isinstance(found, Fragment):
        return found
    fragment = render(published(publication.run()))
    cache.set(key, fragment, TIMEOUT)
    return fragment
