"""The public pages: thin views over :mod:`tryg.public.pages` and the page cache.

No login. Every page shows the latest published run through its public view; before the first
publication each page says so (status 200), rather than failing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import urlencode

from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from tryg.public import downloads as files
from tryg.public import pages
from tryg.public.cache import (
    NOT_KEPT_ATTRIBUTE,
    Fragment,
    cached_fragment,
    cached_response,
    is_anonymous_visit,
)
from tryg.public.codebook import LICENCE_URLS
from tryg.public.data import (
    Publication,
    Published,
    StalePublicationError,
    forget_publication,
    latest_publication,
    latest_published_run,
    published,
)
from tryg.web import params as query
from tryg.web.language import page_language

DOWNLOAD_FORMATS: tuple[str, ...] = files.FORMATS


def _page(request: HttpRequest, page: str, params: Mapping[str, str],
          render_page: Callable[[Published, str], Fragment]) -> HttpResponse:
    """The page from the cache, or rendered from the latest publication. When this process's
    idea of the publication is stale (withdrawn elsewhere within the recheck interval), the
    database is read again and the now-current publication is served."""
    for _attempt in range(3):
        publication = latest_publication()
        if publication is None:
            break
        try:
            return _publication_page(request, publication, page, params, render_page)
        except StalePublicationError:
            forget_publication()
    return render(request, "public/unpublished.html")


def _publication_page(request: HttpRequest, publication: Publication, page: str,
                      params: Mapping[str, str],
                      render_page: Callable[[Published, str], Fragment]) -> HttpResponse:
    language = page_language()

    def framed(fragment: Fragment, **extra: object) -> HttpResponse:
        response = render(request, "public/frame.html", {
            "fragment": fragment, "language_next": _canonical(request, params), **extra})
        if not fragment.keep:
            setattr(response, NOT_KEPT_ATTRIBUTE, True)
        return response

    if is_anonymous_visit(request):  # the whole page is cached; its body need not be
        # Without a session cookie nobody is logged in: the frame is told so rather than
        # reading the (empty) session, which would add "Vary: Cookie" to this first answer
        # and not to the copies served from the cache (tryg.public.fast).
        return cached_response(request, publication, page, params, lambda: framed(
            render_page(published(publication.run()), language), user=AnonymousUser()))
    return framed(cached_fragment(publication, page, params,
                                  lambda data: render_page(data, language)))


def _canonical(request: HttpRequest, params: Mapping[str, str]) -> str:
    """This page's address with only the query parameters the page reads: the same for
    every visitor whose page comes from the same cache entry."""
    query = urlencode({k: v for k, v in sorted(params.items()) if v and k in request.GET})
    return f"{request.path}?{query}" if query else request.path


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return _page(request, "home", {}, pages.home)


@require_safe
def area_map(request: HttpRequest) -> HttpResponse:
    params = {k: query.text(request, k, max_length=100)
              for k in ("measure", "wave", "level", "show")}
    return _page(request, "map", params,
                 lambda data, lang: pages.area_map(data, lang, **params))


@require_safe
def area(request: HttpRequest, code: str) -> HttpResponse:
    def render_area(data: Published, language: str) -> Fragment:
        if pages.has_area(data, code):
            return pages.area(data, language, code)
        if pages.has_stored_area(code):  # imported, but no figures published for it
            return pages.area_without_figures(data, language, code)
        raise Http404("no such area")

    return _page(request, "area", {"code": code}, render_area)


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    """Areas by name or postal code (a plain GET form; the answer is not cached, as any text
    can be asked for)."""
    text = query.text(request, "q", max_length=100)
    publication = latest_publication()
    if publication is None:
        return render(request, "public/unpublished.html")
    fragment = pages.search(published(publication.run()), page_language(), text)
    return render(request, "public/frame.html", {
        "fragment": fragment, "language_next": _canonical(request, {"q": text[:100]})})


@require_safe
def methods(request: HttpRequest) -> HttpResponse:
    return _page(request, "methods", {}, pages.methods)


@require_safe
def downloads(request: HttpRequest) -> HttpResponse:
    # the licence is part of the page: a changed TRYG_DATA_LICENCE makes a new cache entry
    return _page(request, "downloads", {"licence": files.licence()}, pages.downloads)


@require_safe
def codebook(request: HttpRequest) -> HttpResponse:
    return _page(request, "codebook", {"licence": files.licence()}, pages.codebook)


@require_safe
def download(request: HttpRequest, fmt: str) -> HttpResponse:
    """A file of the latest published run's public results (see tryg.public.downloads)."""
    run = latest_published_run()
    if run is None:
        raise Http404("no index run has been published yet")
    wave = query.whole_number(request, "wave", hi=query.MAX_YEAR) if fmt == "geojson" else None
    body, content_type, name = files.download(run, fmt, wave)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    # The licence and the codebook as links (RFC 8288): the files themselves stay plain
    # tables (the JSON an array of records), so readers of them need not change.
    links = [f'<{reverse("public:codebook")}>; rel="describedby"']
    licence_url = LICENCE_URLS.get(files.licence())
    if licence_url:
        links.append(f'<{licence_url}>; rel="license"')
    response["Link"] = ", ".join(links)
    return response
