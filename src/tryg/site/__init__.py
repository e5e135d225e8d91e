"""The Django project of tryg: settings from the environment, URLs, WSGI/ASGI.

Adapters only. Django apps (``tryg.accounts``, ``tryg.areas``, ``tryg.surveys``,
``tryg.police_register``, ``tryg.imports``, ``tryg.runs``, ``tryg.analysis``, ``tryg.public``,
``tryg.api``, ``tryg.web``) hold models, services and
views; the statistics and the index are computed by the pure core.
"""

import os


def setup(environ: dict[str, str] | None = None) -> None:
    """Configure Django for this process (idempotent): the CLI calls it before any model."""
    import django
    from django.apps import apps

    if environ:
        os.environ.update(environ)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tryg.site.settings")
    if not apps.ready:
        django.setup()
