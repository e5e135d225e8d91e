"""Web pages: log-in, analysts' pages and (issue 5) the public dashboard."""
