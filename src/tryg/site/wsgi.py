"""WSGI entry point: ``gunicorn tryg.site.wsgi`` (production) or ``tryg serve``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tryg.site.settings")
application = get_wsgi_application()
