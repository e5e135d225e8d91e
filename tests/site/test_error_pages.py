"""The site's own pages for a wrong method (405) and a form sent without a valid CSRF token
(403): in the site's layout and the visitor's language, not Django's bare answers."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "heading"), [("da", "Ikke muligt her"),
                                                   ("en", "Not possible here")])
def test_a_wrong_method_gets_a_page_with_its_status_and_allow_header(language: str,
                                                                   heading: str) -> None:
    client = Client()
    client.get(f"/sprog/{language}/", {"next": "/"})
    response = client.get(reverse("logout"))  # logging out is a POST
    assert response.status_code == 405
    assert "POST" in response["Allow"]
    page = response.content.decode()
    assert f'<html lang="{language}"' in page and f"<h1>{heading}</h1>" in page
    assert response["Content-Type"].startswith("text/html")
    # a server sends as many bytes as the header says (CommonMiddleware counted the empty body)
    assert response["Content-Length"] == str(len(response.content))


@pytest.mark.django_db
def test_the_apis_405_is_json() -> None:
    client = Client()
    client.get("/sprog/en/", {"next": "/"})
    response = client.post("/api/areas")
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response.json() == {"detail": "The method POST is not allowed here; allowed: GET."}
    assert response["Content-Length"] == str(len(response.content))


@pytest.mark.django_db
def test_a_form_without_its_csrf_token_gets_the_sites_page_in_danish() -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/sprog/da/", {"next": "/"})
    response = client.post(reverse("login"), {"username": "x", "password": "y"})
    assert response.status_code == 403
    page = response.content.decode()
    assert '<html lang="da"' in page and "<h1>Formularen kunne ikke sendes</h1>" in page
    assert "Forbidden" not in page
