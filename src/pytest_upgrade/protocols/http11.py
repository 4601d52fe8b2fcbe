"""``HTTP/1.1``: HTTP/1.0 is no longer served (RFC 9110 §7.8, RFC 9112 §2.3)."""

from __future__ import annotations

from functools import partial
from typing import Any

from .._model import Exchange, Observation, Refusal, Requirement, Response
from .._verdict import Verdict
from ..probes.endpoint import ClientTrust
from ..probes.http1 import http1_exchange
from ..probes.target import Probe, Target
from ._base import Protocol, mention, no_response, versioned_verdict
from .pieces import requirement_request
from .roles import LEGACY, UPGRADED

__all__ = ["HTTP11"]


def _plan(requirement: Requirement, target: Target, timeout: float) -> list[Probe]:
    spec = target.spec_for(target.primary, timeout)
    request = requirement_request(requirement, target)
    return [
        # An HTTP/1.0 client offers no ALPN over TLS (no HTTP/1.0 client sends
        # "http/1.1" and then speaks 1.0): none, so any server can answer it.
        partial(http1_exchange, spec, request, role=LEGACY, http_version="1.0", alpn=()),
        partial(http1_exchange, spec, request, role=UPGRADED),
    ]


def _upgrade_field(observation: Observation, response: Response, value: str) -> Verdict:
    # RFC 9110 §7.8: "HTTP/1.1" (or a later HTTP) answers an HTTP/1.0 request.
    return versioned_verdict(value, "http", (1, 1), "HTTP/1.1 or later")


def _upgraded(observation: Observation, exchange: Exchange) -> Verdict:
    expected = "an HTTP/1.1 status line"
    if exchange.response is None:
        return Verdict.skip(f"no response to judge: {no_response(exchange)}")
    actual = exchange.response.status_line
    if exchange.response.http_version == "1.1":
        return Verdict.ok("the response came over HTTP/1.1", expected=expected, actual=actual)
    return Verdict.violated(
        f"the response came over HTTP/{exchange.response.http_version}",
        expected=expected,
        actual=actual,
    )


def _client_options(target: Target, trust: ClientTrust) -> dict[str, Any]:
    return {"base_url": target.primary.url(""), "verify": trust.context()}


def _enforce(scheme: str, http_version: str, spoken: str) -> Refusal | None:
    if http_version == "1.0":
        return Refusal("HTTP/1.1", "HTTP/1.1", spoken)
    return None


HTTP11 = Protocol(
    token="HTTP/1.1",
    aliases=(),
    mention=mention(r"HTTP/1\.1|HTTP/2(?:\.0)?"),
    roles=(LEGACY, UPGRADED),
    plan=_plan,
    judge_upgrade_field=_upgrade_field,
    judge_upgraded=_upgraded,
    client_options=_client_options,
    enforce=_enforce,
)
