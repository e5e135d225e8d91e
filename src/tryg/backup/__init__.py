"""``tryg backup`` and ``tryg restore``: the database and the stored files in one archive.

See :mod:`tryg.backup.archive`.
"""
