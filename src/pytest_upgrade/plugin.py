"""The pytest entry point (``pytest11``: ``upgrade = "pytest_upgrade.plugin"``).

The wiring itself lives in the plugin modules of :mod:`pytest_upgrade.glue`,
which pytest loads through ``pytest_plugins`` below; this module names them.

Outcomes follow docs/checks.md: a failed must-check fails the test (before its
body runs), a failed should-check is a :class:`PytestUpgradeWarning` (a
failure under ``--upgrade-strict``), a requirement none of whose checks could
run is skipped, and a target that cannot be evaluated at all (unreachable,
hanging, untrusted certificate, an app that does not start) is an error.
"""

from __future__ import annotations

__all__: list[str] = []  # the entry point: it names the plugin modules

# In this order: hooks of modules listed later run first (pluggy calls the
# last registered first), as they did when the first four were one module.
# glue.reports comes before glue.enforcement: the collectors the two register
# in pytest_configure then print the compliance section before the enforcement one.
pytest_plugins = [
    "pytest_upgrade.glue.lifecycle",
    "pytest_upgrade.glue.reports",
    "pytest_upgrade.glue.collection",
    "pytest_upgrade.glue.fixtures",
    "pytest_upgrade.glue.runtest",
    "pytest_upgrade.glue.enforcement",
    "pytest_upgrade.glue.async_tests",
    "pytest_upgrade.glue.directories",
    "pytest_upgrade.glue.interrupt",
    "pytest_upgrade.glue.gating",
    "pytest_upgrade.glue.proxy",
    "pytest_upgrade.glue.client_certificates",
]
