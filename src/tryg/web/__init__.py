"""What every page of the site shares, whichever app serves it: the base template, the 403 and
404 pages, the log-in page and the health check, the style sheet, the role template tags,
query parameters that answer 400 when bad (:mod:`tryg.web.params`), the access decorators
(:mod:`tryg.web.access`) and no-store headers (:mod:`tryg.web.nostore`).

It holds no pages of its own domain: the public pages are :mod:`tryg.public`, the analysts'
:mod:`tryg.analysis`, the API :mod:`tryg.api`; the root URL list is :mod:`tryg.site.urls`.
"""
