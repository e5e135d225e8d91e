"""The demo's strategy: the shipped "Tryg Aalborg 2014–17" template imported into the demo
site, with FICTIONAL measurements (labelled so on every page), so that the area pages and the
initiative pages have something to show.

The template's dates are moved onto the demo's survey waves (``shift`` years), its kommune code
mapped to the demo's, its organisations to the demo's municipality and police, and some
initiatives placed in the demo's districts. A second partner account (of the police) is made,
so that there are partners of two organisations.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import secrets

from django.db import transaction

from tryg.accounts.demo import DemoUser
from tryg.accounts.models import Organisation, Role, User
from tryg.strategy import services
from tryg.strategy.models import (
    Indicator,
    Initiative,
    Measurement,
    Note,
    Strategy,
    Target,
)
from tryg.strategy.yaml_template import import_template, shipped

TEMPLATE = "tryg-aalborg-2014-17.yaml"
#: The demo's entered texts are Danish, as the template's are (a Danish kommune's own data).
FICTIONAL = "FIKTIVT demotal (tryg demo): ikke en rigtig måling."
#: Initiatives (by position in the template) placed in districts (by position), besides
#: the kommune: nightlife in one, safety walks in three, the elderly in one. Their start
#: (moved to the demo's third wave) leaves two waves before and three after, so their index
#: and register indicators get a before/after comparison with the other districts (estimate,
#: interval, p-value, parallel-trends check on the two earlier waves, minimum detectable
#: effect); the initiatives of the whole kommune have nothing to be compared with.
DISTRICTS = {1: [0], 6: [1, 2, 3], 5: [4]}


def _shift(day: dt.date | None, years: int) -> dt.date | None:
    if day is None:
        return None
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def build_demo(*, kommune: str, municipality: Organisation, police: Organisation,
               first_wave: int, today: dt.date, seed: int = 1) -> tuple[Strategy,
                                                                           list[DemoUser]]:
    """Import the template into the demo and add fictional measurements; return the strategy
    and the extra account made (a partner of the police)."""
    from tryg.areas.models import Area

    districts = list(Area.objects.filter(parent_links__parent__code=kommune)
                     .exclude(level="nabolag").order_by("code").values_list("code", flat=True))
    rng = random.Random(seed)
    with transaction.atomic():
        result = import_template(
            shipped(TEMPLATE), source=TEMPLATE, area_map={"0851": kommune},
            organisation_map={"aalborg-kommune": municipality.name,
                              "nordjyllands-politi": police.name})
        strategy = result.strategy
        years = first_wave + 2 - strategy.period_start.year  # two waves before the start
        strategy.name += " (demo)"
        strategy.description = (f"{strategy.description}\n\nDEMO: skabelonens datoer er "
                                f"flyttet {years} år, så de passer til demoens "
                                "spørgeskemabølger; alle indtastede målinger er FIKTIVE.")
        strategy.period_start = _shift(strategy.period_start, years) or strategy.period_start
        strategy.period_end = _shift(strategy.period_end, years)
        services.save(strategy)
        initiatives = list(Initiative.objects.filter(focus_area__strategy=strategy)
                           .order_by("focus_area__order", "order"))
        for position, initiative in enumerate(initiatives):
            initiative.period_start = _shift(initiative.period_start, years)
            initiative.period_end = _shift(initiative.period_end, years)
            initiative.published = True
            placed = [districts[i] for i in DISTRICTS.get(position, []) if i < len(districts)]
            services.save(initiative, areas=[*placed, kommune])
            if len(placed) == 1:
                # its index and register figures are the district's (else the kommune's,
                # the initiative's first area by code); the evaluation compares the district
                # with the other districts either way (tryg.strategy.evaluation_cache)
                for indicator in initiative.indicators.exclude(measure_id=""):
                    indicator.area_code = placed[0]
                    services.save(indicator)
        for target in Target.objects.filter(indicator__initiative__focus_area__strategy=strategy):
            target.when = _shift(target.when, years) or target.when
            services.save(target)
        for indicator in Indicator.objects.filter(initiative__focus_area__strategy=strategy,
                                                  source=Indicator.Source.MANUAL):
            _measurements(indicator, rng, strategy.period_start.year - 1, today)
        account = _police_partner(police)
    return strategy, [account]


def _measurements(indicator: Indicator, rng: random.Random, base_year: int,
                  today: dt.date) -> None:
    """A baseline the year before the start and one fictional figure a year until last
    year: percentages as survey estimates with a standard error, counts exact."""
    percent = indicator.unit.strip() == "%"
    target = indicator.targets.order_by("-when").first()
    base = rng.uniform(55, 80) if percent else float(rng.randint(3, 12))
    goal = target.value if target is not None else base * (1.3 if indicator.polarity == "up"
                                                            else 0.7)
    if percent and indicator.polarity == "down":
        base = rng.uniform(goal + 5, goal + 20)
    # some initiatives get there, some halfway, some not at all
    reach = rng.choice((1.1, 0.6, 0.1))
    n = 400 if percent else None
    se_of = (lambda v: math.sqrt(max(v * (100 - v), 1.0) / 400)) if percent else (lambda v: None)
    services.set_baseline(indicator, None, when=dt.date(base_year, 12, 31), value=round(base, 1),
                          se=se_of(base), n=n)
    years = list(range(base_year + 1, today.year))
    for k, year in enumerate(years, 1):
        share = k / len(years)
        value = base + (goal - base) * reach * share
        se = se_of(value)
        value += rng.gauss(0, se if se is not None else 0.5)
        value = round(value, 1) if percent else float(max(0, round(value)))
        measurement = Measurement(indicator=indicator, when=dt.date(year, 12, 31), value=value,
                                  n=n, se=None if se is None else round(se, 2),
                                  exact=not percent, method_note=FICTIONAL, fictional=True,
                                  published=True)
        services.save(measurement)
    services.save(Note(indicator=indicator, published=True, text=(
        "FIKTIV demonote: her skriver partnerne historien bag kurven (hvad der blev gjort, "
        "hvad der stod i vejen, og hvad der sker nu).")))


def _police_partner(police: Organisation) -> DemoUser:
    password = secrets.token_urlsafe(12)
    User.objects.create_user("partner-politi", password=password, role=Role.PARTNER,
                             organisation=police)
    return DemoUser(str(Role.PARTNER), "partner-politi", password, police.name)


def demo_strategy(today: dt.date | None = None, seed: int = 1) -> list[DemoUser]:
    """`tryg demo`'s one call: the demo strategy for the fictional kommune (its organisations
    and first wave read from the site). Returns the accounts made."""
    from tryg.demo.geography import KOMMUNE_CODE
    from tryg.surveys.models import Wave

    municipality = Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY).first()
    police = Organisation.objects.filter(kind=Organisation.Kind.POLICE).first()
    first = Wave.objects.order_by("year").values_list("year", flat=True).first()
    if municipality is None or police is None or first is None:
        return []
    from tryg.areas.models import Area

    kommune = (KOMMUNE_CODE if Area.objects.filter(code=KOMMUNE_CODE).exists()
               else municipality.area_code)
    _strategy, accounts = build_demo(kommune=kommune, municipality=municipality, police=police,
                                     first_wave=first, today=today or services.today(),
                                     seed=seed)
    return accounts
