"""The demo data set stored straight through the models (as the import services store it), for
tests of the run service and the analysts' pages that do not go through the imports."""

from __future__ import annotations

import numpy as np
import pandas as pd

from support.frames import tuples
from tryg.areas.models import Area, AreaLink, Population
from tryg.demo import DemoData
from tryg.imports.models import ImportBatch
from tryg.police_register.models import RegisterCount
from tryg.surveys.models import Response, Wave


def _batch(kind: str, name: str) -> ImportBatch:
    return ImportBatch.objects.create(kind=kind, file_name=name, sha256=name.ljust(64, "0"))


def store_demo(data: DemoData, *, survey: bool = True) -> dict[str, ImportBatch]:
    """Store a generated demo data set through the models, one batch per input."""
    batches = {k: _batch(k, f"{k}.csv") for k in ("areas", "population", "register")}
    areas = {
        row.code: Area.objects.create(code=row.code, name=row.name, level=row.level,
                                      import_batch=batches["areas"])
        for row in tuples(data.areas.areas)
    }
    AreaLink.objects.bulk_create(
        AreaLink(area=areas[r.code], parent=areas[r.parent],
                 valid_from=None if pd.isna(r.valid_from) else int(r.valid_from),
                 valid_to=None if pd.isna(r.valid_to) else int(r.valid_to))
        for r in tuples(data.areas.links))
    Population.objects.bulk_create(
        Population(area=areas[r.area_code], year=int(r.year), sex=r.sex,
                   age_group=r.age_group, population=float(r.population),
                   import_batch=batches["population"])
        for r in tuples(data.population.table))
    RegisterCount.objects.bulk_create(
        RegisterCount(area=areas[r.area_code], quarter=r.quarter, offence=r.offence,
                      count=int(r.count), import_batch=batches["register"])
        for r in tuples(data.register.counts))
    if survey:
        frame = data.survey.responses
        items = [c for c in frame.columns if c not in (
            "respondent_id", "wave", "area_code", "weight", "stratum", "psu", "sex",
            "age_group", "questionnaire")]
        for wave, rows in frame.groupby("wave"):
            batch = _batch("survey", f"survey-{wave}.csv")
            batches[f"survey-{wave}"] = batch
            stored = Wave.objects.create(year=int(str(wave)), questionnaire=rows["questionnaire"]
                                         .iloc[0], questions=items, synthetic=True,
                                         import_batch=batch)
            answers = rows[items].to_numpy()
            Response.objects.bulk_create(
                Response(wave=stored, respondent=r.respondent_id, area=areas[r.area_code],
                         weight=float(r.weight), stratum=r.stratum, sex=r.sex,
                         age_group=r.age_group,
                         answers={k: float(v) for k, v in zip(items, answers[i], strict=True)
                                  if not np.isnan(v)})
                for i, r in enumerate(tuples(rows)))
    return batches
