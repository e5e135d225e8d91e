"""Permissions tested from outside: every URL of the site, as every kind of visitor.

The URL patterns are not listed here: they are read from the site's resolver, recursively
(admin and API included), and their parameters are filled from the planted data, so a page or
endpoint added later is checked without touching this file. A pattern that cannot be filled
fails the test (teach :func:`candidates` its parameter).

What is checked:

* an analyst and an administrator do see the planted record-level data and internal results
  (otherwise the rest would prove nothing); a URL where they see such data is *sensitive*;
* the anonymous public, a partner and a walk participant never receive a planted value, in any
  response, and get 401/403/404 (or a redirect to a log-in page) from every sensitive URL
  that serves record-level data or an unpublished run; a coordinator the same for
  record-level data;
* a POST to every URL by the anonymous public or a partner changes nothing that matters
  (publication, data, accounts) and leaks nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils.regex_helper import normalize

from support.planted import (
    ALL_MARKERS,
    INTERNAL_MARKERS,
    MICRODATA_MARKERS,
    WALK_MARKERS,
    Site,
    leaks,
    plant,
)
from tryg.accounts.models import Organisation, User
from tryg.imports.models import ImportBatch
from tryg.jobs.models import Job
from tryg.police_register.models import RegisterRecord
from tryg.runs.models import IndexRun, ResultRow
from tryg.strategy.models import Indicator, Initiative, Measurement, Note, Strategy
from tryg.strategy.models import Target as StrategyTarget
from tryg.surveys.models import Response, Wave

#: Requests per URL pattern at most (patterns with several free parameters).
MAX_PER_PATTERN = 40
#: Kinds that make a URL one to be refused outright. (A list that names an unpublished run
#: to analysts, e.g. /api/runs, may serve the others a filtered list: the leak check still
#: makes sure the run is not in it.)
REFUSE_KINDS = {*MICRODATA_MARKERS, "unpublished run result", "citizen reporter"}


@dataclass(frozen=True)
class Target:
    url: str
    route: str  # the pattern, for messages


def _leaves(resolver: URLResolver, prefix: list[tuple[str, list[str]]]
            ) -> Iterator[tuple[URLPattern, list[tuple[str, list[str]]]]]:
    for p in resolver.url_patterns:
        forms = normalize(p.pattern.regex.pattern)
        combined = [(a + b, pa + pb) for a, pa in prefix for b, pb in forms]
        if isinstance(p, URLResolver):
            yield from _leaves(p, combined)
        else:
            yield p, combined


def all_patterns() -> list[tuple[URLPattern, list[tuple[str, list[str]]]]]:
    """Every endpoint of the site with its URL format strings (as ``reverse`` sees them)."""
    return list(_leaves(get_resolver(), [("", [])]))


def _pks(model: type[Model], limit: int = 5) -> list[str]:
    return [str(pk) for pk in model._default_manager.order_by("pk")
            .values_list("pk", flat=True)[:limit]]


def candidates(name: str, pattern: URLPattern, site: Site) -> list[str]:
    """Values to try for the URL parameter ``name`` of ``pattern``."""
    model_admin = getattr(pattern.callback, "model_admin", None)
    if name == "object_id" and model_admin is not None:
        return _pks(model_admin.model) or ["1"]
    if name == "content_type_id":
        sensitive = (Response, RegisterRecord, IndexRun, ResultRow, User)
        return [str(ContentType.objects.get_for_model(m).pk) for m in sensitive]
    if name == "app_label":
        return [c.label for c in apps.get_app_configs()]
    specific: dict[str, list[Any]] = {
        "year": [site.wave.year],
        "run_id": [site.unpublished.pk, site.published.pk],
        "batch_id": [site.register_batch.pk, site.survey_batch.pk],
        "strategy_id": [site.strategy["strategy"]],
        "focus_area_id": [site.strategy["focus_area"]],
        "initiative_id": [site.strategy["initiative"], site.strategy["hidden_initiative"]],
        "indicator_id": [site.strategy["indicator"]],
        "measurement_id": [site.strategy["measurement"]],
        "job_id": list(Job.objects.values_list("pk", flat=True)),
    }
    if name in specific:
        return [str(v) for v in specific[name]]
    if name in site.walks:  # safety walks (walk_id, action_id, photo_id, token, ...), Open311
        return site.walks[name]
    # Unknown parameter (a URL added later): every planted key, code and name.
    pool = [str(v) for v in site.ints()]
    pool += [a.code for a in site.areas] + [site.unpublished.spec.spec_id]
    pool += list(site.users)
    return pool


def targets(site: Site) -> tuple[list[Target], list[str]]:
    """The URLs to request, and the patterns that could not be filled."""
    found: list[Target] = []
    unfilled: list[str] = []
    for pattern, forms in all_patterns():
        urls: list[str] = []
        for fmt, params in forms:
            values = [candidates(p, pattern, site) for p in params]
            for combo in itertools.product(*values):
                url = "/" + fmt % dict(zip(params, combo, strict=True))
                try:
                    match = resolve(urlparse(url).path)
                except Resolver404:
                    continue
                # (django-ninja makes one pattern per method of a path, all answered by the
                # first: the same URL name marks them as one endpoint)
                same = match.func is pattern.callback or (
                    bool(pattern.name) and match.url_name == pattern.name
                    and match.route.endswith(str(pattern.pattern)))
                if same and url not in urls:
                    urls.append(url)
                if len(urls) >= MAX_PER_PATTERN:
                    break
        route = " | ".join(fmt for fmt, _ in forms)
        if not urls:
            unfilled.append(route)
        found += [Target(u, route) for u in urls]
    return found, unfilled


def _client(user: User | None) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def _request(client: Client, user: User | None, method: str, url: str) -> HttpResponse:
    if user is not None and "_auth_user_id" not in client.session:
        client.force_login(user)  # a previous request (log-out) ended the session
    response: HttpResponse = getattr(client, method)(url)
    return response


def denied(response: HttpResponseBase) -> bool:
    """A refusal: 401/403/404/405, or a redirect to a log-in page."""
    if response.status_code in (401, 403, 404, 405):
        return True
    if response.status_code in (301, 302, 303, 307, 308):
        path = urlparse(response["Location"]).path
        return path in (reverse("login"), reverse("admin:login"))
    return False


def _body(response: HttpResponse) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return bytes(response.content)


QUERIES = ("", "?run={unpublished}", "?batch={batch}&wave={year}&page=2&geometry=1")


def _with_queries(site: Site, url: str) -> list[str]:
    values = {"unpublished": site.unpublished.pk, "batch": site.register_batch.pk,
              "year": site.wave.year}
    return [url + q.format(**values) for q in QUERIES]


def _state() -> dict[str, Any]:
    """What a hostile POST must not change."""
    return {
        "published": sorted(IndexRun.objects.values_list("pk", "published_at")),
        "counts": [m.objects.count() for m in (Response, Wave, RegisterRecord, ImportBatch,
                                               IndexRun, ResultRow, User, Organisation)],
        "strategy": [m.objects.count() for m in (Strategy, Initiative, Indicator, Measurement,
                                                 Note, StrategyTarget)],
        "measurements": sorted(Measurement.objects.values_list("pk", "value", "published")),
        "users": sorted(User.objects.values_list("username", "role", "organisation_id",
                                                 "is_staff", "is_superuser", "is_active",
                                                 "password")),
    }


@pytest.fixture
def site() -> Site:
    return plant()


@pytest.mark.django_db
def test_every_url_pattern_is_reached(site: Site) -> None:
    found, unfilled = targets(site)
    assert not unfilled, f"URL patterns the walker cannot fill (teach candidates()): {unfilled}"
    urls = {t.url for t in found}
    for expected in (f"/analyse/waves/{site.wave.year}/",
                     f"/analyse/imports/{site.register_batch.pk}/records/",
                     f"/analyse/runs/{site.unpublished.pk}/",
                     f"/api/waves/{site.wave.year}/responses", "/api/register/records",
                     "/api/results", f"/admin/accounts/user/{site.users['partner'].pk}/change/",
                     f"/initiatives/{site.strategy['hidden_initiative']}/",
                     f"/indicators/{site.strategy['indicator']}/measurements/new/",
                     f"/api/indicators/{site.strategy['indicator']}/measurements",
                     "/measurements/import/"):
        assert expected in urls


def _sensitive(site: Site, found: list[Target]) -> dict[str, set[str]]:
    """URL → kinds of planted data that an administrator or an analyst receives there."""
    seen: dict[str, set[str]] = {}
    for who in ("admin", "analyst"):
        user = site.users[who]
        client = _client(user)
        for target in found:
            for url in _with_queries(site, target.url):
                response = _request(client, user, "get", url)
                assert response.status_code < 500, f"{who} GET {url}: {response.status_code}"
                kinds = leaks(_body(response))
                if kinds:
                    seen.setdefault(url, set()).update(kinds)
    return seen


@pytest.mark.django_db
def test_no_visitor_without_the_right_gets_data_from_any_url(site: Site) -> None:
    found, _ = targets(site)
    sensitive = _sensitive(site, found)
    # The planted data is reachable for those who may see it (else this test proves nothing).
    everything = set().union(*sensitive.values())
    assert everything == set(ALL_MARKERS), f"analysts never saw: {set(ALL_MARKERS) - everything}"
    for url in (f"/analyse/waves/{site.wave.year}/", f"/api/waves/{site.wave.year}/responses",
                f"/analyse/imports/{site.register_batch.pk}/records/", "/api/register/records",
                f"/analyse/runs/{site.unpublished.pk}/"):
        assert url in sensitive, f"{url} shows analysts no planted data"

    viewers: dict[str, set[str]] = {
        "anonymous": set(), "partner": set(), "walker": set(),
        "coordinator": set(INTERNAL_MARKERS) | set(WALK_MARKERS),
    }
    failures: list[str] = []
    for who, allowed in viewers.items():
        user = site.users.get(who)
        client = _client(user)
        forbidden = {k: v for k, v in ALL_MARKERS.items() if k not in allowed}
        for target in found:
            for url in _with_queries(site, target.url):
                response = _request(client, user, "get", url)
                if response.status_code >= 500:
                    failures.append(f"{who} GET {url}: {response.status_code}")
                leaked = leaks(_body(response), forbidden)
                if leaked:
                    failures.append(f"{who} GET {url} ({response.status_code}) got {leaked}")
                must_refuse = (sensitive.get(url, set()) & REFUSE_KINDS) - allowed
                if must_refuse and not denied(response):
                    failures.append(f"{who} GET {url}: {response.status_code}, not refused "
                                    f"(analysts see {sorted(must_refuse)} there)")
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
def test_a_post_to_any_url_by_the_public_or_a_partner_changes_and_leaks_nothing(
        site: Site) -> None:
    found, _ = targets(site)
    before = _state()
    failures: list[str] = []
    for who in ("anonymous", "partner"):
        user = site.users.get(who)
        client = _client(user)
        for target in found:
            response = _request(client, user, "post", target.url)
            if response.status_code >= 500:
                failures.append(f"{who} POST {target.url}: {response.status_code}")
            leaked = leaks(_body(response))
            if leaked:
                failures.append(f"{who} POST {target.url} got {leaked}")
    assert not failures, "\n".join(failures)
    assert _state() == before


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "partner", "walker", "coordinator"])
def test_publishing_is_refused_to_those_without_the_right(site: Site, who: str) -> None:
    user = site.users.get(who)
    client = _client(user)
    for run in (site.unpublished, site.published):
        for action in ("publish", "unpublish"):
            response = client.post(reverse(f"analyse:{action}", args=[run.pk]))
            assert denied(response), (who, action, run.pk, response.status_code)
    site.unpublished.refresh_from_db()
    site.published.refresh_from_db()
    assert not site.unpublished.is_published
    assert site.published.is_published
    if who in ("partner", "walker"):
        # An unpublished run does not exist for them: 404, not 403.
        url = reverse("analyse:publish", args=[site.unpublished.pk])
        assert client.post(url).status_code == 404
        assert client.get(reverse("analyse:run", args=[site.unpublished.pk])).status_code == 404


@pytest.mark.django_db
def test_a_partner_is_refused_every_url_of_an_action_not_its_own(site: Site) -> None:
    """Safety walks: every URL naming a walk, or an action (or its photo) of another
    organisation, answers the planted partner 401/403/404 (GET and POST)."""
    from tryg.walks.models import Action, Photo

    partner = site.users["partner"]
    others = {str(a) for a in Action.objects.exclude(organisation=partner.organisation)
              .values_list("pk", flat=True)}
    own = {str(a) for a in Action.objects.filter(organisation=partner.organisation)
           .values_list("pk", flat=True)}
    assert others and own
    foreign_photos = {str(p.pk) for p in Photo.objects.select_related("action", "finding")
                      if str((p.action or Action.objects.get(finding=p.finding)).pk) in others}
    client = _client(partner)
    checked = 0
    failures: list[str] = []
    found, _ = targets(site)
    for target in found:
        kwargs = resolve(urlparse(target.url).path).kwargs
        if not ({"walk_id", "revisit_id"} & set(kwargs)
                or kwargs.get("action_id") in others
                or kwargs.get("photo_id") in foreign_photos):
            continue
        for method in ("get", "post"):
            response = _request(client, partner, method, target.url)
            checked += 1
            if not denied(response):
                failures.append(f"partner {method.upper()} {target.url}: {response.status_code}")
    assert checked >= 20 and not failures, "\n".join(failures)
    for pk in own:  # the partner's own action is open to it
        assert _request(client, partner, "get", reverse("walks:action", args=[pk])
                        ).status_code == 200
