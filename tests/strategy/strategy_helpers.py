"""Strategy data for the tests: organisations, users, areas, a published index run."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from tryg.accounts.models import Organisation, Role, User
from tryg.areas.models import Area
from tryg.imports.models import ImportBatch
from tryg.index import load_spec
from tryg.runs.models import IndexRun, ResultRow, StoredSpec
from tryg.runs.services import publish
from tryg.strategy import services
from tryg.strategy.models import FocusArea, Indicator, Initiative, Strategy

TODAY = dt.date(2026, 12, 6)
NAMES = {"0851": "Aalborg Kommune"}


@dataclass
class People:
    municipality: Organisation
    police: Organisation
    housing: Organisation
    coordinator: User
    partner: User  # of the housing association
    other_partner: User  # of the police
    analyst: User


def people() -> People:
    municipality = Organisation.objects.create(name="Aalborg Kommune", kind="municipality")
    police = Organisation.objects.create(name="Nordjyllands Politi", kind="police")
    housing = Organisation.objects.create(name="Boligselskabet Test", kind="housing")
    return People(
        municipality, police, housing,
        User.objects.create_user("coord", role=Role.COORDINATOR, organisation=municipality),
        User.objects.create_user("partner", role=Role.PARTNER, organisation=housing),
        User.objects.create_user("other", role=Role.PARTNER, organisation=police),
        User.objects.create_user("analyst", role=Role.ANALYST, organisation=municipality))


def areas(*codes: str) -> list[Area]:
    batch = ImportBatch.objects.create(kind="areas", file_name="areas.csv", sha256="a" * 64)
    return [Area.objects.create(code=c, name=NAMES.get(c, f"Område {c}"),
                                level="kommune" if len(c) == 4 else "bydel",
                                import_batch=batch) for c in codes]


def initiative(owners: list[Organisation], *, published: bool = True,
               codes: tuple[str, ...] = ("0851",), name: str = "Tryghedsvandringer",
               strategy: Strategy | None = None) -> Initiative:
    if strategy is None:
        strategy = Strategy.objects.create(name="Tryg Test", period_start=dt.date(2021, 1, 1),
                                           status=Strategy.Status.ADOPTED)
    focus = FocusArea.objects.create(strategy=strategy, name="Borgerinddragelse")
    made = Initiative(focus_area=focus, name=name, published=published,
                      period_start=dt.date(2021, 1, 1))
    services.save(made, m2m={"owners": owners}, areas=codes)
    return made


def indicator(parent: Initiative, **fields: Any) -> Indicator:
    values: dict[str, Any] = {"name": "Andel trygge", "unit": "%", "source": "manual"}
    values.update(fields)
    made = Indicator(initiative=parent, **values)
    services.save(made)
    return made


def published_run(rows: list[tuple[str, str, int, float, float]], *, user: User | None = None,
                  fingerprint: str = "f" * 64) -> IndexRun:
    """A published run of dk-tryghedsindeks with result rows (area, measure, wave, estimate,
    se)."""
    spec = load_spec("dk-tryghedsindeks")
    stored = StoredSpec.objects.filter(sha256=spec.hash).first() or StoredSpec.objects.create(
        spec_id=spec.id, version=spec.version, sha256=spec.hash, text=spec.source)
    run = IndexRun.objects.create(spec=stored, status=IndexRun.Status.DONE,
                                  finished_at=timezone.now(), fingerprint=fingerprint)
    ResultRow.objects.bulk_create([
        ResultRow(run=run, area_code=code, area_name=f"Område {code}", level="kommune",
                  wave=wave, measure=measure, estimate=est, se=se, ci_low=est - 1.96 * se,
                  ci_high=est + 1.96 * se, n=500.0, n_eff=450.0, method="direct")
        for code, measure, wave, est, se in rows])
    return publish(run, user)
