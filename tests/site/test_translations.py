"""Danish first: every string of the site has a Danish translation, compiled and current."""

from __future__ import annotations

import gettext
from pathlib import Path
from typing import Any

import polib
import pytest
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
