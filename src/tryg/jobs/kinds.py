"""The kinds of background job: a registry of named functions, and the ones tryg ships.

A kind is a function ``run(ctx, **params) -> dict`` registered under a name with
:func:`register`; :func:`tryg.jobs.services.enqueue` queues one by name with JSON parameters.
The function reports progress through ``ctx.progress(step, fraction)``, records what it has
claimed as soon as it has (``ctx.claimed(run=…)``, so a job taken back from a dead worker can
tidy up after it), and returns its result (JSON). Raising :class:`JobFailedError` ends the job as
*failed* with that message (and a result); any other exception too, with its type and text.

Another app adds its own kind in its ``AppConfig.ready``::

    from tryg.jobs.kinds import register

    @register("report", _("Report"))
    def make_report(ctx, *, area: str) -> dict: ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Context(Protocol):
    """What a running job's function is given (see :class:`tryg.jobs.services.JobContext`)."""

    job_id: int
    user: Any

    def progress(self, step: str, fraction: float) -> None: ...

    def claimed(self, **values: Any) -> None: ...


Run = Callable[..., dict[str, Any]]


class JobFailedError(Exception):
    """The job ends as failed, with this message and ``result``."""

    def __init__(self, message: str, **result: Any) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class Kind:
    name: str
    label: str | Promise
    run: Run
    #: how often a job is started in all: taken back from a dead worker, it is queued again
    #: until it has been started this many times
    max_attempts: int = 3
    #: where a finished job's file is downloaded (the job's page links it), or None
    download: Callable[[Any], str | None] | None = None


KINDS: dict[str, Kind] = {}


def register(name: str, label: str | Promise, *, max_attempts: int = 3,
             download: Callable[[Any], str | None] | None = None) -> Callable[[Run], Run]:
    """Register ``run`` as the job kind ``name`` (a decorator). ``download(job)``: the address
    of a finished job's file, linked from the job's page (e.g. a report)."""

    def add(run: Run) -> Run:
        KINDS[name] = Kind(name, label, run, max_attempts, download)
        return run

    return add


def kind(name: str) -> Kind:
    """The registered kind ``name``; KeyError naming the known ones when there is none."""
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"no job kind {name!r}; known: {', '.join(sorted(KINDS))}") from None


@register("index_run", _("Index run"))
def index_run(ctx: Context, *, spec: str = "", rerun_of: int | None = None,
              survey: bool = True) -> dict[str, Any]:
    """A run of a shipped specification (``spec``) or a re-run of run ``rerun_of``, one at a
    time; the run's result rows are written in one transaction (:func:`run_index`)."""
    from tryg.index import load_spec
    from tryg.runs import services
    from tryg.runs.models import IndexRun

    def claim(run: IndexRun) -> None:
        ctx.claimed(run=run.pk)

    try:
        if rerun_of is not None:
            old = IndexRun.objects.get(pk=rerun_of)
            run = services.rerun(old, user=ctx.user, survey=survey, progress=ctx.progress,
                                 one_at_a_time=True, on_claim=claim)
        else:
            run = services.run_index(load_spec(spec), user=ctx.user, survey=survey,
                                     progress=ctx.progress, one_at_a_time=True,
                                     on_claim=claim)
    except services.RunInProgressError as exc:
        raise JobFailedError(str(_("Index run %(id)s is still running; start another when it has "
                              "finished.") % {"id": exc.running.pk}),
                        in_progress=exc.running.pk) from exc
    if run.status != IndexRun.Status.DONE:
        raise JobFailedError(str(_("Index run %(id)s failed and stored no results.")
                            % {"id": run.pk}), run=run.pk, status=run.status)
    return {"run": run.pk, "status": run.status}


@register("warm_pages", _("Page pre-rendering"), max_attempts=1)
def warm_pages(ctx: Context, *, run: int, published_at: str) -> dict[str, Any]:
    """Render a publication's most visited pages into the shared page cache
    (:func:`tryg.public.warm.warm`); stops early when another publication replaces it."""
    import datetime

    from tryg.public.data import Publication
    from tryg.public.warm import warm

    publication = Publication(run, datetime.datetime.fromisoformat(published_at))
    ctx.progress("rendering the pages", 0.0)
    paths = warm(publication)
    return {"pages": len(paths)}


def queue_warm_pages(sender: Any, *, publication: Any, **_: Any) -> bool:
    """Receiver of :data:`tryg.public.warm.warm_elsewhere`: queue :func:`warm_pages` for the
    publication (once: the key is the publication's) and say the work is taken."""
    from tryg.jobs.services import enqueue

    enqueue("warm_pages", key=f"warm_pages:{publication.key}", run=publication.run_id,
            published_at=publication.published_at.isoformat())
    return True
