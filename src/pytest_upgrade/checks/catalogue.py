"""The named checks: the registry, filled by the modules that define them.

Importing this module registers every check, in catalogue order: the checks
on the 426 (its ``status``, its ``upgrade_field``s, its ``problem`` body, its
``caching``, ``cors``), those on what intermediaries did to Upgrade (``intermediary``),
then those on the ``upgraded`` exchange and the protocol-specific ones
(``tls``, ``redirects``, ``tls_upgrade``, ``websocket``, ``websocket_subprotocol``,
``h2c``, ``h3``), then the deprecation gate's (``gate``).
"""

from __future__ import annotations

# ruff: noqa: I001  (the import order below is the catalogue order)
from . import status
from . import upgrade_field
from . import problem
from . import caching
from . import cors
from . import intermediary
from . import upgraded
from . import tls
from . import redirects
from . import tls_upgrade
from . import websocket
from . import websocket_subprotocol
from . import h2c
from . import h3
from . import gate
from .registry import REGISTRY, checks_for, run_checks

__all__ = ["REGISTRY", "checks_for", "run_checks"]

# imported for their registrations
del caching, cors, gate, h2c, h3, intermediary, problem, redirects, status, tls, tls_upgrade
del upgrade_field
del upgraded, websocket, websocket_subprotocol
