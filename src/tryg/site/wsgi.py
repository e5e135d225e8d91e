"""WSGI entry point: ``gunicorn tryg.site.wsgi`` (production) or ``tryg serve``."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from tryg.site.head import head_as_get

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tryg.site.settings")
# HEAD answered as GET, without the body, under any WSGI server (tryg.site.head).
application = head_as_get(get_wsgi_application())
# Import every view (and pandas, the charts…) now rather than on the first request, then move
# all that lives as long as the process out of the garbage collector's sight: a full
# collection then scans the objects made since, not some 150,000 modules, functions and
# classes (such a pass cost a cold page ~0.15 s on a loaded machine).
get_resolver().url_patterns  # noqa: B018
gc.freeze()
