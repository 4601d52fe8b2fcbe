"""The pytest glue: options and settings, collection, fixtures, the test's outcome and
the session's report; each a pytest plugin module listed in ``plugin.pytest_plugins``.

Only :mod:`.workers` knows about pytest-xdist workers.
"""
