"""The city council's follow-up report (``tryg report``): HTML and accessible PDF.

Its sections come from a registry (:mod:`tryg.reports.sections`), so the strategy's and the
safety walks' sections appear when their data exists.
"""
