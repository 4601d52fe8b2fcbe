"""pytest-upgrade: protocol-compliance testing of HTTP 426 Upgrade Required."""

from __future__ import annotations

from ._model import (
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

__all__ = [
    "Exchange",
    "FailureKind",
    "Finding",
    "HandshakeOutcome",
    "Observation",
    "Offer",
    "Outcome",
    "ProbeFailure",
    "PytestUpgradeWarning",
    "Requirement",
    "Response",
    "Severity",
    "TlsHandshake",
    "Transport",
]
