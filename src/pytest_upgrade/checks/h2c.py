"""The ``Upgrade: h2c`` handshake (RFC 7540 §3.2), for information."""

from __future__ import annotations

from .._model import (
    AnsweredBy,
    Observation,
    Severity,
)
from .._verdict import Verdict
from ..protocols.h2c import H2C_UPGRADE
from .registry import check as _check


@_check(
    "h2c-upgrade-handshake",
    Severity.INFO,
    "RFC 7540 §3.2, RFC 9113 §3.1",
    "An Upgrade: h2c request with HTTP2-Settings gets 101 (deprecated by RFC 9113; information).",
    ("h2c",),
)
def check_h2c_upgrade_handshake(observation: Observation) -> Verdict:
    exchange = observation.exchange(H2C_UPGRADE)
    if exchange is None or exchange.response is None:
        reason = exchange.failure.message if exchange and exchange.failure else "no response"
        return Verdict.skip(f"the h2c upgrade probe got no response: {reason}")
    response = exchange.response
    who = (
        " (answered by the bundled hypercorn itself)"
        if exchange.answered_by is AnsweredBy.SERVER
        else ""
    )
    if response.status == 101:
        return Verdict.ok(f"Upgrade: h2c is accepted with 101{who}", actual=response.status_line)
    return Verdict.violated(
        f"Upgrade: h2c is not accepted ({response.status}); fine, since RFC 9113 §3.1"
        " deprecates it: clients use prior knowledge",
        actual=response.status_line,
    )
