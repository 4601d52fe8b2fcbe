"""pytest-upgrade: protocol-compliance testing of HTTP 426 Upgrade Required.

The values the probes and checks produce are imported here; the fixture
types (``UpgradeOutcome``, ``UpgradeServer``, ``PolicyServer``,
``RequirementResult``, ...) are imported on first use, so that ``import
pytest_upgrade`` does not pay for hypercorn, cryptography and httpx. Type
annotations against them work as usual::

    from pytest_upgrade import UpgradeOutcome

    @pytest.mark.requires_upgrade("h2")
    def test_orders(upgrade: UpgradeOutcome) -> None: ...

The ``pytest-upgrade`` command imports this package before pytest starts, so
it is marked PYTEST_DONT_REWRITE (it has no assert to rewrite): pytest would
otherwise warn that it was imported too early to be rewritten.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._model import (
    AnsweredBy,
    Exchange,
    FailureKind,
    Finding,
    HandshakeOutcome,
    Observation,
    Offer,
    Outcome,
    ProbeFailure,
    Requirement,
    Response,
    Severity,
    TlsHandshake,
    Transport,
)
from ._warnings import PytestUpgradeWarning

if TYPE_CHECKING:
    from .glue.outcome import UpgradeOutcome
    from .judge import EvaluationPolicy, RequirementResult, RequirementVerdict, evaluate
    from .server.bundled import ServerStartError, UpgradeServer
    from .server.ca import BundledCA
    from .server.policy import PolicyServer, RecordedExchange
    from .server.recording import AppError

__all__ = [
    "AnsweredBy",
    "AppError",
    "BundledCA",
    "EvaluationPolicy",
    "Exchange",
    "FailureKind",
    "Finding",
    "HandshakeOutcome",
    "Observation",
    "Offer",
    "Outcome",
    "PolicyServer",
    "ProbeFailure",
    "PytestUpgradeWarning",
    "RecordedExchange",
    "Requirement",
    "RequirementResult",
    "RequirementVerdict",
    "Response",
    "ServerStartError",
    "Severity",
    "TlsHandshake",
    "Transport",
    "UpgradeOutcome",
    "UpgradeServer",
    "evaluate",
]

# name -> the module that defines it, imported when the name is first used.
_LAZY = {
    "AppError": "pytest_upgrade.server.recording",
    "BundledCA": "pytest_upgrade.server.ca",
    "EvaluationPolicy": "pytest_upgrade.judge",
    "PolicyServer": "pytest_upgrade.server.policy",
    "RecordedExchange": "pytest_upgrade.server.policy",
    "RequirementResult": "pytest_upgrade.judge",
    "RequirementVerdict": "pytest_upgrade.judge",
    "ServerStartError": "pytest_upgrade.server.bundled",
    "UpgradeOutcome": "pytest_upgrade.glue.outcome",
    "UpgradeServer": "pytest_upgrade.server.bundled",
    "evaluate": "pytest_upgrade.judge",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
