"""Index runs from stored data, their results, and their publication.

:func:`run_index` is the one way a run is made: the specification's text is stored under its
hash, the run is recorded as *running* (so an interrupted run stays visible), the inputs are
read from the current imports (:mod:`tryg.runs.inputs`), the pure core computes
(:func:`tryg.index.run`), and then one transaction stores every result row, the results'
fingerprint and an audit event, and marks the run *done*. If the inputs fail validation (or the
computation fails) the run is marked *failed* with every problem in its log and no result row
is written: a run's results are complete or absent.

The results fingerprint is the SHA-256 of the deterministic CSV bytes of the results table
(:func:`tryg.exports.results_bytes`), so a run on unchanged data gives the same fingerprint,
and :func:`results_frame` rebuilds the table from the stored rows byte for byte.
"""

from __future__ import annotations

import datetime
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tryg.accounts.models import AuditEvent, audit
from tryg.accounts.roles import can_publish, can_run_index
from tryg.exports import results_bytes
from tryg.imports.problems import as_data, text
from tryg.index.inputs import InputError, Problem
from tryg.index.results import RESULT_COLUMNS, RESULT_DTYPES, conform, public_view
from tryg.index.spec import Spec, parse_spec
from tryg.runs import drivers
from tryg.runs.diff import Difference, compare
from tryg.runs.inputs import StoredInputs, load_inputs
from tryg.runs.models import IndexRun, ResultRow, StoredSpec

Progress = Callable[[str, float], None]

#: Result columns stored on each ResultRow (the spec's id and hash live on the run's spec).
STORED_COLUMNS: tuple[str, ...] = tuple(c for c in RESULT_COLUMNS
                                        if c not in ("spec_id", "spec_hash"))
BATCH_SIZE = 2000


class PublicationError(ValueError):
    """A run that cannot be published (not done) or withdrawn (not published)."""


def store_spec(spec: Spec) -> StoredSpec:
    """The stored copy of ``spec`` (its TOML text under its hash), made once."""
    stored, _created = StoredSpec.objects.get_or_create(
        sha256=spec.hash,
        defaults={"spec_id": spec.id, "version": spec.version, "text": spec.source})
    return stored


def run_spec(run: IndexRun) -> Spec:
    """The specification a run was computed with, parsed from its stored text."""
    return parse_spec(run.spec.text)


def stored_table(table: pd.DataFrame) -> pd.DataFrame:
    """The results table as it is stored: the results columns and dtypes, with ``-0.0``
    written as ``0.0`` (a database need not keep the sign of zero)."""
    out = conform(table)
    for column in RESULT_COLUMNS:
        if RESULT_DTYPES[column] == "float64":
            out[column] = out[column] + 0.0
    return out


def fingerprint(table: pd.DataFrame) -> str:
    """SHA-256 of the deterministic CSV bytes of a results table."""
    return hashlib.sha256(results_bytes(table, "csv")).hexdigest()


def _actor(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


#: A run still marked running after this long is taken to have died with its process, and no
#: longer keeps others from starting (see ``one_at_a_time``).
RUNNING_AT_MOST = datetime.timedelta(hours=1)

#: The PostgreSQL advisory lock that makes "is a run in progress? if not, start one" one step.
_RUN_LOCK = 0x7472_7967  # "tryg"


class RunInProgressError(Exception):
    """A run was asked for one at a time while another is running."""

    def __init__(self, running: IndexRun) -> None:
        super().__init__(f"index run {running.pk} is still running")
        self.running = running


def running_run() -> IndexRun | None:
    """The latest run still marked running (and started less than
    :data:`RUNNING_AT_MOST` ago), if any."""
    return (IndexRun.objects.filter(status=IndexRun.Status.RUNNING,
                                    started_at__gte=timezone.now() - RUNNING_AT_MOST)
            .order_by("-started_at").first())


def _claim_run(spec: Spec, user: Any, one_at_a_time: bool) -> IndexRun:
    """The new run's row, committed as running. With ``one_at_a_time`` the check for a run in
    progress and the new row are one step: two requests at the same moment cannot both see
    none and both start (PostgreSQL: a transaction-scoped advisory lock; SQLite: its
    IMMEDIATE transactions already take the write lock at BEGIN)."""
    with transaction.atomic():
        if one_at_a_time:
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_RUN_LOCK])
            running = running_run()
            if running is not None:
                raise RunInProgressError(running)
        return IndexRun.objects.create(spec=store_spec(spec), created_by=_actor(user))


def run_index(spec: Spec, *, user: Any = None, progress: Progress | None = None,
              survey: bool = True, rerun_of: IndexRun | None = None,
              one_at_a_time: bool = False,
              on_claim: Callable[[IndexRun], None] | None = None) -> IndexRun:
    """Compute ``spec`` on the stored data and store the run with its results.

    Returns the run: ``done`` with its result rows (and ``warnings``), or ``failed`` with its
    ``problems`` (also written in its log) and no rows. Without stored survey answers (or with
    ``survey=False``) only the register measures are computed, as ``tryg index run`` does
    without ``--survey``.
    ``user``, when given, must be allowed to run the index. ``rerun_of``: the run this one
    repeats (see :func:`rerun`), named in the log and the audit event. ``one_at_a_time``:
    raise :class:`RunInProgressError` instead of starting while another run is in progress (the
    pages' runs; checked and claimed in one step). ``on_claim``: called with the new run as
    soon as its row is committed (a background job records which run it started).
    """
    if user is not None and not can_run_index(user):
        raise PermissionDenied(_("You may not run the index."))
    say = progress or (lambda _step, _fraction: None)
    origin = {} if rerun_of is None else {"rerun_of": rerun_of.pk}
    run = _claim_run(spec, user, one_at_a_time)
    if on_claim is not None:
        on_claim(run)
    try:
        say("reading the stored inputs", 0.0)
        inputs = load_inputs([it.column for it in spec.items], survey=survey)
        run.inputs = inputs.fingerprint_dict()
        run.save(update_fields=["inputs"])
        result = _compute(spec, inputs, say)
    except (InputError, ValueError) as exc:
        found = exc.problems if isinstance(exc, InputError) else [Problem("", None, None,
                                                                          str(exc))]
        return _fail(run, found, user, origin)
    except Exception as exc:  # a bug, not bad data: record it, then let it surface
        _fail(run, [Problem("", None, None, f"{type(exc).__name__}: {exc}")], user, origin)
        raise
    table = stored_table(result.table)
    say(f"storing {len(table):,} result rows", 0.97)
    log = [*_origin_lines(origin), *(f"warning: {text(w)}" for w in result.warnings)]
    with transaction.atomic():
        _store_rows(run, table)
        stored_drivers = drivers.store(run, getattr(result, "drivers", None))
        run.fingerprint = fingerprint(table)
        run.status = IndexRun.Status.DONE
        run.finished_at = timezone.now()
        run.problem_data = {"warnings": [as_data(w) for w in result.warnings]}
        run.log = "\n".join([*log, f"{len(table)} result rows", *_drivers_lines(stored_drivers)])
        run.save(update_fields=["fingerprint", "status", "finished_at", "problem_data",
                                "log"])
        audit(AuditEvent.Action.RUN, f"{spec.id} run #{run.pk}", actor=user, run=run.pk,
              status=run.status, spec_hash=spec.hash, fingerprint=run.fingerprint,
              rows=len(table), inputs=run.inputs, **origin)
    return run


def _drivers_lines(stored: tuple[int, int]) -> list[str]:
    if stored == (0, 0):
        return []
    return [f"{stored[0]} driver rows, {stored[1]} area problem rows"]


def abandon(run: IndexRun, reason: str) -> IndexRun:
    """Mark a run whose process died as failed (it has no result rows: they are written in
    one transaction at the end), so it no longer counts as in progress."""
    return _fail(run, [Problem("", None, None, reason)], None)


def _origin_lines(origin: dict[str, Any]) -> list[str]:
    return [f"re-run of run #{origin['rerun_of']}"] if "rerun_of" in origin else []


def _compute(spec: Spec, inputs: StoredInputs, say: Progress) -> Any:
    # Imported here: the computation pulls in scipy and the statistics engine, which the
    # site's pages and `tryg --help` do not need.
    from tryg.index import run as compute

    missing = []
    if inputs.areas.areas.empty:
        missing.append(Problem.of("database", None, None, gettext_noop(
            "no areas are stored: import the areas first (tryg import areas)")))
    if inputs.survey is None and inputs.register is None:
        missing.append(Problem.of("database", None, None, gettext_noop(
            "no survey answers and no register data are stored: import either or both (tryg "
            "import survey, tryg import register)")))
    if missing:
        raise InputError(missing)
    return compute(spec, survey=inputs.survey, register=inputs.register,
                   population=inputs.population, areas=inputs.areas, progress=say)


def _fail(run: IndexRun, found: list[Problem], user: Any,
          origin: dict[str, Any] | None = None) -> IndexRun:
    """Store ``run`` as failed with the problems ``found`` (as data: the page shows them in
    the reader's language, the log and the CLI in English)."""
    origin = origin or {}
    problems = [text(p) for p in found]
    with transaction.atomic():
        run.status = IndexRun.Status.FAILED
        run.finished_at = timezone.now()
        run.problem_data = {"problems": [as_data(p) for p in found]}
        run.log = "\n".join([f"{len(problems)} problem(s); no results were stored:",
                             *problems, *_origin_lines(origin)])
        run.save(update_fields=["status", "finished_at", "problem_data", "log", "inputs"])
        audit(AuditEvent.Action.RUN, f"{run.spec.spec_id} run #{run.pk}", actor=user,
              run=run.pk, status=run.status, errors=problems[:50], **origin)
    return run


def _column(series: pd.Series) -> list[Any]:
    """A column as plain Python values, ``None`` for missing (what the ORM stores as NULL)."""
    dtype = str(series.dtype)
    values = series.astype(object).tolist()
    if dtype == "float64":
        return [None if v is None or math.isnan(v) else float(v) for v in values]
    if dtype in ("Int64", "boolean"):
        cast = int if dtype == "Int64" else bool
        return [None if v is None or v is pd.NA else cast(v) for v in values]
    if dtype == "bool":
        return [bool(v) for v in values]
    return ["" if v is None else str(v) for v in values]


def _store_rows(run: IndexRun, table: pd.DataFrame) -> None:
    columns = {c: _column(table[c]) for c in STORED_COLUMNS}
    rows = (ResultRow(run=run, **{c: columns[c][i] for c in STORED_COLUMNS})
            for i in range(len(table)))
    ResultRow.objects.bulk_create(rows, batch_size=BATCH_SIZE)


def results_frame(run: IndexRun) -> pd.DataFrame:
    """The stored results of ``run`` as the results table (every column of
    ``RESULT_COLUMNS``, in its dtype, rows in the computed order)."""
    values = list(ResultRow.objects.filter(run=run).order_by("pk")
                  .values_list(*STORED_COLUMNS))
    frame = pd.DataFrame.from_records(values, columns=list(STORED_COLUMNS))
    for column in STORED_COLUMNS:
        if RESULT_DTYPES[column] in ("float64", "Int64"):
            frame[column] = pd.to_numeric(frame[column].astype(object), errors="raise")
    frame["spec_id"] = run.spec.spec_id
    frame["spec_hash"] = run.spec.sha256
    return conform(frame)


def public_results(run: IndexRun) -> pd.DataFrame:
    """What may be published of a run: its results under its spec's publication rules."""
    return public_view(results_frame(run), run_spec(run))


def publish(run: IndexRun, user: Any = None) -> IndexRun:
    """Publish a done run (its public view becomes what the public pages show)."""
    if user is not None and not can_publish(user):
        raise PermissionDenied(_("You may not publish index runs."))
    if run.status != IndexRun.Status.DONE:
        raise PublicationError(_("Only a finished run can be published; run #%(id)s is "
                                 "%(status)s.") % {"id": run.pk,
                                                    "status": run.get_status_display()})
    with transaction.atomic():
        # the row locked, so of a form posted twice the second sees the first's publication
        IndexRun.objects.select_for_update().filter(pk=run.pk).first()
        if live_run() == run:
            # posted twice (or from a stale page): the public sees it already; publishing it
            # again would only move its date and audit a publication that changed nothing
            raise PublicationError(_("Run #%(id)s is already published: it is what the "
                                     "public sees.") % {"id": run.pk})
        run.published_at = timezone.now()
        run.published_by = _actor(user)
        run.save(update_fields=["published_at", "published_by"])
        audit(AuditEvent.Action.PUBLISH, f"{run.spec.spec_id} run #{run.pk}", actor=user,
              run=run.pk, fingerprint=run.fingerprint)
    return run


def unpublish(run: IndexRun, user: Any = None) -> IndexRun:
    """Withdraw a run's publication (its results stay stored)."""
    if user is not None and not can_publish(user):
        raise PermissionDenied(_("You may not withdraw publications."))
    if not run.is_published:
        raise PublicationError(_("Run #%(id)s is not published.") % {"id": run.pk})
    with transaction.atomic():
        run.published_at = None
        run.published_by = None
        run.save(update_fields=["published_at", "published_by"])
        audit(AuditEvent.Action.UNPUBLISH, f"{run.spec.spec_id} run #{run.pk}", actor=user,
              run=run.pk, fingerprint=run.fingerprint)
    return run


def rerun(run: IndexRun, *, user: Any = None, progress: Progress | None = None,
          survey: bool | None = None, one_at_a_time: bool = False,
          on_claim: Callable[[IndexRun], None] | None = None) -> IndexRun:
    """Run ``run``'s specification (its stored text, so its exact hash) again on the data
    stored now, as a new run; the old run is left as it was.

    ``survey``: whether the stored survey answers are used; by default as ``run`` did (a run
    without survey answers among its inputs is repeated without them, unless it failed, when
    the data may have been imported since).
    """
    if survey is None:
        survey = "survey" in run.inputs or run.status != IndexRun.Status.DONE
    return run_index(run_spec(run), user=user, progress=progress, survey=survey,
                     rerun_of=run, one_at_a_time=one_at_a_time, on_claim=on_claim)


def previous_run(run: IndexRun, runs: Any = None) -> IndexRun | None:
    """The finished run started before ``run`` to compare it with: the latest earlier
    *done* run of the same specification id, else the latest earlier done run of any.

    ``runs``: the runs to choose from (a queryset, e.g. those a user may see); all by default.
    """
    candidates = (IndexRun.objects.all() if runs is None else runs).filter(
        Q(started_at__lt=run.started_at) | Q(started_at=run.started_at, pk__lt=run.pk),
        status=IndexRun.Status.DONE).select_related("spec").order_by("-started_at", "-pk")
    same_spec = candidates.filter(spec__spec_id=run.spec.spec_id).first()
    return same_spec if same_spec is not None else candidates.first()


def compare_runs(a: IndexRun, b: IndexRun, *, tolerance: float = 0.0) -> Difference:
    """How run B's stored results differ from run A's (see :mod:`tryg.runs.diff`)."""
    return compare(results_frame(a), results_frame(b), tolerance=tolerance)


def live_run() -> IndexRun | None:
    """The run the public sees now: the one published last (None before any)."""
    return (IndexRun.objects.filter(published_at__isnull=False).select_related("spec")
            .order_by("-published_at", "-id").first())


@dataclass(frozen=True)
class PublicationChange:
    """What publishing a run changes against the live run (``live`` None: nothing is live)."""

    live: IndexRun | None
    difference: Difference | None
    #: measures whose headline figure (the estimate at the coarsest level, latest wave) changes
    headline_measures: list[str]

    @property
    def rows_changed(self) -> int:
        d = self.difference
        return 0 if d is None else d.changed + d.only_a + d.only_b


def publication_change(run: IndexRun) -> PublicationChange:
    """How the public's figures change when ``run`` is published (compared with the live run,
    through :mod:`tryg.runs.diff`)."""
    live = live_run()
    if live is None or live.pk == run.pk:
        return PublicationChange(live, None, [])
    new = results_frame(run)
    difference = compare(results_frame(live), new)
    return PublicationChange(live, difference, _headline_changes(results_frame(live), new))


def _headline_changes(old: pd.DataFrame, new: pd.DataFrame) -> list[str]:
    """Measures whose headline estimate differs: per measure, the rows of its coarsest level
    (fewest areas) in its latest wave, compared by area."""
    return [str(m) for m in sorted(set(old["measure"]) | set(new["measure"]))
            if _headline(old, m) != _headline(new, m)]


def _headline(frame: pd.DataFrame, measure: str) -> dict[str, float | None]:
    rows = frame[frame["measure"] == measure]
    if rows.empty:
        return {}
    if rows["wave"].notna().any():
        rows = rows[rows["wave"] == rows["wave"].max()]
    sizes = rows.groupby("level")["area_code"].nunique()
    top = rows[rows["level"] == sizes.idxmin()]
    return {str(a): (None if pd.isna(e) else float(e))
            for a, e in zip(top["area_code"], top["estimate"], strict=True)}
