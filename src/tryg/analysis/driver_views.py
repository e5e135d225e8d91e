"""A run's drivers of insecurity: per level and wave, every area's model (its problems'
average marginal effects on feeling unsafe, with 95 % intervals, ranked, a sentence each), and
the areas' problems reported significantly more often than in the rest of their parent.

As the run's own page: those who see unpublished runs see the internal tables (cells without
a model listed as such); other logged-in users see a published run's public view only, and an
unpublished run is a 404 for them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pandas as pd
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tryg.accounts import roles
from tryg.analysis.data_views import paginate
from tryg.areas.models import Area
from tryg.index.drivers import DriversConfig, drivers_config
from tryg.index.spec import SpecError
from tryg.public import drivers as shown
from tryg.runs import services
from tryg.runs.drivers import drivers_frame, problems_frame, published_drivers, published_problems
from tryg.web import params
from tryg.web.access import logged_in, require, visible_run_or_404
from tryg.web.language import page_language

#: Areas (tables) per page.
CELLS_PER_PAGE = 20


def _config(run: Any) -> DriversConfig | None:
    try:
        return drivers_config(services.run_spec(run))
    except SpecError:
        return None


@require_GET
@require(logged_in)
def drivers(request: HttpRequest, run_id: int) -> HttpResponse:
    run = visible_run_or_404(request.user, run_id)
    config = _config(run)
    internal = roles.can_see_unpublished(request.user)
    min_n = services.run_spec(run).publication.min_n
    frame = pd.DataFrame(columns=["level", "area_code", "wave"])
    problems = pd.DataFrame(columns=["level", "wave"])
    if config is not None:
        if internal:
            frame, problems = drivers_frame(run), problems_frame(run)
        elif run.is_published:
            frame, problems = published_drivers(run, min_n), published_problems(run, min_n)
    levels = [lv for lv in (config.levels if config else ()) if lv in set(frame["level"])]
    level = params.text(request, "level", max_length=100)
    level = level if level in levels else (levels[0] if levels else "")
    at_level = frame[frame["level"] == level]
    waves = sorted({int(w) for w in at_level["wave"]}, reverse=True)
    wave = params.whole_number(request, "wave", hi=params.MAX_YEAR)
    wave = wave if wave in waves else (waves[0] if waves else None)
    rows = at_level[at_level["wave"] == wave]
    language = page_language()
    codes = sorted({str(c) for c in rows["area_code"]} | {str(c) for c in problems["area_code"]}
                   ) if "area_code" in problems else sorted({str(c) for c in rows["area_code"]})
    names = dict(Area.objects.filter(code__in=codes).order_by("code")
                 .values_list("code", "name"))
    cells = shown.cells(rows, names, config, language) if config else []
    more = _more_often(problems, wave, names, config, language) if config else []
    query = urlencode({k: v for k, v in (("level", level), ("wave", wave)) if v})
    return render(request, "tryg/analyse/drivers.html", {
        "run": run, "config": config, "internal": internal, "levels": levels,
        "level": level, "waves": waves, "wave": wave,
        "page": paginate(request, cells, CELLS_PER_PAGE),
        "query": f"{query}&" if query else "", "more_often": more,
        "labels": [config.label(p, language) for p in config.problems] if config else [],
        "min_n": config.min_n if config else None, "publication_min_n": min_n,
    })


def _more_often(problems: pd.DataFrame, wave: int | None, names: dict[str, str],
                config: DriversConfig, language: str) -> list[dict[str, Any]]:
    """The areas' problems reported significantly more often than in the rest of their
    parent, in the wave shown, by level."""
    if problems.empty or wave is None:
        return []
    rows = problems[(problems["wave"] == wave) & problems["more_often"].astype(bool)
                    & ~problems["suppressed"].astype(bool)]
    out = []
    for (level, code), group in rows.groupby(["level", "area_code"], sort=True):
        out.append({"level": level, "area_code": code, "area_name": names.get(str(code), code),
                    "parent": names.get(str(group["parent_code"].iloc[0]),
                                        str(group["parent_code"].iloc[0])),
                    "problems": shown.problem_rows(group, config, language)})
    return out
