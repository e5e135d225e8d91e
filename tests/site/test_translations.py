"""Danish first: every string of the site has a Danish translation, compiled and current."""

from __future__ import annotations

import gettext
import re
from pathlib import Path
from typing import Any

import polib
import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.utils import translation

import tryg
from tryg.site.config import load

CATALOGUE = Path(tryg.__file__).parent / "locale" / "da" / "LC_MESSAGES"


def test_every_string_is_translated_and_none_is_fuzzy() -> None:
    po = polib.pofile(str(CATALOGUE / "django.po"))
    assert len(po) > 100
    assert not po.untranslated_entries(), [e.msgid for e in po.untranslated_entries()][:10]
    assert not po.fuzzy_entries(), [e.msgid for e in po.fuzzy_entries()][:10]


def test_the_compiled_catalogue_matches_the_source() -> None:
    po = polib.pofile(str(CATALOGUE / "django.po"))
    with open(CATALOGUE / "django.mo", "rb") as handle:
        mo = gettext.GNUTranslations(handle)
    for entry in po.translated_entries():
        if entry.msgid_plural:
            continue
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        assert mo._catalog.get(key) == entry.msgstr, (  # type: ignore[attr-defined]
            f"django.mo is stale for {entry.msgid!r}: run msgfmt -o django.mo django.po")


@pytest.mark.django_db
def test_pages_are_danish_by_default_and_english_on_request(settings: Any) -> None:
    settings.LANGUAGE_CODE = load({}).language  # the product's default, as a site starts
    assert settings.LANGUAGE_CODE == "da"
    client = Client()
    danish = client.get("/login/").content.decode()
    assert "Log ind" in danish
    client.get("/sprog/en/", {"next": "/login/"})
    english = client.get("/login/").content.decode()
    assert "Log in" in english and 'lang="en"' in english
    with translation.override("da"):
        assert translation.gettext("Log in") == "Log ind"


_TRANSLATE_TAG = re.compile(r"""\{%\s*(?:translate|trans)\s+(["'])(.*?)\1"""
                            r"""(?:\s+context\s+["']([^"']*)["'])?""")


def test_every_translate_tag_finds_its_danish_text() -> None:
    """Django looks up ``{% translate "95 % level" %}`` as ``"95 %% level"`` (percent signs
    doubled, then undoubled in the result): an entry written with a single ``%`` is never
    found and the page shows the English text."""
    with open(CATALOGUE / "django.mo", "rb") as handle:
        catalogue = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    missing = []
    for template in sorted(Path(tryg.__file__).parent.rglob("templates/**/*.html")):
        for match in _TRANSLATE_TAG.finditer(template.read_text(encoding="utf-8")):
            msgid = match.group(2).replace("%", "%%")
            key = f"{match.group(3)}\x04{msgid}" if match.group(3) else msgid
            if key not in catalogue:
                missing.append(f"{template.name}: {match.group(2)[:60]}")
    assert not missing, missing


def test_the_map_explains_its_comparison_in_danish() -> None:
    with translation.override("da"):
        page = render_to_string("public/map.html", {"compare": True})
    assert "signifikant over" in page and "significantly above" not in page


@pytest.mark.django_db
def test_a_request_django_refuses_gets_a_page_in_danish(settings: Any) -> None:
    """Django's own 400 (here: a form with more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS)
    is the site's page in the visitor's language, saying what went wrong, not Django's bare
    English "Bad Request (400)"."""
    settings.LANGUAGE_CODE = "da"
    fields = {f"f{i}": "1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = Client().post("/login/", fields)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'lang="da"' in page and "Forespørgslen kunne ikke bruges" in page
    assert "Bad Request" not in page
