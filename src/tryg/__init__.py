"""tryg: local safety strategies for Danish municipalities and police.

The package follows the Tryg Aalborg model: a safety index (Tryghedsindeks) built from
resident surveys and the police register, initiatives, and safety walks
(tryghedsvandringer).

Package map, from the inside out. Each layer imports only the layers above it in this list
(the import-linter contract "Layers" in pyproject.toml checks it):

Pure core (no files, no database, no Django):

* ``tryg.messages``: message templates marked for translation (``mark``), so that code
  without gettext can raise an error a page shows in its own language; imports nothing.
* ``tryg.stats``: survey statistics (designs, calibration, means, contrasts, variances,
  small-area estimation), validated against R's ``survey`` package.
* ``tryg.geo``: area geometry: which area a point lies in, which area contains another.
* ``tryg.index``: the safety index: specifications, computation, comparisons, publication
  rules, area names to codes.

File adapters (files in and out; no Django):

* ``tryg.readers``: survey, register, population and area files in, with problems named by
  file, row and column.
* ``tryg.exports``: results tables out (CSV, XLSX, JSON, Parquet), written atomically.
* ``tryg.charts``: SVG charts and maps drawn on the server from tables.
* ``tryg.demo``: the fictional demo municipality and synthetic data (``tryg demo-data``).

Django apps (models, services, views, templates, URLs; one per domain concept):

* ``tryg.accounts``: organisations, users with roles (``accounts.roles`` holds every
  permission rule), the audit log.
* ``tryg.areas``, ``tryg.surveys``, ``tryg.police_register``: the stored data: areas and
  population, survey waves and answers, the police register (app label ``crime``).
* ``tryg.bounds``: what an entered number or date may be (years 1900 to 2200, numbers below
  10¹² in size), as model and form validators, shared by the strategy and the walks; imports no
  app.
* ``tryg.imports``: every file that enters the database, checked first, written in one
  transaction; the upload page.
* ``tryg.runs``: index runs on the stored data, their results and publication.
* ``tryg.web``: what every page shares: base template, 403/404, log-in, query parameters
  that answer 400, access decorators, no-store headers.
* ``tryg.strategy``: strategies, focus areas, initiatives and their indicators, with honest
  status and before/after evaluation (``strategy.status`` and ``strategy.evaluation`` are
  pure), YAML templates another municipality imports.
* ``tryg.walks``: safety walks (tryghedsvandringer): planning, offline recording, findings
  that become actions with owners, closing meetings, re-walks, citizens' reports, Open311.
* ``tryg.public``: the public dashboard (front page, map, area pages, downloads).
* ``tryg.jobs``: background jobs (index runs, page warming, reports) on Django's Tasks API.
* ``tryg.analysis``: the analysts' pages under ``/analyse/``.
* ``tryg.reports``: the city council's follow-up report (PDF/UA and HTML).
* ``tryg.api``: the JSON API under ``/api/``.

Entry points:

* ``tryg.site``: the Django project: settings from the environment, the root URL list,
  WSGI/ASGI.
* ``tryg.cli``: the ``tryg`` command: parses, calls a service, prints.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__: str = version("tryg")
except PackageNotFoundError:  # pragma: no cover - only when run from an uninstalled tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
