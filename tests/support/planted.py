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
from tryg.jobs.models import Job
from tryg.police_register.models import RegisterRecord
from tryg.runs.models import AreaProblemRow, DriverRow, IndexRun, ResultRow, StoredSpec
from tryg.surveys.models import Response, Wave
from tryg.walks.models import Action, Finding
from tryg.walks.states import Moderation

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
# A strategy: an unpublished initiative and an unpublished measurement of a published one
# (owned by the municipality, not by the planted partner's housing association).
UNPUBLISHED_MEASUREMENT = 3141.59375
UNPUBLISHED_INITIATIVE = "HIDDEN-INITIATIVE-MK-62"
# A finding posted through Open311 and not yet moderated: its text and exact position.
PRIVATE_FINDING_TEXT = "PRIVATE-FINDING-MK-4417"
PRIVATE_FINDING_LAT = 57.03857421875
PRIVATE_FINDING_LON = 9.93359375
OPEN311_TOKEN = "planted-open311-token"


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
    "unpublished measurement": float_forms(UNPUBLISHED_MEASUREMENT),
    "unpublished initiative": {UNPUBLISHED_INITIATIVE},
}
# Safety walks: a finding that is not public, with its action owned by the municipality (not
# the planted partner's organisation), and a citizen's report awaiting moderation with the
# reporter's contact (never published).
WALK_FINDING_TEXT = "WALK-FINDING-MK-4711"
REPORTER_EMAIL = "reporter-mk-9153@example.org"
WALK_MARKERS: dict[str, set[str]] = {
    "private walk finding": {WALK_FINDING_TEXT},
    "citizen reporter": {REPORTER_EMAIL},
    "Open311 post awaiting moderation": ({PRIVATE_FINDING_TEXT}
                                         | float_forms(PRIVATE_FINDING_LAT)
                                         | float_forms(PRIVATE_FINDING_LON)),
}
ALL_MARKERS = {**MICRODATA_MARKERS, **INTERNAL_MARKERS, **WALK_MARKERS}


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
    strategy: dict[str, int] = field(default_factory=dict)
    #: Planted walk objects' keys by kind (walk_id, action_id, photo_id, revisit_id,
    #: finding_id, token), to fill URL parameters.
    walks: dict[str, list[str]] = field(default_factory=dict)

    def ints(self) -> list[int]:
        """Primary keys and years of the planted objects (to fill URL parameters)."""
        values = [self.wave.year, self.survey_batch.pk, self.register_batch.pk,
                  self.unpublished.pk, self.published.pk, *(a.pk for a in self.areas),
                  *(u.pk for u in self.users.values()), *self.strategy.values()]
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
    # drivers of insecurity (tryg.runs.drivers): the unpublished run's, and a published cell
    # and an area's problems from fewer answers than the publication minimum
    DriverRow.objects.bulk_create([
        DriverRow(run=unpublished, level="kommune", area_code=kommune.code, wave=WAVE_YEAR,
                  problem="problem_narko", effect=UNPUBLISHED_ESTIMATE, se=UNPUBLISHED_SE,
                  ci_low=1.0, ci_high=2.0, p_value=0.5, rank=1, n=400),
        DriverRow(run=published, level="district", area_code=district.code, wave=WAVE_YEAR,
                  problem="problem_narko", effect=SUPPRESSED_ESTIMATE, se=1.0,
                  ci_low=SUPPRESSED_CI_LOW, ci_high=SUPPRESSED_CI_HIGH, p_value=0.5, rank=1,
                  n=17),
    ])
    AreaProblemRow.objects.create(
        run=published, level="district", area_code=district.code, parent_code=kommune.code,
        wave=WAVE_YEAR, problem="problem_narko", share=SUPPRESSED_ESTIMATE, rest_share=0.5,
        difference=SUPPRESSED_CI_HIGH, se=1.0, ci_low=SUPPRESSED_CI_LOW, ci_high=2.0,
        p_value=0.5, n=17.0, rest_n=400.0)
    # a failed background job whose error quotes a stored answer (as a run's problems may)
    Job.objects.create(kind="index_run", state=Job.State.FAILED, created_by=users["analyst"],
                       error=f"answer {ANSWER_TEXT!r} is out of range", result={"run": None})
    walks = plant_walks(users, municipality, housing, kommune)
    return Site(users=users, wave=wave, survey_batch=survey_batch,
                register_batch=register_batch, unpublished=unpublished, published=published,
                areas=[kommune, district], strategy=plant_strategy(municipality, district),
                walks={**walks, **_plant_open311(walks)})


def plant_strategy(owner: Organisation, area: Area) -> dict[str, int]:
    """A strategy with a published initiative (an unpublished measurement, an index indicator
    of the district, whose published figure is suppressed) and an unpublished initiative."""
    from tryg.strategy.models import (
        FocusArea,
        Indicator,
        Initiative,
        InitiativeArea,
        Measurement,
        Note,
        Strategy,
        Target,
    )

    strategy = Strategy.objects.create(name="Planted strategy", status="adopted",
                                       period_start=dt.date(2030, 1, 1))
    focus = FocusArea.objects.create(strategy=strategy, name="Planted focus")
    shown = Initiative.objects.create(focus_area=focus, name="Planted initiative",
                                      published=True, period_start=dt.date(2031, 1, 1))
    hidden = Initiative.objects.create(focus_area=focus, name=UNPUBLISHED_INITIATIVE)
    for initiative in (shown, hidden):
        initiative.owners.set([owner])
        InitiativeArea.objects.create(initiative=initiative, code=area.code)
    manual = Indicator.objects.create(initiative=shown, name="Planted manual", unit="%")
    Indicator.objects.create(initiative=shown, name="Planted index", unit="%", source="index",
                             measure_id="tryghed_trygge", area_code=area.code)
    Target.objects.create(indicator=manual, when=dt.date(2032, 12, 31), value=80)
    measurement = Measurement.objects.create(indicator=manual, when=dt.date(2031, 6, 1),
                                             value=UNPUBLISHED_MEASUREMENT, se=1.0,
                                             published=False)
    Measurement.objects.create(indicator=manual, when=dt.date(2030, 6, 1), value=61.5, se=1.0,
                               published=True)
    note = Note.objects.create(indicator=manual, text="Planted note", published=True)
    return {"strategy": strategy.pk, "focus_area": focus.pk, "initiative": shown.pk,
            "hidden_initiative": hidden.pk, "indicator": manual.pk,
            "measurement": measurement.pk, "note": note.pk}


def plant_walks(users: dict[str, User], municipality: Organisation, housing: Organisation,
                area: Area) -> dict[str, list[str]]:
    """A held walk with a private finding (the municipality's action), the partner's own
    action, a photo, a participant without an account, a re-walk, and a citizen's report."""
    import io

    from PIL import Image

    from tryg.walks import actions, checklists, citizens, meeting
    from tryg.walks.findings import Observation, record
    from tryg.walks.models import Participant, Revisit, Walk
    from tryg.walks.photos import clean, store

    coordinator = users["coordinator"]
    walk = Walk.objects.create(
        title="Plantet vandring", area_code=area.code, date=dt.date(2031, 9, 1),
        start_time=dt.time(20, 0), meeting_point="Torvet",
        checklist=checklists.default_template(), organiser=municipality)
    resident = Participant.objects.create(walk=walk, name="Beboer", email="b@example.org",
                                          token="planted-token-" + "x" * 20)
    private, _c = record(Observation(category="lighting", text=WALK_FINDING_TEXT,
                                     lat=57.0401, lon=9.9101, idempotency_key="planted-1"),
                         walk=walk, user=coordinator)
    own, _c = record(Observation(category="graffiti", text="partnerens egen",
                                 idempotency_key="planted-2"), walk=walk, user=coordinator)
    actions.assign(private.action, organisation=municipality, deadline=dt.date(2031, 12, 1),
                   user=coordinator)
    actions.assign(own.action, organisation=housing, deadline=None, user=coordinator)
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="JPEG")
    out.seek(0)
    photo = store(clean("p.jpg", out), finding=private)
    out.seek(0)
    fix_photo = store(clean("p.jpg", out), action=private.action)
    meeting.hold_meeting(walk, user=coordinator)
    rewalk = meeting.schedule_rewalk(walk, date=dt.date(2032, 3, 1), start_time=dt.time(20, 0),
                                     user=coordinator)
    report, _c = citizens.report(Observation(category="paths", text="borgerens hul",
                                             address="Stien", idempotency_key="planted-3"),
                                 area_code=area.code, email=REPORTER_EMAIL)
    return {
        "walk_id": [str(walk.pk), str(rewalk.pk)],
        "action_id": [str(private.action.pk), str(own.action.pk), str(report.action.pk)],
        "photo_id": [str(photo.pk), str(fix_photo.pk)],
        "revisit_id": [str(r.pk) for r in Revisit.objects.filter(walk=rewalk)],
        "finding_id": [str(report.pk), str(private.pk)],
        "token": [resident.token, *Participant.objects.filter(walk=rewalk)
                  .values_list("token", flat=True)],
    }


def _plant_open311(walks: dict[str, list[str]]) -> dict[str, list[str]]:
    """Open311: a public finding and one posted through Open311 awaiting moderation (its
    text and exact position are the "private finding" marker); URL parameter values."""
    public = Finding(category="lighting", is_public=True, text="Mørk sti", area_code="D999-1")
    public.set_position(57.05, 9.92)
    public.save()
    private = Finding(category="lighting", source=Finding.Source.OPEN311,
                      text=PRIVATE_FINDING_TEXT, moderation=Moderation.PENDING,
                      idempotency_key=f"open311:{OPEN311_TOKEN}", area_code="D999-1")
    private.set_position(PRIVATE_FINDING_LAT, PRIVATE_FINDING_LON)
    private.save()
    for finding in (public, private):
        Action.objects.create(finding=finding)
    return {
        "format": ["json", "xml"],
        "service_code": ["lighting", "no-such-service"],
        "request_id": [str(public.pk), str(private.pk), *walks.get("finding_id", []), "x"],
        "token": [*walks.get("token", []), OPEN311_TOKEN, "unknown"],
    }
