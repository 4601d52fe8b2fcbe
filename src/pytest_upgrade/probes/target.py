"""Where the probes go (:class:`Target`), and the pieces probe plans are made of.

A protocol's probe plan (in ``protocols/``) is a list of :data:`Probe`
callables built from these: the request as the requirement declares it, a
stand-in when the target has no URL of the needed scheme, and TLS version
handshakes remembered per endpoint for the session.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from .._model import (
    Exchange,
    FailureKind,
    HandshakeOutcome,
    ProbeFailure,
    Requirement,
    TlsHandshake,
)
from .endpoint import ClientTrust, Endpoint
from .tls import tls_handshake

__all__ = [
    "LEGACY_TLS_VERSIONS",
    "Plan",
    "Probe",
    "Target",
    "handshakes",
    "missing",
    "request_options",
]


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
    # One lock per (endpoint, version): requirements probed at once ask once,
    # not once each (glue.ahead probes many requirements of a target together).
    _handshake_locks: dict[tuple[Endpoint, str], threading.Lock] = field(
        default_factory=dict, compare=False, repr=False
    )
    _locks_lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)
    # The latest handshake of each key, conclusive or not: probes that waited
    # for it take it rather than asking again (a hanging server would
    # otherwise hold each of them for a timeout, one after another).
    _latest_handshake: dict[tuple[Endpoint, str], TlsHandshake] = field(
        default_factory=dict, compare=False, repr=False
    )

    def handshake_lock(self, endpoint: Endpoint, version: str) -> threading.Lock:
        """The lock under which the handshake of ``version`` with ``endpoint`` is asked."""
        with self._locks_lock:
            return self._handshake_locks.setdefault((endpoint, version), threading.Lock())

    @property
    def primary(self) -> Endpoint:
        """The https URL, else the http one: where a probe goes that either can take."""
        endpoint = self.https or self.http
        if endpoint is None:
            raise ValueError("a target has at least one URL")
        return endpoint

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
# What a protocol sends for a requirement: (requirement, target, timeout) -> probes.
Plan = Callable[[Requirement, Target, float], list[Probe]]

LEGACY_TLS_VERSIONS = ("TLSv1", "TLSv1.1")


def missing(role: str, requirement: Requirement, needs: str) -> Probe:
    """A probe that records why it could not be made: the target lacks a URL."""

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


def request_options(requirement: Requirement, target: Target, timeout: float) -> dict[str, Any]:
    """The keyword arguments of a probe making the requirement's request."""
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
    lock = target.handshake_lock(endpoint, version)
    before = target._latest_handshake.get(key)
    with lock:
        seen = target.handshakes_seen.get(key)
        if seen is not None:
            # Reported as it was seen, so a report does not depend on test order
            # (a run under pytest-xdist reads the same as a serial one).
            return seen
        latest = target._latest_handshake.get(key)
        if latest is not None and latest is not before:
            return latest  # asked while this probe waited: the same moment's answer
        handshake = tls_handshake(endpoint, version=version, trust=target.trust, timeout=timeout)
        target._latest_handshake[key] = handshake
        if handshake.outcome in _CONCLUSIVE:
            target.handshakes_seen[key] = handshake
        return handshake


def handshakes(
    endpoint: Endpoint, versions: tuple[str, ...], target: Target, timeout: float
) -> list[Probe]:
    """One handshake probe per TLS version, each asked once per endpoint and session."""
    return [
        partial(_remembered_handshake, endpoint, version, target, timeout) for version in versions
    ]
