"""The public dashboard: front page, map, area pages, methods and downloads.

Everything here shows the latest *published* index run through its public view
(:func:`tryg.runs.services.public_results`, the spec's publication rules applied), never the
stored result rows themselves. Pages are rendered on the server, work without JavaScript, and
are cached per published run and language (:mod:`tryg.public.cache`).
"""
