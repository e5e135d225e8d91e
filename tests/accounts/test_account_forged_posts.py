"""POSTs a browser can forge against the log-in and the administrators' pages: user names
longer than any column, NUL bytes, choices the admin does not offer, an organisation changed
under its analysts, the roles that may not. Each answers with a form, a redirect or 403;
never a server error (PostgreSQL refuses a text longer than its column), never a broken rule
stored."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from support.planted import Site, client_as, plant
from tryg.accounts.models import Organisation, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def site() -> Site:
    return plant()


@pytest.mark.parametrize("url", ["/login/", "/admin/login/"])
def test_a_user_name_longer_than_the_throttles_column_is_a_failed_log_in(
        site: Site, url: str) -> None:
    for name in ("a" * 256, "b" * 100_000):
        response = Client().post(url, {"username": name, "password": "x"})
        assert response.status_code == 200 and not response.wsgi_request.user.is_authenticated
    assert sorted(len(a.username) for a in AccessAttempt.objects.all()) == [255, 255]


def test_odd_log_in_inputs_are_failed_log_ins(site: Site) -> None:
    for form in ({"username": "analyst\x00", "password": "x"},
                 {"username": "analyst", "password": "\x00"},
                 {"username": "analyst", "password": "p" * 100_000},
                 {"username": ["analyst", "admin"], "password": "x"}, {}):
        response = Client().post("/login/", form)
        assert response.status_code == 200, form
        assert not response.wsgi_request.user.is_authenticated


def test_an_organisation_with_analysts_keeps_a_kind_they_may_work_for(site: Site) -> None:
    admin = client_as(site, "admin")
    municipality = site.users["analyst"].organisation
    assert municipality is not None
    url = reverse("admin:accounts_organisation_change", args=[municipality.pk])
    response = admin.post(url, {"name": municipality.name, "kind": "housing", "area_code": ""})
    assert response.status_code == 200
    assert "An analyst works for a municipality or a police district." in response.content.decode()
    assert Organisation.objects.get(pk=municipality.pk).kind == "municipality"
    assert admin.post(url, {"name": municipality.name, "kind": "police",
                            "area_code": ""}).status_code == 302


def test_admin_forms_refuse_values_they_do_not_offer(site: Site) -> None:
    admin = client_as(site, "admin")
    add = reverse("admin:accounts_organisation_add")
    for form in ({"name": "Ny", "kind": "zzz"}, {"name": "n" * 201, "kind": "housing"},
                 {"name": "Ny", "kind": "housing", "area_code": "a" * 41},
                 {"name": "Ny\x00", "kind": "housing"}):
        assert admin.post(add, form).status_code == 200, form
    assert Organisation.objects.count() == 2
    walker = site.users["walker"]
    url = reverse("admin:accounts_user_change", args=[walker.pk])
    form = {"username": "walker", "role": "overlord", "is_active": "on",
            "date_joined_0": "2030-01-01", "date_joined_1": "12:00:00"}
    assert admin.post(url, form).status_code == 200
    assert admin.post(url, {**form, "role": "walker", "organisation": "999999"}).status_code \
        == 200
    walker.refresh_from_db()
    assert (walker.role, walker.organisation_id) == ("walker", None)


@pytest.mark.parametrize("who", ["analyst", "coordinator", "partner", "walker"])
def test_the_admin_is_refused_to_every_other_role(site: Site, who: str) -> None:
    client = client_as(site, who)
    add = client.post(reverse("admin:accounts_user_add"),
                      {"username": "mallory", "password1": "a long password 1",
                       "password2": "a long password 1", "role": "administrator"})
    assert add.status_code == 302 and add["Location"].startswith("/admin/login/")
    change = reverse("admin:accounts_user_change", args=[site.users[who].pk])
    assert client.post(change, {"username": who, "role": "administrator"}).status_code == 302
    assert client.post(reverse("admin:password_change"), {}).status_code == 302
    assert not User.objects.filter(username="mallory").exists()
    assert User.objects.get(pk=site.users[who].pk).role == who
