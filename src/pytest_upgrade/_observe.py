"""Which probes each requirement makes, run concurrently, into one Observation.

This module decides *what* to send for a requirement; ``_probes`` knows *how*.
Probes of one requirement are independent connections, so they run at the
same time on a small thread pool: a requirement costs about its slowest probe.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import h2.config
import h2.connection

from ._model import (
    Exchange,
    FailureKind,
    HandshakeOutcome,
    Observation,
    ProbeFailure,
    Requirement,
    TlsHandshake,
)
from ._probes import (
    TLS_VERSIONS,
    ClientTrust,
    Endpoint,
    http1_exchange,
    http2_exchange,
    tls_handshake,
)
from ._rules import UNASSIGNED_WEBSOCKET_VERSION

__all__ = ["Target", "observe", "target_error"]


@dataclass(frozen=True)
class Target:
    """Where the probes go: an https and/or an http base URL, and whom to trust."""

    https: Endpoint | None
    http: Endpoint | None
    trust: ClientTrust = field(compare=False)
    cafile: str | None = None  # shown in reproduce commands (curl --cacert)
    bundled: bool = False
    # Conclusive TLS version handshakes, by (endpoint, version): whether a
    # server takes TLS 1.0 does not depend on the path, so a session asks once.
    handshakes_seen: dict[tuple[Endpoint, str], TlsHandshake] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def label(self) -> str:
        endpoints = [e for e in (self.https, self.http) if e is not None]
        return " and ".join(e.url("") for e in endpoints)

    @classmethod
    def from_urls(cls, urls: Sequence[str], *, cafile: str | None = None) -> Target:
        """A live target from one https and/or one http base URL (ValueError if not)."""
        endpoints: dict[str, Endpoint] = {}
        for url in urls:
            endpoint = Endpoint.from_url(url)
            if endpoint.scheme in endpoints:
                raise ValueError(
                    f"two {endpoint.scheme}:// URLs given ({url!r}); give at most one https"
                    " and one http URL of the same deployment"
                )
            endpoints[endpoint.scheme] = endpoint
        if not endpoints:
            raise ValueError("no URL given")
        return cls(
            https=endpoints.get("https"),
            http=endpoints.get("http"),
            trust=ClientTrust(cafile),
            cafile=cafile,
        )


Probe = Callable[[], Exchange | TlsHandshake]

LEGACY_TLS_VERSIONS = ("TLSv1", "TLSv1.1")


def _missing(role: str, requirement: Requirement, needs: str) -> Probe:
    def probe() -> Exchange:
        return Exchange(
            role=role,
            url="",
            method=requirement.method,
            offered="",
            failure=ProbeFailure(
                FailureKind.NOT_APPLICABLE,
                f"the target has no {needs} URL, which the {requirement.protocol} requirement"
                " is tested over",
            ),
        )

    return probe


def _request(requirement: Requirement, target: Target, timeout: float) -> dict[str, Any]:
    return {
        "method": requirement.method,
        "path": requirement.path,
        "headers": requirement.headers,
        "trust": target.trust,
        "timeout": timeout,
    }


_CONCLUSIVE = frozenset({HandshakeOutcome.ACCEPTED, HandshakeOutcome.REFUSED})


def _remembered_handshake(
    endpoint: Endpoint, version: str, target: Target, timeout: float
) -> TlsHandshake:
    key = (endpoint, version)
    seen = target.handshakes_seen.get(key)
    if seen is not None:
        # Reported as it was seen, so a report does not depend on test order
        # (a run under pytest-xdist reads the same as a serial one).
        return seen
    handshake = tls_handshake(endpoint, version=version, trust=target.trust, timeout=timeout)
    if handshake.outcome in _CONCLUSIVE:
        target.handshakes_seen[key] = handshake
    return handshake


def _handshakes(
    endpoint: Endpoint, versions: tuple[str, ...], target: Target, timeout: float
) -> list[Probe]:
    return [
        partial(_remembered_handshake, endpoint, version, target, timeout) for version in versions
    ]


def _h2_plan(requirement: Requirement, target: Target, timeout: float) -> list[Probe]:
    https = target.https
    if https is None:
        return [
            _missing("legacy", requirement, "https"),
            _missing("upgraded", requirement, "https"),
        ]
    request = _request(requirement, target, timeout)
    return [
        # An HTTP/1.1-only client: ALPN offers http/1.1 and nothing else.
        partial(http1_exchange, https, role="legacy", alpn=("http/1.1",), **request),
        # A client that can do both, as browsers and httpx do; the server picks (RFC 9113 §3.2).
        partial(http2_exchange, https, role="upgraded", alpn=("h2", "http/1.1"), **request),
        *_handshakes(https, LEGACY_TLS_VERSIONS, target, timeout),
    ]


def _h2c_upgrade_headers() -> list[tuple[str, str]]:
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


def _h2c_plan(requirement: Requirement, target: Target, timeout: float) -> list[Probe]:
    http = target.http
    if http is None:
        return [_missing("legacy", requirement, "http"), _missing("upgraded", requirement, "http")]
    request = _request(requirement, target, timeout)
    upgrade_request = {**request, "headers": (*requirement.headers, *_h2c_upgrade_headers())}
    return [
        partial(http1_exchange, http, role="legacy", **request),
        partial(http2_exchange, http, role="upgraded", **request),
        partial(http1_exchange, http, role="h2c-upgrade", **upgrade_request),
    ]


def _websocket_plan(requirement: Requirement, target: Target, timeout: float) -> list[Probe]:
    from ._websocket import websocket_handshake  # noqa: PLC0415 (websockets only when needed)

    primary = target.https or target.http
    if primary is None:  # pragma: no cover - a target has at least one URL
        return []
    request = _request(requirement, target, timeout)
    plain_get = {**request, "method": "GET"}
    handshake: dict[str, Any] = {
        "path": requirement.path,
        "headers": requirement.headers,
        "trust": target.trust,
        "timeout": timeout,
    }
    probes: list[Probe] = [
        # A plain GET, as a client that does not know the route is a WebSocket sends.
        partial(http1_exchange, primary, role="legacy", **plain_get),
        partial(websocket_handshake, primary, role="upgraded", **handshake),
    ]
    if target.https is not None and target.http is not None:
        probes.append(partial(websocket_handshake, target.http, role="upgraded-ws", **handshake))
    # RFC 6455 §4.2.2: an unsupported Sec-WebSocket-Version must be refused
    # with the versions the server supports. The version is one no server can
    # support (unassigned by IANA; see UNASSIGNED_WEBSOCKET_VERSION).
    version_probe = {
        **plain_get,
        "headers": (
            *requirement.headers,
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Key", base64.b64encode(os.urandom(16)).decode("ascii")),
            ("Sec-WebSocket-Version", UNASSIGNED_WEBSOCKET_VERSION),
        ),
    }
    probes.append(partial(http1_exchange, primary, role="version-probe", **version_probe))
    return probes


def _tls_plan(requirement: Requirement, target: Target, timeout: float) -> list[Probe]:
    required = "TLSv" + requirement.protocol.split("/", 1)[1]  # "TLS/1.3" -> "TLSv1.3"
    request = _request(requirement, target, timeout)
    probes: list[Probe] = []
    if target.http is not None:
        probes.append(partial(http1_exchange, target.http, role="legacy", **request))
    else:
        probes.append(_missing("legacy", requirement, "cleartext (http)"))
    https = target.https
    if https is None:
        probes.append(_missing("upgraded", requirement, "https"))
        return probes
    below = tuple(v for v in TLS_VERSIONS if TLS_VERSIONS[v] < TLS_VERSIONS[required])
    # The request as a current client makes it: HTTP/2 when the server offers
    # it, HTTP/1.1 otherwise; what is judged is the TLS version under it.
    probes.append(
        partial(
            http2_exchange,
            https,
            role="upgraded",
            tls_minimum=required,
            http1_fallback=True,
            **request,
        )
    )
    probes += _handshakes(https, (*below, required), target, timeout)
    return probes


def _http11_plan(requirement: Requirement, target: Target, timeout: float) -> list[Probe]:
    primary = target.https or target.http
    if primary is None:  # pragma: no cover - a target has at least one URL
        return []
    request = _request(requirement, target, timeout)
    return [
        partial(http1_exchange, primary, role="legacy", http_version="1.0", **request),
        partial(http1_exchange, primary, role="upgraded", **request),
    ]


_PLANS: dict[str, Callable[[Requirement, Target, float], list[Probe]]] = {
    "h2": _h2_plan,
    "h2c": _h2c_plan,
    "websocket": _websocket_plan,
    "TLS/1.2": _tls_plan,
    "TLS/1.3": _tls_plan,
    "HTTP/1.1": _http11_plan,
}


def observe(
    requirement: Requirement,
    target: Target,
    *,
    timeout: float,
    executor: Executor | None = None,
) -> Observation:
    """Run every probe of ``requirement`` against ``target`` and collect the records."""
    probes = _PLANS[requirement.protocol](requirement, target, timeout)
    if executor is None:
        results = [probe() for probe in probes]
    else:
        futures = [executor.submit(probe) for probe in probes]
        results = [future.result() for future in futures]
    return Observation(
        requirement=requirement,
        target=target.label,
        bundled=target.bundled,
        exchanges=tuple(r for r in results if isinstance(r, Exchange)),
        handshakes=tuple(r for r in results if isinstance(r, TlsHandshake)),
    )


_NOT_HTTP = frozenset({FailureKind.PROTOCOL, FailureKind.CLOSED, FailureKind.TIMEOUT})


def target_error(observation: Observation) -> str | None:
    """One line when the target could not be evaluated at all (the test errors).

    That is: a probe could not reach it or did not trust it; or no probe got
    any HTTP answer and none was refused by a TLS decision (which would
    itself be the finding): the peer hangs, or does not speak HTTP. When
    other probes were answered, one probe's timeout or broken answer is a
    finding about the protocol it spoke, judged by the checks.
    """
    for exchange in observation.exchanges:
        if exchange.failure is not None and exchange.failure.is_error:
            return f"{exchange.role} probe ({exchange.offered}): {exchange.failure.message}"
    failures = [e.failure for e in observation.exchanges if e.url and e.failure is not None]
    answered = any(e.response is not None for e in observation.exchanges)
    if failures and not answered and all(f.kind in _NOT_HTTP for f in failures):
        roles: dict[str, list[str]] = {}
        for exchange in observation.exchanges:
            if exchange.failure is not None:
                roles.setdefault(exchange.failure.message, []).append(exchange.role)
        causes = "; ".join(f"{' and '.join(r)}: {message}" for message, r in roles.items())
        if all(f.kind is FailureKind.TIMEOUT for f in failures):
            return f"the target did not answer ({causes})"
        return f"the target gave no HTTP answer to any probe ({causes})"
    return None
