"""Where the probes go (:class:`Target`), what a probe is (:data:`Probe`), and TLS
version handshakes (:class:`HandshakeProbe`), which a session's
:class:`HandshakeCache` answers once per host, port and version.

A protocol's probe plan (in ``protocols/``) is a list of :data:`Probe`
callables. Every probe is given how to connect (:meth:`Target.spec_for`) and,
when it makes a request, what to send.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from .._model import Exchange, HandshakeOutcome, Route, TlsHandshake
from .endpoint import ClientTrust, Endpoint
from .proxy import Proxy, TunnelDialer
from .spec import ConnectionSpec
from .tls import tls_handshake

__all__ = [
    "LEGACY_TLS_VERSIONS",
    "HandshakeCache",
    "HandshakeKey",
    "HandshakeProbe",
    "Made",
    "Probe",
    "Target",
    "handshakes",
]


@dataclass(frozen=True)
class Target:
    """Where the probes go: an https and/or an http base URL, and whom to trust."""

    https: Endpoint | None
    http: Endpoint | None
    trust: ClientTrust = field(compare=False)
    cafile: str | None = None  # shown in reproduce commands (curl --cacert)
    bundled: bool = False
    # Whether TLS requirements try the in-band upgrade (RFC 2817) on the http URL: a
    # live target, always; the bundled server, when it was told it can (tls_upgrade).
    in_band_tls: bool = True
    # Request headers of every probe to this target, as declared (the run's
    # --upgrade-header, then the deployment's header=); a requirement's own win.
    headers: tuple[tuple[str, str], ...] = ()
    # The node the probes connect to: one address of the primary URL's name (a
    # node of a pool, or an address given with --upgrade-resolve); None: by name.
    # The http URL goes there too when its host is the same name; another host's
    # URL is connected to by its name.
    address: str | None = None
    # The egress proxy every TCP probe of this target tunnels through (None: direct).
    proxy: TunnelDialer | None = field(default=None, compare=False)

    @property
    def primary(self) -> Endpoint:
        """The https URL, else the http one: where a probe goes that either can take."""
        endpoint = self.https or self.http
        if endpoint is None:
            raise ValueError("a target has at least one URL")
        return endpoint

    def spec_for(self, endpoint: Endpoint, timeout: float) -> ConnectionSpec:
        """How this target's probes connect to ``endpoint`` (one of its URLs), each
        within ``timeout``. What a deployment adds to the way of connecting (a node's
        address, a proxy, a client certificate) is added here, to the spec."""
        address = self.address_for(endpoint)
        if self.proxy is not None:
            # Through the proxy's tunnel, to the node's address when there is one.
            return ConnectionSpec(endpoint, self.trust, timeout, address=address, dialer=self.proxy)
        return ConnectionSpec(endpoint, self.trust, timeout, address=address)

    def address_for(self, endpoint: Endpoint) -> str | None:
        """The node's address for ``endpoint``: this target's, when the endpoint's host is
        the name that was resolved (the primary URL's); None (by name) for another host."""
        if self.address is None or endpoint.host.lower() != self.primary.host.lower():
            return None
        return self.address

    @property
    def route(self) -> Route:
        """How the probes reach this target, as the reports and reproduce commands say it."""
        proxy = self.proxy.proxy if self.proxy is not None else None
        return Route(
            address=self.address,
            proxy=proxy.url if proxy is not None else None,
            client_cert=self.trust.cert,
            client_key=self.trust.key,
            proxy_auth=proxy is not None and proxy.has_credentials,
        )

    def through(self, proxy: Proxy | None) -> Target:
        """This target with its TCP probes tunnelled through ``proxy`` (None: direct)."""
        return replace(self, proxy=TunnelDialer(proxy) if proxy is not None else None)

    @property
    def label(self) -> str:
        endpoints = [e for e in (self.https, self.http) if e is not None]
        return " and ".join(e.url("") for e in endpoints)

    @classmethod
    def from_urls(
        cls,
        urls: Sequence[str],
        *,
        cafile: str | None = None,
        trust: ClientTrust | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> Target:
        """A live target from one https and/or one http base URL (ValueError if not).

        ``trust`` shares one :class:`ClientTrust` (and its TLS contexts) between
        targets; else the target gets its own, trusting ``cafile``.
        """
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
        trust = trust or ClientTrust(cafile)
        return cls(
            https=endpoints.get("https"),
            http=endpoints.get("http"),
            trust=trust,
            cafile=trust.cafile,
            headers=headers,
        )


# A probe records one exchange or handshake, or several exchanges made on one
# connection; it returns None when it finds it need not be made (it depends on
# another probe's answer).
Made = Exchange | TlsHandshake | tuple[Exchange, ...] | None
Probe = Callable[[], Made]
LEGACY_TLS_VERSIONS = ("TLSv1", "TLSv1.1")


_CONCLUSIVE = frozenset({HandshakeOutcome.ACCEPTED, HandshakeOutcome.REFUSED})


# What a version handshake's answer depends on: the server name, the peer's host and
# port, the version offered, the CA file.
HandshakeKey = tuple[str, str, int, str, str | None]


@dataclass(frozen=True)
class HandshakeProbe:
    """A bare TLS handshake offering one version; calling it makes the handshake."""

    spec: ConnectionSpec
    version: str

    @property
    def endpoint(self) -> Endpoint:
        return self.spec.endpoint

    @property
    def key(self) -> HandshakeKey:
        # Whether a server takes TLS 1.0 depends on the name asked for (SNI) and
        # where the connection goes (its spec's peer), not on the path; the CA
        # file only changes the wording of an accepted handshake whose
        # certificate does not verify.
        host, port = self.spec.peer
        return (self.spec.server_name, host, port, self.version, self.spec.trust.cafile)

    def __call__(self) -> TlsHandshake:
        return tls_handshake(self.spec, version=self.version)


class HandshakeCache:
    """The session's conclusive TLS version handshakes, by name, peer, version and CA file.

    Owned by the session (``glue.settings.Settings``), so deployments and
    requirements sharing a host and port share the answers, and a fleet run
    asks each server once. The first conclusive answer stays: every later
    requirement reports it as it was seen, so a report does not depend on
    test order (a run under pytest-xdist reads the same as a serial one).
    Inconclusive answers (an error, a client that cannot offer the version,
    a server answering about something other than the version) are not
    remembered: the next requirement asks again. Requirements asking
    at the same moment (probed ahead together, ``glue.ahead``) make one
    handshake: the others wait for it and take its answer, whatever it is, as
    the same moment's answer (one per key at a time, so a hanging server
    holds them for one timeout, not one each).
    """

    def __init__(self) -> None:
        self._seen: dict[HandshakeKey, TlsHandshake] = {}
        self._latest: dict[HandshakeKey, TlsHandshake] = {}
        self._asking: dict[HandshakeKey, threading.Lock] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def handshake(self, probe: HandshakeProbe) -> TlsHandshake:
        """The remembered answer to ``probe``, else its own (remembered when conclusive)."""
        key = probe.key
        with self._lock:
            seen = self._seen.get(key)
            before = self._latest.get(key)
            asking = self._asking.setdefault(key, threading.Lock())
        if seen is not None:
            return seen
        with asking:
            with self._lock:
                seen = self._seen.get(key)
                latest = self._latest.get(key)
            if seen is not None:
                return seen
            if latest is not None and latest is not before:
                return latest  # asked while this probe waited
            handshake = probe()
            with self._lock:
                self._latest[key] = handshake
                if handshake.outcome in _CONCLUSIVE:
                    self._seen.setdefault(key, handshake)
            return handshake


def handshakes(spec: ConnectionSpec, versions: tuple[str, ...]) -> list[Probe]:
    """One handshake probe per TLS version (a session's cache answers repeats)."""
    return [HandshakeProbe(spec, version) for version in versions]
