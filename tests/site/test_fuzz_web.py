"""Fuzzing from outside: no request makes the site answer a server error (5xx).

On the demo municipality (imported through the real import services, run and published, as
the other site tests do), as the anonymous public and as a logged-in user of every role:

* **the API**: Schemathesis reads /api/openapi.json (from the site itself, through WSGI) and,
  for every operation, sends requests that fit the schema and requests that do not (wrong
  types, out-of-range numbers, missing or extra parameters), checking ``not_a_server_error``;
* **the pages**: Hypothesis sends every public and analysts' page (the URL list of
  test_permissions' walker, so a page added later is fuzzed too) query parameters with the
  names the views read and random ones, holding text with NUL and control characters,
  huge and negative numbers, non-ASCII digits, unicode and nothing.

The examples are bounded so the module runs in well under two minutes; run on PostgreSQL too
(``TRYG_TEST_DB=postgres``), where a NUL character in a text parameter was a server error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.http import QueryDict
from django.test import Client
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from test_permissions import all_patterns

from support.demo_import import imported_demo_run
from tryg.accounts.models import Organisation, Role, User
from tryg.areas.models import Area
from tryg.imports.models import ImportBatch
from tryg.public.data import forget_publication
from tryg.runs.models import IndexRun
from tryg.runs.services import publish
from tryg.surveys.models import Wave

#: The anonymous public, then a user of each role.
WHO = ("anonymous", *Role.values)
#: Examples per API operation, role and generation mode.
API_EXAMPLES = 8
#: Examples of page requests in all (each draws a page, a visitor and parameters).
PAGE_EXAMPLES = 120


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, database=None, print_blob=True,
                    suppress_health_check=list(HealthCheck))


@dataclass(frozen=True)
class Demo:
    run: IndexRun
    users: dict[str, User]
    files: Path


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    files = tmp_path_factory.mktemp("fuzz-demo")
    with django_db_blocker.unblock(), transaction.atomic():
        run, analyst = imported_demo_run(files, "fuzz-analyst")
        publish(run, analyst)
        housing = Organisation.objects.create(name="Fuzz boliger", kind="housing")
        users = {role: User.objects.create_user(
                     f"fuzz-{role}", role=role,
                     organisation=housing if role == Role.PARTNER else None)
                 for role in Role.values if role != Role.ANALYST}
        users[Role.ANALYST] = analyst
        yield Demo(run, users, files)
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    """An empty cache, and the test's database connection kept open across WSGI requests
    (Django closes it when a request finishes; its test client, not used by Schemathesis,
    switches that off the same way), or PostgreSQL would lose the test's transaction."""
    cache.clear()
    forget_publication()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def session_cookies(demo: Demo, who: str) -> dict[str, str]:
    """The cookies of a logged-in session of ``who`` ({} for the anonymous public)."""
    if who == "anonymous":
        return {}
    client = Client()
    client.force_login(demo.users[who])
    name = django_settings.SESSION_COOKIE_NAME
    return {name: client.cookies[name].value}


# --- The API, from its OpenAPI schema --------------------------------------------------------

def api_schema() -> Any:
    from tryg.site.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.mark.django_db
def test_the_schema_lists_every_endpoint() -> None:
    paths = {op.ok().path for op in api_schema().get_all_operations()}
    assert {"/api/areas", "/api/results", "/api/register/records",
            "/api/waves/{year}/responses"} <= paths


@pytest.mark.django_db
@pytest.mark.parametrize("who", WHO)
def test_no_api_request_is_a_server_error(demo: Demo, who: str) -> None:
    cookies = session_cookies(demo, who)
    schema = api_schema()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        # Negative examples need parameters to get wrong.
        modes = [GenerationMode.POSITIVE]
        if operation.definition.raw.get("parameters"):
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:

            @fuzz(API_EXAMPLES)
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case: Any) -> None:
                with transaction.atomic():  # a database error must not poison the next
                    response = case.call(cookies=cookies)
                case.validate_response(response, checks=[not_a_server_error])

            try:
                check()
            except Exception as exc:  # collect all operations' failures, then fail
                failures.append(f"{who} {operation.label} ({mode}): {exc}")
    assert not failures, "\n\n".join(failures)


# --- The pages, with random query parameters -------------------------------------------------

#: Parameter names the views read (request.GET), and a few they do not.
NAMES = ("measure", "wave", "level", "page", "fpage", "spec", "format", "kind", "a", "b",
         "tolerance", "show", "next", "run", "area", "limit", "offset", "batch", "geometry",
         "code", "q", "lang")
NASTY_TEXT = st.sampled_from([
    "", " ", "\x00", "a\x00b", "%00", "99999999999999999999", "9223372036854775808",
    "-9223372036854775809", "-1", "0", "1e400", "nan", "inf", "-0", "²", "١٢", "٣",
    "0x10", "1_000", "1.5", "1,5", "//evil.example/", "https://evil.example/", "\r\n",
    "../../etc/passwd", "'; DROP TABLE x; --", "<script>", "ø" * 300, "\ufeff", "\u202e",
    "csv", "geojson", "changed", "all", "kommune", "tryghed_trygge"])
VALUES = st.one_of(NASTY_TEXT, NASTY_TEXT, st.text(max_size=30),
                   st.integers(-(10**25), 10**25).map(str),
                   st.text(st.characters(codec="utf-8"), max_size=10))
QUERY = st.lists(st.tuples(st.one_of(st.sampled_from(NAMES), st.text(max_size=8)), VALUES),
                 max_size=5)


def _fill(name: str, demo: Demo) -> list[str]:
    """Values for the URL parameter ``name`` from the demo data (and a few that exist not)."""
    years = [str(y) for y in Wave.objects.order_by("-year").values_list("year", flat=True)[:1]]
    batches = [str(pk) for pk in ImportBatch.objects.order_by("pk").values_list("pk", flat=True)]
    values = {
        "year": years,
        "run_id": [str(demo.run.pk)],
        "batch_id": batches,
        "code": [*Area.objects.order_by("code").values_list("code", flat=True)[:1], "da"],
        "format": ["json", "xml"],  # Open311's answers
        "service_code": ["lighting"],
    }
    return [*values.get(name, []), "0", "99999999999999999999"]


def page_urls(demo: Demo) -> list[str]:
    """Every page outside the admin and the API (the API has its own fuzzing above), each
    URL parameter filled from the demo data."""
    urls: list[str] = []
    unfilled: list[str] = []
    for pattern, forms in all_patterns():
        found = False
        for fmt, params in forms:
            if fmt.startswith(("admin/", "api/")):
                found = True
                continue
            choices: list[dict[str, str]] = [{}]
            for p in params:
                choices = [{**c, p: v} for c in choices for v in _fill(p, demo)]
            for values in choices:
                url = "/" + fmt % values
                try:
                    match = resolve(url)
                except Resolver404:
                    continue
                if match.func is pattern.callback:
                    found = True
                    if url not in urls:
                        urls.append(url)
        if not found:
            unfilled.append(" | ".join(fmt for fmt, _ in forms))
    assert not unfilled, f"pages the fuzzing cannot fill (teach _fill()): {unfilled}"
    return urls


#: The values every parameter a page reads gets, one at a time, as every kind of visitor.
DANGEROUS = ("99999999999999999999", "²", "ø" * 300)
#: Who tries them: an administrator (internal tables, record-level data), a partner
#: (logged in, the public view of runs) and the anonymous public. The other roles take one of
#: these views' paths, and all roles are in the random requests below.
SWEEP_WHO = (Role.ADMINISTRATOR, Role.PARTNER, "anonymous")


@contextmanager
def recording_reads() -> Iterator[set[str]]:
    """The names of the query parameters a view asks ``request.GET`` for (get, [], getlist,
    in) while the block runs."""
    names: set[str] = set()
    originals = {m: getattr(QueryDict, m) for m in ("get", "__getitem__", "getlist",
                                                     "__contains__")}

    def recorder(method: str) -> Any:
        def read(self: QueryDict, key: Any, *args: Any) -> Any:
            names.add(str(key))
            return originals[method](self, key, *args)
        return read

    for method in originals:
        setattr(QueryDict, method, recorder(method))
    try:
        yield names
    finally:
        for method, original in originals.items():
            setattr(QueryDict, method, original)


def _clients(demo: Demo) -> dict[str, Client]:
    clients: dict[str, Client] = {}
    for who in WHO:
        clients[who] = Client(raise_request_exception=False)
        if who != "anonymous":
            clients[who].force_login(demo.users[who])
    return clients


def _get(clients: dict[str, Client], demo: Demo, who: str, address: str) -> int:
    client = clients[who]
    if who != "anonymous" and "_auth_user_id" not in client.session:
        client.force_login(demo.users[who])  # a previous request logged out
    with transaction.atomic():  # a database error must not poison the next request
        return int(client.get(address).status_code)


def parameters_read(clients: dict[str, Client], demo: Demo, urls: list[str]
                    ) -> dict[str, list[str]]:
    """URL → the query parameters its view reads, as any kind of visitor."""
    read: dict[str, list[str]] = {}
    for url in urls:
        with recording_reads() as names:
            for who in SWEEP_WHO:
                _get(clients, demo, who, url)
        read[url] = sorted(names)
    return read


@pytest.fixture(scope="module")
def pages(demo: Demo, django_db_blocker: Any) -> dict[str, list[str]]:
    """Every page's URL → the query parameters its view reads (found once per module)."""
    with django_db_blocker.unblock(), transaction.atomic():
        read = parameters_read(_clients(demo), demo, page_urls(demo))
        transaction.set_rollback(True)
    return read


@pytest.mark.slow
@pytest.mark.django_db
def test_every_parameter_a_page_reads_survives_dangerous_values(
        demo: Demo, pages: dict[str, list[str]]) -> None:
    clients = _clients(demo)
    read = pages
    assert {"measure", "wave"} <= set(read[f"/analyse/runs/{demo.run.pk}/"])
    assert {"a", "b", "tolerance"} <= set(read["/analyse/runs/compare/"])
    failures: list[str] = []
    for url, names in read.items():
        for name in names:
            for value in DANGEROUS:
                address = f"{url}?{urlencode({name: value})}"
                for who in SWEEP_WHO:
                    status = _get(clients, demo, who, address)
                    if status >= 500:
                        failures.append(f"{who} GET {address}: {status}")
    assert not failures, "\n".join(failures)


@pytest.mark.slow
@pytest.mark.django_db
def test_no_page_request_is_a_server_error(demo: Demo, pages: dict[str, list[str]]) -> None:
    urls = list(pages)
    assert "/map/" in urls and f"/analyse/runs/{demo.run.pk}/" in urls
    clients = _clients(demo)
    read = pages

    @fuzz(PAGE_EXAMPLES)
    @given(url=st.sampled_from(urls), who=st.sampled_from(WHO), data=st.data())
    def check(url: str, who: str, data: st.DataObject) -> None:
        names = st.one_of(st.sampled_from(read[url] or NAMES), st.sampled_from(NAMES),
                          st.text(max_size=8))
        query = data.draw(st.lists(st.tuples(names, VALUES), max_size=5))
        address = f"{url}?{urlencode(query)}" if query else url
        status = _get(clients, demo, who, address)
        assert status < 500, f"{who} GET {address}: {status}"

    check()
