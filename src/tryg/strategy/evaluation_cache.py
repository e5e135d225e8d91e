"""Evaluations of initiatives, kept in Django's cache per publication.

An evaluation (:mod:`tryg.strategy.evaluation_service`) reads every stored survey answer and
builds the run's design: seconds, too slow for a page view or a report. Its outcome - the
result, or why it cannot be made (a negative answer is as expensive to find) - is kept in the
cache under a key of the published run (its id and results fingerprint) and the parameters
(measure, treated and comparison areas, waves before and after), so a new publication, or an
initiative given other areas, comparison areas or a start date, makes a new key and is
computed afresh; nothing has to be invalidated. Without a shared cache the outcomes are kept
in files of the data folder (the cache ``evaluations`` of the settings, :func:`store`), so
that a new process - ``tryg report`` - reads them instead of computing them again.

The first visitor need not wait either: when a run is published, :func:`warm_on_publish`
computes the evaluations of every initiative in a background thread (as
:mod:`tryg.public.warm` renders the public pages, with the same switch
``TRYG_WARM_ON_PUBLISH`` and the same test of whether it is of any use); so does a change of
an initiative or an indicator for that initiative (:func:`warm_on_change`).

Which evaluation an initiative gets (:func:`request_for`): each index or register indicator
with a measure, for the initiative's areas - the finest level of them when it names areas of
several levels (a district and its kommune: the kommune contains the district) - from its
start date: the run's waves before the start year against those from it on; the comparison
areas the coordinator chose, or else those proposed from the run's estimates.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.base import BaseCache
from django.db import close_old_connections, connection, transaction

from tryg.runs.models import IndexRun
from tryg.strategy.evaluation import Evaluation
from tryg.strategy.models import Indicator, Initiative

log = logging.getLogger(__name__)

PREFIX = "tryg-strategy-evaluation"
#: Seconds an outcome is kept (a new publication changes the key anyway).
TIMEOUT = 30 * 24 * 3600


@dataclass(frozen=True)
class EvaluationRequest:
    """What an evaluation depends on besides the published run. An empty ``comparison``:
    propose the comparison areas."""

    measure_id: str
    treated: tuple[str, ...]
    comparison: tuple[str, ...]
    pre_waves: tuple[int, ...]
    post_waves: tuple[int, ...]

    def key(self, run: IndexRun) -> str:
        text = "|".join([self.measure_id, ",".join(self.treated), ",".join(self.comparison),
                         ",".join(map(str, self.pre_waves)),
                         ",".join(map(str, self.post_waves))])
        digest = hashlib.sha256(text.encode()).hexdigest()[:32]
        return f"{PREFIX}:{run.pk}:{run.fingerprint}:{digest}"


@dataclass(frozen=True)
class Outcome:
    """An evaluation, or why it cannot be made (``code`` and ``params`` of
    :class:`~tryg.strategy.evaluation_service.EvaluationUnavailableError`)."""

    result: Evaluation | None = None
    proposed: bool = False
    code: str = ""
    params: Mapping[str, str] = field(default_factory=dict)


def finest(codes: list[str], levels: Mapping[str, str], order: list[str]) -> list[str]:
    """The codes of the finest level among them (by ``order``, top level first); codes of
    an unknown level are kept (the evaluation names them)."""
    known = [levels[c] for c in codes if c in levels]
    if not known:
        return codes
    deepest = max(known, key=lambda lv: order.index(lv) if lv in order else -1)
    return [c for c in codes if levels.get(c, deepest) == deepest]


def request_for(initiative: Initiative, indicator: Indicator,
                data: Any) -> EvaluationRequest | None:
    """The evaluation of ``indicator`` of ``initiative`` against the published ``data``
    (:class:`tryg.public.data.Published`); None when none applies (no measure, no start
    date, no areas, nothing published)."""
    if (indicator.source not in (Indicator.Source.INDEX, Indicator.Source.REGISTER)
            or not indicator.measure_id or initiative.period_start is None or data is None):
        return None
    codes = sorted({a.code for a in initiative.areas.all()})
    if not codes:
        return None
    levels = {c: data.areas[c][1] for c in codes if c in data.areas}
    order = [str(level) for level in pd.unique(data.table["level"])]
    start = initiative.period_start.year
    return EvaluationRequest(
        measure_id=indicator.measure_id, treated=tuple(finest(codes, levels, order)),
        comparison=tuple(sorted(initiative.comparison_areas)),
        pre_waves=tuple(w for w in data.waves if w < start),
        post_waves=tuple(w for w in data.waves if w >= start))


def compute(request: EvaluationRequest) -> Outcome:
    """The outcome, computed now (seconds)."""
    from tryg.strategy import evaluation_service as service

    comparison = list(request.comparison)
    proposed = not comparison
    try:
        if proposed:
            comparison = service.proposed_comparison(measure_id=request.measure_id,
                                                     treated=list(request.treated))
        result = service.evaluate_index_measure(
            measure_id=request.measure_id, treated=list(request.treated), comparison=comparison,
            pre_waves=list(request.pre_waves), post_waves=list(request.post_waves))
    except service.EvaluationUnavailableError as exc:
        return Outcome(code=exc.code, params=exc.params)
    except (ValueError, ArithmeticError, KeyError) as exc:  # pure core refusing the data
        return Outcome(code="estimation", params={"detail": str(exc)})
    return Outcome(result=result, proposed=proposed)


def store() -> BaseCache:
    """Where outcomes are kept: the cache ``evaluations`` when the settings have one (the
    data folder's files when no shared cache is configured: they outlive the process, so a
    ``tryg report`` in a new process reads what the site or an earlier report computed),
    else the default cache (the shared one, e.g. Redis)."""
    return caches["evaluations"] if "evaluations" in settings.CACHES else cache


def outcome(request: EvaluationRequest, run: IndexRun) -> Outcome:
    """The outcome from the cache, else computed and kept (errors too)."""
    key = request.key(run)
    kept = store()
    found = kept.get(key)
    if isinstance(found, Outcome):
        return found
    made = compute(request)
    kept.set(key, made, TIMEOUT)
    return made


def warm(run: IndexRun, initiative_id: int | None = None) -> int:
    """Compute (into the cache) the evaluations of every initiative's indicators (or only
    those of ``initiative_id``) against the published ``run``; how many. Stops when another
    run is published meanwhile."""
    from tryg.public.data import latest_published_run, published

    data = published(run)
    done = 0
    indicators = (Indicator.objects.filter(source__in=[Indicator.Source.INDEX,
                                                       Indicator.Source.REGISTER])
                  .exclude(measure_id="").select_related("initiative")
                  .prefetch_related("initiative__areas").order_by("initiative_id", "id"))
    if initiative_id is not None:
        indicators = indicators.filter(initiative_id=initiative_id)
    for indicator in indicators:
        request = request_for(indicator.initiative, indicator, data)
        if request is None:
            continue
        current = latest_published_run()
        if current is None or current.pk != run.pk:
            break
        outcome(request, run)
        done += 1
    return done


def _warm_thread(run_id: int | None, initiative_id: int | None = None) -> None:
    try:
        if run_id is None:
            from tryg.public.data import latest_published_run

            found = latest_published_run()
            if found is None:
                return
            run = found
        else:
            run = IndexRun.objects.get(pk=run_id)
        log.info("computed %d initiative evaluations of run %s", warm(run, initiative_id),
                 run.pk)
    except Exception:  # a cold evaluation is slower, not wrong
        log.exception("computing the initiative evaluations of run %s failed", run_id)
    finally:
        close_old_connections()
        connection.close()


#: Initiatives whose evaluations a thread of this process is computing now.
_RUNNING: set[int] = set()
_RUNNING_LOCK = threading.Lock()


def _warming_wanted() -> bool:
    """Whether to compute evaluations ahead of the first visitor: when what is computed here
    is kept where others read it — a shared cache or the data folder's ``evaluations`` files
    (so ``tryg index publish`` on the command line computes them for the site and for
    ``tryg report``; the process ends when they are stored) — or this process serves the
    site."""
    from tryg.public.warm import worth_warming

    if not getattr(settings, "TRYG_WARM_ON_PUBLISH", True):
        return False
    backend = str(settings.CACHES.get("evaluations", {}).get("BACKEND", ""))
    return backend.endswith(".FileBasedCache") or worth_warming()


def warm_on_change(sender: Any, instance: Initiative | Indicator, **_: Any) -> None:
    """post_save of an initiative or an indicator: its evaluations may have new parameters
    (areas, comparison areas, start, measure), so compute them once the change is committed,
    before a visitor asks (same switch as :func:`warm_on_publish`)."""
    if not _warming_wanted():
        return
    initiative_id = instance.pk if isinstance(instance, Initiative) else instance.initiative_id

    def start() -> None:
        with _RUNNING_LOCK:
            if initiative_id in _RUNNING:  # several saves in one transaction: one thread
                return
            _RUNNING.add(initiative_id)
        threading.Thread(target=_warm_initiative, args=(initiative_id,),
                         name=f"tryg-evaluations-initiative-{initiative_id}").start()

    transaction.on_commit(start)


def _warm_initiative(initiative_id: int) -> None:
    try:
        _warm_thread(None, initiative_id)
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(initiative_id)


def warm_on_publish(sender: Any, instance: IndexRun, update_fields: Any = None,
                    **_: Any) -> None:
    """post_save of an index run: once a just-published run is committed, compute the
    evaluations in a thread (as :func:`tryg.public.warm.warm_on_publish` warms the pages)."""
    if not _warming_wanted():
        return
    if instance.published_at is None:
        return
    if update_fields is not None and "published_at" not in update_fields:
        return
    run_id = instance.pk
    transaction.on_commit(lambda: threading.Thread(
        target=_warm_thread, args=(run_id,), name=f"tryg-evaluations-{run_id}").start())
