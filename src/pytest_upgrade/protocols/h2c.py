"""``h2c``: cleartext HTTP/2, with prior knowledge (RFC 9113 §3.3)."""

from __future__ import annotations

from functools import partial
from types import MappingProxyType
from typing import Any

import h2.config
import h2.connection

from .._model import Exchange, FailureKind, Observation, Refusal, Requirement, Response
from .._verdict import Verdict
from ..probes.endpoint import ClientTrust
from ..probes.http1 import http1_exchange
from ..probes.http2 import http2_exchange
from ..probes.target import Probe, Target
from ._base import Protocol, mention, no_response, token_verdict
from .pieces import missing, requirement_request
from .roles import LEGACY, UPGRADED

__all__ = ["H2C", "H2C_UPGRADE", "NO_HTTP2"]

# The request asking to upgrade to h2c (RFC 7540 §3.2), beside prior knowledge.
H2C_UPGRADE = "h2c-upgrade"

# After the client preface: a non-HTTP/2 answer, a close or silence.
NO_HTTP2 = frozenset({FailureKind.PROTOCOL, FailureKind.CLOSED, FailureKind.TIMEOUT})


def _upgrade_headers() -> list[tuple[str, str]]:
    # RFC 7540 §3.2 (deprecated by RFC 9113 §3.1): Upgrade: h2c with the
    # client's SETTINGS as HTTP2-Settings.
    connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    settings = connection.initiate_upgrade_connection()
    value = settings.decode("ascii") if isinstance(settings, bytes) else str(settings)
    return [
        ("Connection", "Upgrade, HTTP2-Settings"),
        ("Upgrade", "h2c"),
        ("HTTP2-Settings", value),
    ]


def _plan(requirement: Requirement, target: Target, timeout: float) -> list[Probe]:
    http = target.http
    if http is None:
        return [missing(LEGACY, requirement, "http"), missing(UPGRADED, requirement, "http")]
    spec = target.spec_for(http, timeout)
    request = requirement_request(requirement, target)
    upgrade = request.but(headers=(*request.headers, *_upgrade_headers()))
    return [
        partial(http1_exchange, spec, request, role=LEGACY),
        partial(http2_exchange, spec, request, role=UPGRADED),
        partial(http1_exchange, spec, upgrade, role=H2C_UPGRADE),
    ]


def _upgrade_field(observation: Observation, response: Response, value: str) -> Verdict:
    # RFC 7540 §3.2 registered "h2c" for cleartext HTTP/2 (RFC 9113 §3.1).
    return token_verdict(value, "h2c", "h2c")


def _upgraded(observation: Observation, exchange: Exchange) -> Verdict:
    expected = "an HTTP/2 response over cleartext (prior knowledge)"
    if exchange.response is not None:
        if exchange.response.http_version == "2":
            return Verdict.ok("the server spoke HTTP/2", expected=expected, actual="HTTP/2")
        return Verdict.violated(  # pragma: no cover - the h2 probe only records HTTP/2
            "the response was not HTTP/2", expected=expected, actual=exchange.response.status_line
        )
    failure = exchange.failure
    spoke = exchange.transport is not None  # connected, sent the preface
    if failure is not None and spoke and failure.kind in NO_HTTP2:
        return Verdict.violated(
            "the server did not speak HTTP/2 after the connection preface",
            expected=expected,
            actual=failure.message,
            diagnosis="Enable HTTP/2 with prior knowledge (h2c) on the cleartext listener.",
        )
    return Verdict.skip(f"no response to judge: {no_response(exchange)}")


def _client_options(target: Target, trust: ClientTrust) -> dict[str, Any]:
    if target.http is None:
        raise ValueError("the target has no http URL to speak cleartext HTTP/2 to")
    # http1=False over http:// is HTTP/2 with prior knowledge (RFC 9113 §3.3).
    return {"base_url": target.http.url(""), "http1": False, "http2": True}


def _enforce(scheme: str, http_version: str, spoken: str) -> Refusal | None:
    if scheme == "http" and http_version != "2":
        return Refusal("h2c", "cleartext HTTP/2 (h2c, prior knowledge)", spoken)
    return None


_NO_PRIOR_KNOWLEDGE = (
    "The cleartext port does not speak HTTP/2 with prior knowledge (RFC 9113 §3.3):"
    " enable h2c on it, or require h2 over TLS instead."
)

H2C = Protocol(
    token="h2c",
    aliases=(),
    mention=mention(r"h2c|HTTP/2(?:\.0)?|HTTP2"),
    roles=(LEGACY, UPGRADED, H2C_UPGRADE),
    plan=_plan,
    judge_upgrade_field=_upgrade_field,
    judge_upgraded=_upgraded,
    client_options=_client_options,
    enforce=_enforce,
    failure_hints=MappingProxyType(dict.fromkeys(NO_HTTP2, _NO_PRIOR_KNOWLEDGE)),
)
