"""The analysts' pages (``/analyse/``): stored data, data quality, index runs, their
comparison, publication. Thin views over :mod:`tryg.runs` and the stored data; who may open
what is decided in :mod:`tryg.accounts.roles`."""
