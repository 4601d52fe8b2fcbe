"""The pytest glue, by feature: the session's lifecycle, collection, fixtures,
the test's outcome (runtest), enforcement, the reports, the gate; each a pytest plugin
module listed in ``plugin.pytest_plugins`` with its options, hooks and own stash keys
(the keys several features read are in :mod:`.keys`; docs/architecture.md).

Only :mod:`.workers` knows about pytest-xdist workers.
"""
