"""Warming the page cache after a publication (tryg.public.warm).

``warm(publication)`` renders the front page, the map and the top levels' area pages in both
languages into the whole-page cache, exactly as an anonymous visitor's request would; the
visitor then gets that stored page. Publishing starts it in a background thread once the
transaction commits, unless ``TRYG_WARM_ON_PUBLISH`` is off (as in the test settings, so no
thread renders behind a test's back).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from support.pages import page_html
from support.planted import PUBLIC_ESTIMATE, Site, float_forms, plant
from tryg.public import generation
from tryg.public.cache import page_key
from tryg.public.data import forget_publication, latest_publication
from tryg.public.warm import (
    hand_off,
    warm,
    warm_elsewhere,
    warm_in_background,
    warm_paths,
    worth_warming,
)
from tryg.runs.models import IndexRun, ResultRow
from tryg.runs.services import publish, unpublish

TOP = "/areas/K999/"  # the planted municipality (level kommune)
LOWER = "/areas/D999-1/"  # its district: the finest level, not warmed


@pytest.fixture
def site() -> Site:
    cache.clear()
    forget_publication()
    return plant()


def _get(path: str, language: str) -> str:
    return page_html(Client().get(path, HTTP_ACCEPT_LANGUAGE=language))


def _same_page(a: str, b: str) -> bool:
    """Equal but for the ids Vega numbers per drawing in a process (the map's gradient)."""
    def ids(html: str) -> str:
        return re.sub(r"c[0-9a-f]{10}-[\w-]+", "ID", html)
    return ids(a) == ids(b)


def _shows_public_estimate(html: str) -> bool:
    return any(form in html for form in float_forms(PUBLIC_ESTIMATE))


@pytest.mark.django_db
def test_warm_renders_the_front_page_map_and_top_level_pages_in_both_languages(
        site: Site) -> None:
    publication = latest_publication()
    assert publication is not None
    assert warm_paths(publication) == ["/", "/map/", TOP]
    done = warm(publication)
    assert sorted(done) == sorted(f"{lang}:{path}" for path in ("/", "/map/", TOP)
                                  for lang in ("da", "en"))
    for language in ("da", "en"):
        assert cache.get(page_key(publication, language, "area", {"code": "K999"},
                                  kind="response")) is not None
        assert cache.get(page_key(publication, language, "area", {"code": "D999-1"},
                                  kind="response")) is None
    # The stored results change behind the site's back (no new publication): the warmed
    # pages are what visitors get.
    ResultRow.objects.filter(run=site.published).update(estimate=4410.6875)
    for language in ("da", "en"):
        assert _shows_public_estimate(_get(TOP, language))
        assert _shows_public_estimate(_get("/", language))


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["da", "en"])
def test_a_warmed_page_is_the_page_a_visitor_would_have_stored(site: Site,
                                                               language: str) -> None:
    rendered = {path: _get(path, language) for path in ("/", "/map/", TOP)}
    cache.clear()
    publication = latest_publication()
    assert publication is not None
    warm(publication)
    for path, html in rendered.items():
        assert _same_page(_get(path, language), html)


@pytest.mark.django_db
def test_warming_stops_when_the_publication_is_withdrawn(site: Site) -> None:
    publication = latest_publication()
    assert publication is not None
    unpublish(site.published)
    assert warm(publication) == []
    ResultRow.objects.filter(run=site.published).update(estimate=4410.6875)
    publish(site.published)  # a new publication: nothing of the old one is served
    assert not _shows_public_estimate(_get(TOP, "en"))


@pytest.mark.django_db
def test_publishing_warms_after_the_commit_only_when_switched_on_and_of_use(
        site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        django_capture_on_commit_callbacks: Callable[..., Any]) -> None:
    # this process as a command that publishes, not a server (another test of the suite may
    # have imported the WSGI module)
    monkeypatch.delitem(sys.modules, "tryg.site.wsgi", raising=False)
    run = site.published
    unpublish(run)
    shared = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(tmp_path / "cache")}}

    def callbacks(**settings: Any) -> list[Any]:
        with override_settings(**settings), django_capture_on_commit_callbacks() as found:
            publish(run)
        unpublish(run)
        # this module's callbacks only (the strategy computes its evaluations on publication
        # too: tryg.strategy.evaluation_cache)
        return [f for f in found if getattr(f, "__module__", "").startswith("tryg.public")]

    off = callbacks(TRYG_WARM_ON_PUBLISH=False, CACHES=shared)
    on = callbacks(TRYG_WARM_ON_PUBLISH=True, CACHES=shared)
    assert len(on) == len(off) + 1
    # A cache in this process's memory, and this process serves no site (as a command that
    # publishes): pages warmed here would reach nobody.
    with override_settings(TRYG_WARM_ON_PUBLISH=True):
        assert not worth_warming()
    assert len(callbacks(TRYG_WARM_ON_PUBLISH=True)) == len(callbacks(
        TRYG_WARM_ON_PUBLISH=False))
    # withdrawing (a save without a publication) warms nothing (it only moves the shared
    # cache's publication generation, tryg.public.generation)
    with override_settings(TRYG_WARM_ON_PUBLISH=True, CACHES=shared), \
            django_capture_on_commit_callbacks() as withdrawn:
        IndexRun.objects.get(pk=run.pk).save()
    assert [c for c in withdrawn if c is not generation._increment] == []


@pytest.mark.django_db(transaction=True)
def test_the_background_thread_fills_the_cache(site: Site) -> None:
    publication = latest_publication()
    assert publication is not None
    thread = warm_in_background(publication)
    thread.join()
    ResultRow.objects.filter(run=site.published).update(estimate=4410.6875)
    assert _shows_public_estimate(_get(TOP, "da"))  # from the cache the thread filled


@pytest.mark.django_db
def test_with_a_shared_cache_publishing_queues_one_warm_pages_job_that_fills_it(
        site: Site, tmp_path: Path,
        django_capture_on_commit_callbacks: Callable[..., Any]) -> None:
    """The public pages hand the work off (tryg.public.warm.warm_elsewhere); the job queue
    takes it as a ``warm_pages`` job (run at once by the test settings' task backend)."""
    from tryg.jobs.models import Job

    run = site.published
    unpublish(run)
    shared = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(tmp_path / "cache")}}
    with override_settings(TRYG_WARM_ON_PUBLISH=True, CACHES=shared):
        with django_capture_on_commit_callbacks(execute=True):
            publish(run)
        jobs = list(Job.objects.filter(kind="warm_pages"))
        seen = [(j.params["run"], j.state, j.result.get("pages", 0) > 0, j.error) for j in jobs]
        assert seen == [(run.pk, Job.State.DONE, True, "")]
        ResultRow.objects.filter(run=run).update(estimate=4410.6875)
        assert _shows_public_estimate(_get(TOP, "da"))  # from the cache the job filled
        # publishing the same publication's pages again queues nothing new (the job's key)
        publication = latest_publication()
        assert publication is not None
        assert hand_off(publication) is None
        assert Job.objects.filter(kind="warm_pages").count() == 1


@pytest.mark.django_db(transaction=True)
def test_when_no_queue_takes_the_work_the_pages_are_warmed_here(site: Site) -> None:
    from tryg.jobs import kinds

    publication = latest_publication()
    assert publication is not None
    assert warm_elsewhere.disconnect(dispatch_uid="tryg-jobs-warm-pages")
    try:
        thread = hand_off(publication)
    finally:
        warm_elsewhere.connect(kinds.queue_warm_pages, dispatch_uid="tryg-jobs-warm-pages")
    assert thread is not None
    thread.join()
    ResultRow.objects.filter(run=site.published).update(estimate=4410.6875)
    assert _shows_public_estimate(_get(TOP, "da"))
