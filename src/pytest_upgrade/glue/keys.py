"""The stash keys and constants that several features read (a key one feature uses
lives in that feature's module: ``glue.ahead.AHEAD``, ``glue.gating.GATE``, ...).

Each is here because a feature listed earlier in ``plugin.pytest_plugins`` reads
what a later one owns, and a plugin module never imports another (pytest imports
each itself, first, to rewrite its asserts; tests/unit/test_plugin_modules.py):

* ``MARKER``, ``REQUIREMENTS``, ``INVALID``, ``ITEM_TARGET``, ``ITEM_DEPLOYMENT``,
  ``ITEM_NODE``, ``ITEM_UNRESOLVED``: set at collection, read by the fixtures,
  probe-ahead, the outcome, the gate and the session's report;
* ``NO_REQUIREMENT``: the usage error of collection and of the session's report;
* ``RESULTS``, ``ERROR``: set by the fixtures, read by the outcome and the gate;
* ``COVERED``: set by the gate, read by the outcome (``glue.runtest``);
* ``ENFORCER``: made by enforcement, given to the bundled server by the fixtures;
* ``REFUSED``: collected by enforcement, written into the JSON report by the session.
"""

from __future__ import annotations

import pytest

from .._model import Requirement
from ..judge import RequirementResult
from ..probes.target import Target
from ..report.schema import Refused
from ..server.enforce import Enforcer

__all__ = [
    "COVERED",
    "ENFORCER",
    "ERROR",
    "INVALID",
    "ITEM_DEPLOYMENT",
    "ITEM_NODE",
    "ITEM_TARGET",
    "ITEM_UNRESOLVED",
    "MARKER",
    "NO_REQUIREMENT",
    "REFUSED",
    "REQUIREMENTS",
    "RESULTS",
]


MARKER = "requires_upgrade"

# A gate run (a target, nothing to check against it) is a usage error.
NO_REQUIREMENT = (
    "--upgrade-target names a target but no requirement was found: mark tests with"
    f" @pytest.mark.{MARKER}(...), list them in the upgrade_requirements ini option, or pass"
    ' --upgrade-require="h2 /path"'
)

REQUIREMENTS = pytest.StashKey[tuple[Requirement, ...]]()
RESULTS = pytest.StashKey[list[RequirementResult]]()
ERROR = pytest.StashKey[str]()
INVALID = pytest.StashKey[str]()
ENFORCER = pytest.StashKey[Enforcer]()
# The requests the enforcing server refused, as the test reports carry them
# (from xdist workers too): collected by glue.enforcement, in the JSON report.
REFUSED = pytest.StashKey[list[Refused]]()
# The target of one item (a fleet run: a target per item); absent, the
# session's ``upgrade_target`` fixture decides.
ITEM_TARGET = pytest.StashKey[Target]()
# The name of that target's deployment (its test ids carry it), for the reports.
ITEM_DEPLOYMENT = pytest.StashKey[str]()
# The node's address when the deployment has several (its test ids carry it too).
ITEM_NODE = pytest.StashKey[str]()
# Why the deployment's name resolved to no address: each of its items errors with it.
ITEM_UNRESOLVED = pytest.StashKey[str]()
# The indices (into RESULTS) of the results whose failures a waiver or the
# baseline covers (glue.gating): they do not fail the test.
COVERED = pytest.StashKey[frozenset[int]]()
