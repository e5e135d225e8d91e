"""The shapes of the API's answers (documented in the OpenAPI schema at /api/openapi.json)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from ninja import Schema
from ninja.params import functions

from tryg.bounds import CONTROL_CHARACTERS

MAX_LIMIT = 10_000
#: The largest ``?offset=``, id or batch a parameter may name (a 64-bit database integer).
MAX_INT = 2**63 - 1
#: The largest wave (year).
MAX_YEAR = 9999
#: The longest text parameter (codes, levels, measure ids).
MAX_TEXT = 200
#: No control characters (the forms' rule, :data:`tryg.bounds.CONTROL_CHARACTERS`).
NO_CONTROL = f"^[^{CONTROL_CHARACTERS}]*$"

#: ``?limit=`` and ``?offset=`` of the paged endpoints.
Limit = Annotated[int, functions.Query(ge=1, le=MAX_LIMIT,
                                       description=f"Rows per answer (at most {MAX_LIMIT:,}).")]
Offset = Annotated[int, functions.Query(ge=0, le=MAX_INT, description="Rows to skip.")]
#: A run's or an import's id in the query.
IdQuery = Annotated[int, functions.Query(ge=1, le=MAX_INT)]
#: A wave (year) in the query, and in the path.
YearQuery = Annotated[int, functions.Query(ge=0, le=MAX_YEAR)]
YearPath = Annotated[int, functions.Path(ge=0, le=MAX_YEAR)]
#: A code, level or measure id in the query.
Text = Annotated[str, functions.Query(max_length=MAX_TEXT, pattern=NO_CONTROL)]


class AreaParent(Schema):
    code: str
    valid_from: int | None = None
    valid_to: int | None = None


class AreaOut(Schema):
    code: str
    name: str
    level: str
    parents: list[AreaParent]


class Feature(Schema):
    type: str = "Feature"
    id: str
    properties: AreaOut
    geometry: dict[str, Any] | None


class FeatureCollection(Schema):
    type: str = "FeatureCollection"
    features: list[Feature]


class WaveOut(Schema):
    year: int
    fieldwork_start: date | None
    fieldwork_end: date | None
    producer: str
    questionnaire: str
    synthetic: bool
    responses: int


class MeasureOut(Schema):
    id: str
    kind: str
    label_da: str
    label_en: str
    higher_is_safer: bool | None = None
    headline: bool = False


class MeasuresOut(Schema):
    run: int | None
    spec_id: str | None
    spec_version: str | None
    spec_hash: str | None
    measures: list[MeasureOut]


class RunOut(Schema):
    id: int
    spec_id: str
    spec_version: str
    spec_hash: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    published_at: datetime | None
    fingerprint: str


class PublicResult(Schema):
    """One row of a published run's public view; a suppressed row keeps only its keys."""

    area_code: str
    area_name: str | None
    level: str
    wave: int
    measure: str
    estimate: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    n_display: str | None
    n_eff: float | None
    method: str | None
    change_prev: float | None
    p_prev: float | None
    sig_prev: bool | None
    change_pooled: float | None
    sig_pooled: bool | None
    diff_parent_rest: float | None
    sig_parent_rest: bool | None
    band: str | None
    suppressed: bool
    flags: str


class RunPageOut(Schema):
    """A page of a published run's rows: which run, how many rows in all, which slice."""

    run: int
    spec_id: str
    spec_hash: str
    count: int
    limit: int
    offset: int


class ResultsOut(RunPageOut):
    results: list[PublicResult]


class ResponseOut(Schema):
    respondent: str
    area: str
    weight: float
    stratum: str
    psu: str
    sex: str
    age_group: str
    answers: dict[str, Any]


class ResponsesOut(Schema):
    wave: int
    count: int
    limit: int
    offset: int
    responses: list[ResponseOut]


class RecordOut(Schema):
    batch: int
    line: int
    date: date
    offence: str
    area: str | None
    lon: float | None
    lat: float | None


class RecordsOut(Schema):
    count: int
    limit: int
    offset: int
    records: list[RecordOut]


class PublicDriver(Schema):
    level: str
    area_code: str
    wave: int
    problem: str
    effect: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    significant: bool
    rank: int | None
    coefficient: float | None
    coefficient_se: float | None
    n: int


class DriversOut(RunPageOut):
    drivers: list[PublicDriver]


class PublicAreaProblem(Schema):
    level: str
    area_code: str
    parent_code: str
    wave: int
    problem: str
    share: float | None
    rest_share: float | None
    difference: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    more_often: bool
    n: float
    rest_n: float


class AreaProblemsOut(RunPageOut):
    problems: list[PublicAreaProblem]
