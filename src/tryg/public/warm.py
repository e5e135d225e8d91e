"""Warming the page cache after a publication: the first visitors find their pages rendered.

:func:`warm` renders the front page, the map and the area pages of the top levels (every
level but the finest, which has the most areas and the fewest visitors per page) in every
language into the page cache (:mod:`tryg.public.cache`), exactly as an anonymous visitor's
request would store them. It is the one seam: today a background thread started when a run is
published (:func:`warm_in_background`, connected in :mod:`tryg.public.apps` and switched off
with ``TRYG_WARM_ON_PUBLISH = False``; skipped where it would be of no use,
:func:`worth_warming`), or with a shared cache a background job (``warm_pages`` in
:mod:`tryg.jobs.kinds`) that any worker runs.

It warms only the publication the public sees: if another run is published (or this one
withdrawn) meanwhile, it stops, and the pages are rendered for the new one as they are asked for.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import close_old_connections, connection, transaction
from django.dispatch import Signal
from django.test import RequestFactory
from django.urls import resolve, reverse
from django.utils import translation

from tryg.public.data import Publication, latest_publication, published

log = logging.getLogger(__name__)


def warm_paths(publication: Publication) -> list[str]:
    """The pages :func:`warm` renders: front page, map, the top levels' area pages."""
    data = published(publication.run())
    levels = list(dict.fromkeys(data.table["level"]))  # top level first
    top = set(levels[:-1]) if len(levels) > 1 else set(levels)
    part = data.table[data.table["level"].isin(top)]
    codes = list(dict.fromkeys(part["area_code"]))
    return [reverse("home"), reverse("public:map"),
            *(reverse("public:area", args=[code]) for code in codes)]


def warm(publication: Publication) -> list[str]:
    """Render :func:`warm_paths` in every language into the page cache (as an anonymous
    visitor's request stores them); the paths warmed. Stops early (returning what it warmed)
    when ``publication`` is no longer the one the public sees."""
    factory = RequestFactory()
    done: list[str] = []
    if latest_publication() != publication:
        return done
    for path in warm_paths(publication):
        for language, _name in settings.LANGUAGES:
            if latest_publication() != publication:
                log.info("publication %s replaced; warming stopped", publication.key)
                return done
            request = factory.get(path, HTTP_ACCEPT_LANGUAGE=language)
            request.user = AnonymousUser()
            match = resolve(path)
            request.resolver_match = match
            with translation.override(language):
                request.LANGUAGE_CODE = language
                response = match.func(request, *match.args, **match.kwargs)
            if response.status_code == 200:
                done.append(f"{language}:{path}")
            else:
                log.warning("warming %s (%s) answered %s", path, language,
                            response.status_code)
    return done


def _warm_thread(publication: Publication) -> None:
    try:
        paths = warm(publication)
        log.info("warmed %d pages of publication %s", len(paths), publication.key)
    except Exception:  # a cold page is slower, not wrong: the site goes on without
        log.exception("warming the pages of publication %s failed", publication.key)
    finally:
        close_old_connections()
        connection.close()


def warm_in_background(publication: Publication) -> threading.Thread:
    """Start :func:`warm` for ``publication`` in a thread (returned, started). Not a daemon:
    a command that publishes and ends (``tryg index publish`` with a shared cache) finishes
    warming before it exits rather than being cut off half-way."""
    thread = threading.Thread(target=_warm_thread, args=(publication,),
                              name=f"tryg-warm-{publication.key}")
    thread.start()
    return thread


def worth_warming() -> bool:
    """Whether pages rendered here reach visitors: always with a shared cache (Redis, …);
    with a cache in this process's own memory only if this process serves the site (a
    command such as ``tryg index publish`` or ``tryg demo --no-serve`` would warm pages
    nobody can ask it for)."""
    backend = str(settings.CACHES.get("default", {}).get("BACKEND", ""))
    local = backend.endswith((".LocMemCache", ".DummyCache"))
    return not local or "tryg.site.wsgi" in sys.modules


def warm_on_publish(sender: Any, instance: Any, update_fields: Any = None,
                    **_: Any) -> None:
    """post_save of an index run: when it has just been published, warm its pages once the
    transaction commits (off with ``settings.TRYG_WARM_ON_PUBLISH = False``)."""
    if not getattr(settings, "TRYG_WARM_ON_PUBLISH", True) or not worth_warming():
        return
    if instance.published_at is None:
        return
    if update_fields is not None and "published_at" not in update_fields:
        return
    publication = Publication(instance.pk, instance.published_at)
    from tryg.public.generation import shared

    if shared():
        # a background job: any worker renders into the cache every server reads
        transaction.on_commit(lambda: hand_off(publication))
    else:
        transaction.on_commit(lambda: warm_in_background(publication))


#: Sent with ``publication`` when a shared cache lets any worker warm the pages: the job queue
#: (:mod:`tryg.jobs`) answers by queueing its ``warm_pages`` job. The public pages know no job
#: queue; the queue knows them.
warm_elsewhere = Signal()


def hand_off(publication: Publication) -> threading.Thread | None:
    """Let a worker warm ``publication``'s pages; warm them here, in a background thread
    (returned), if nothing takes the work."""
    if any(taken for _receiver, taken in warm_elsewhere.send(Publication,
                                                             publication=publication)):
        return None
    return warm_in_background(publication)
