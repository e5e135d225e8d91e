"""Background jobs: long work (index runs, page warming, reports, large imports) off the request.

The queue is Django's Tasks API through the ``django-tasks`` backport with the database backend
of ``django-tasks-db`` (:mod:`tryg.jobs.tasks`); :class:`tryg.jobs.models.Job` is what people
see of a job (state, progress, result or error), its idempotency key, and its lease.
"""
