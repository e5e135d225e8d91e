"""Open311 GeoReport v2 under ``/open311/v2/``: other city systems read and create findings.

* :mod:`.models` / :mod:`.keys` — API keys, stored hashed, each bound to an organisation;
* :mod:`.service` — what the endpoints answer (plain data, ordered as the specification lists
  the fields); :mod:`.render` — that data as the specification's XML or JSON;
* :mod:`.views` / :mod:`.urls` — thin views.

Specification: https://wiki.open311.org/GeoReport_v2 (fields and their order, the error
format ``<errors><error><code/><description/></error></errors>``).
"""
