"""A small site holding data of every kind, with unique marker values planted in it.

Used by the permission tests (test_permissions, test_api, test_pages): a response body that
contains a marker has served that datum. Floats are chosen exactly representable and with
unusual integer parts, so each one is recognisable however a page or the API formats it
(``repr``, two decimals, a Danish decimal comma).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.test import Client
from django.utils import timezone

from tryg.accounts.models import Organisation, Role, User
from tryg.areas.models import Area, AreaLink
from tryg.imports.models import ImportBatch
from tryg.index import load_spec
from tryg.police_register.models import RegisterRecord
from tryg.runs.models import IndexRun, ResultRow, StoredSpec
from tryg.surveys.models import Response, Wave

WAVE_YEAR = 2031

# Record-level data: survey answers and register records.
RESPONDENT = "RESP-KEY-Q7Z3"
ANSWER_TEXT = "ANSWER-TEXT-MK-31"
STRATUM = "STRATUM-MK-55"
OFFENCE = "OFF-MK-8871"
RECORD_LON = 9.921875
RECORD_LAT = 57.0478515625
RECORD_LINE = 918273
# An unpublished run: its results and its very existence (its fingerprint).
UNPUBLISHED_FINGERPRINT = "0badc0de" * 8
UNPUBLISHED_ESTIMATE = 8641.9375
UNPUBLISHED_SE = 4321.0625
# A published run: a suppressed row, a small register count, and a public row.
SUPPRESSED_ESTIMATE = 7765.4375
SUPPRESSED_CI_LOW = 7712.5625
SUPPRESSED_CI_HIGH = 7818.3125
SMALL_COUNT_RATE = 6053.40625
PUBLIC_ESTIMATE = 5512.8125


def client_as(site: Site, who: str) -> Client:
    """A test client logged in as one of the planted users ("anonymous": not logged in)."""
    client = Client()
    if who != "anonymous":
        client.force_login(site.users[who])
    return client


def float_forms(value: float) -> set[str]:
    """How ``value`` may be written: repr, rounded to 2 or 3 decimals, as a percentage with
    one decimal, point or comma (roundings shorter than 6 characters are too common to be
    told apart)."""
    forms = {repr(value)} | {f for f in (f"{value:.2f}", f"{value:.3f}") if len(f) >= 6}
    # a share as the run page shows it: a percentage with one decimal
    forms |= {f"{value * 100:.1f}"}
    return forms | {f.replace(".", ",") for f in forms}


def int_forms(value: int) -> set[str]:
    return {str(value), f"{value:,}", f"{value:,}".replace(",", ".")}


MICRODATA_MARKERS: dict[str, set[str]] = {
    "respondent key": {RESPONDENT},
    "survey answer": {ANSWER_TEXT},
    "design variable": {STRATUM},
    "register record": {OFFENCE},
    "record coordinate": float_forms(RECORD_LON) | float_forms(RECORD_LAT),
    "record line": int_forms(RECORD_LINE),
}
INTERNAL_MARKERS: dict[str, set[str]] = {
    "unpublished run result": float_forms(UNPUBLISHED_ESTIMATE) | float_forms(UNPUBLISHED_SE),
    "unpublished run": {UNPUBLISHED_FINGERPRINT[:12]},
    "suppressed value": (float_forms(SUPPRESSED_ESTIMATE) | float_forms(SUPPRESSED_CI_LOW)
                         | float_forms(SUPPRESSED_CI_HIGH)),
    "small register count's rate": float_forms(SMALL_COUNT_RATE),
}
ALL_MARKERS = {**MICRODATA_MARKERS, **INTERNAL_MARKERS}


def leaks(body: bytes | str, markers: dict[str, set[str]] = ALL_MARKERS) -> list[str]:
    """The kinds of planted data found in ``body``."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return sorted(kind for kind, forms in markers.items() if any(f in text for f in forms))


@dataclass
class Site:
    users: dict[str, User]
    wave: Wave
    survey_batch: ImportBatch
    register_batch: ImportBatch
    unpublished: IndexRun
    published: IndexRun
    areas: list[Area] = field(default_factory=list)

    def ints(self) -> list[int]:
        """Primary keys and years of the planted objects (to fill URL parameters)."""
        values = [self.wave.year, self.survey_batch.pk, self.register_batch.pk,
                  self.unpublished.pk, self.published.pk, *(a.pk for a in self.areas),
                  *(u.pk for u in self.users.values())]
        values += list(Response.objects.values_list("pk", flat=True))
        values += list(RegisterRecord.objects.values_list("pk", flat=True))
        return sorted(set(values))


def _row(run: IndexRun, area: Area, measure: str, **values: Any) -> ResultRow:
    base: dict[str, Any] = {"area_code": area.code, "area_name": area.name,
                            "level": area.level, "wave": WAVE_YEAR, "measure": measure,
                            "method": "direct", "n": 400.0, "n_eff": 350.0}
    base.update(values)
    return ResultRow(run=run, **base)


def plant() -> Site:
    """Write the site's data with the ORM (call inside a database test)."""
    municipality = Organisation.objects.create(name="Testkommune", kind="municipality")
    housing = Organisation.objects.create(name="Boligforeningen Test", kind="housing")
    users = {
        # No passwords (tests log in with force_login): Argon2 is slow by design.
        "admin": User.objects.create_superuser("admin", "a@example.org", None,
                                               role=Role.ADMINISTRATOR),
        "analyst": User.objects.create_user("analyst", role=Role.ANALYST,
                                            organisation=municipality),
        "coordinator": User.objects.create_user("coordinator",
                                                role=Role.COORDINATOR),
        "partner": User.objects.create_user("partner", role=Role.PARTNER,
                                            organisation=housing),
        "walker": User.objects.create_user("walker", role=Role.WALKER),
    }
    areas_batch = ImportBatch.objects.create(kind="areas", file_name="areas.csv", sha256="a" * 64)
    kommune = Area.objects.create(code="K999", name="Testkommune", level="kommune",
                                  import_batch=areas_batch,
                                  geometry='{"type": "Point", "coordinates": [9.9, 57.0]}')
    district = Area.objects.create(code="D999-1", name="Midtby", level="district",
                                   import_batch=areas_batch)
    AreaLink.objects.create(area=district, parent=kommune, valid_from=2020)

    survey_batch = ImportBatch.objects.create(kind="survey", file_name="survey.csv",
                                              sha256="b" * 64, rows=2)
    wave = Wave.objects.create(year=WAVE_YEAR, producer="Testinstitut",
                               questions=["tryg_nabolag", "kommentar"],
                               import_batch=survey_batch,
                               fieldwork_start=dt.date(2031, 9, 1))
    Response.objects.create(wave=wave, respondent=RESPONDENT, area=district, weight=12.5,
                            stratum=STRATUM, psu="PSU-1", sex="k", age_group="30-39",
                            answers={"tryg_nabolag": 2, "kommentar": ANSWER_TEXT})
    Response.objects.create(wave=wave, respondent="RESP-KEY-OTHER", area=district,
                            weight=7.5, stratum=STRATUM, answers={"tryg_nabolag": 6})

    register_batch = ImportBatch.objects.create(kind="register", file_name="records.csv",
                                                sha256="c" * 64, rows=2, record_count=2)
    RegisterRecord.objects.create(import_batch=register_batch, line=RECORD_LINE,
                                  date=dt.date(2031, 3, 2), offence=OFFENCE, area=district,
                                  lon=RECORD_LON, lat=RECORD_LAT)
    RegisterRecord.objects.create(import_batch=register_batch, line=2, date=dt.date(2031, 3, 3),
                                  offence=OFFENCE, area=district)

    spec = load_spec("dk-tryghedsindeks")
    stored = StoredSpec.objects.create(spec_id=spec.id, version=spec.version,
                                       sha256=spec.hash, text=spec.source)
    unpublished = IndexRun.objects.create(spec=stored, status=IndexRun.Status.DONE,
                                          finished_at=timezone.now(),
                                          fingerprint=UNPUBLISHED_FINGERPRINT)
    ResultRow.objects.bulk_create([
        _row(unpublished, district, "tryghed_trygge", estimate=UNPUBLISHED_ESTIMATE,
             se=UNPUBLISHED_SE, ci_low=1.0, ci_high=2.0),
    ])
    published = IndexRun.objects.create(spec=stored, status=IndexRun.Status.DONE,
                                        finished_at=timezone.now(), fingerprint="e" * 64,
                                        published_at=timezone.now(),
                                        published_by=users["analyst"])
    ResultRow.objects.bulk_create([
        _row(published, kommune, "tryghed_trygge", estimate=PUBLIC_ESTIMATE, se=1.5,
             ci_low=5509.8125, ci_high=5515.8125),
        _row(published, district, "tryghed_trygge", estimate=SUPPRESSED_ESTIMATE, se=27.1875,
             ci_low=SUPPRESSED_CI_LOW, ci_high=SUPPRESSED_CI_HIGH, n=17.0, n_eff=15.0,
             suppressed=True, flags="suppressed_small_n"),
        _row(published, district, "anmeldelser_vold", method="register",
             estimate=SMALL_COUNT_RATE, se=3.0, ci_low=6000.0, ci_high=6100.0, n=3.0,
             n_eff=None),
    ])
    return Site(users=users, wave=wave, survey_batch=survey_batch,
                register_batch=register_batch, unpublished=unpublished, published=published,
                areas=[kommune, district])
