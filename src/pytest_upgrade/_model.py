"""Frozen values shared by the probes, the checks and the reports.

Nothing in here does I/O. The probes produce :class:`Exchange` and
:class:`TlsHandshake` records, the checks turn an :class:`Observation` into
:class:`Finding` values, and the reports render those.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from dataclasses import dataclass

__all__ = [
    "Exchange",
    "FailureKind",
    "Finding",
    "HandshakeOutcome",
    "Observation",
    "Offer",
    "Outcome",
    "ProbeFailure",
    "Refusal",
    "Requirement",
    "Response",
    "Route",
    "Severity",
    "TlsHandshake",
    "Transport",
    "requirement_line",
]


class Severity(enum.Enum):
    """How much a violated check weighs (see docs/checks.md)."""

    MUST = "must"
    SHOULD = "should"
    INFO = "info"


class Outcome(enum.Enum):
    """What became of one check for one requirement."""

    PASSED = "passed"
    FAILED = "failed"
    WARNED = "warned"
    SKIPPED = "skipped"
    # An information-only check saw something other than its rule describes:
    # neither a pass (there is no evidence the rule holds) nor a failure.
    NOTED = "noted"
    # The check itself raised: nothing is known of its rule, and the
    # requirement cannot be evaluated (an error of it, never a skip or a pass).
    ERROR = "error"


def requirement_line(protocol: str, method: str, path: str, after: str | None = None) -> str:
    """``h2 GET /v2/orders after=2027-03-01``: a requirement as every report names it.

    Without ``after`` (``Requirement.describe(deadline=False)``), the line a
    failure's fingerprint and the JUnit properties name it by.
    """
    text = f"{protocol} {method} {path}"
    return f"{text} after={after}" if after else text


@dataclass(frozen=True)
class Requirement:
    """One ``requires_upgrade`` marker (or declarative requirement), validated.

    ``protocol`` is the canonical token (``"h2"`` for the alias ``HTTP/2``).
    """

    protocol: str
    path: str = "/"
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    after: dt.date | None = None
    # The origin of a browser application calling the API (RFC 6454 §6.2
    # serialization): the probes send it as Origin, and the CORS checks judge.
    origin: str | None = None
    # WebSocket only: the subprotocols every handshake offers (RFC 6455 §4.1,
    # Sec-WebSocket-Protocol), preferred first; and whether the handshake
    # probes send an Origin derived from the target when headers= gives none.
    subprotocols: tuple[str, ...] = ()
    default_origin: bool = True

    def describe(self, *, deadline: bool = True) -> str:
        """``h2 GET /v2/orders after=2027-03-01`` (:func:`requirement_line`)."""
        after = self.after.isoformat() if deadline and self.after is not None else None
        return requirement_line(self.protocol, self.method, self.path, after)

    def days_left(self, as_of: dt.date | None) -> int | None:
        """The days from ``as_of`` to the ``after=`` deadline: positive before it, 0 on
        the day (enforced from then on), negative once passed; None without either.

        The one place deadlines are counted: the checks' phase, the failure
        report and the JSON report's ``days_left`` all read it.
        """
        if self.after is None or as_of is None:
            return None
        return (self.after - as_of).days


@dataclass(frozen=True)
class Response:
    """An HTTP response as it arrived.

    Header names are lower-cased; order and repeated fields are kept, because
    a recipient must combine repeated fields (RFC 9110 §5.3) and the checks do
    that themselves.
    """

    status: int
    http_version: str  # "1.0", "1.1", "2" or "3"
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    reason: str = ""
    body_truncated: bool = False

    def values(self, name: str) -> list[str]:
        """Every field value of ``name``, in order of arrival."""
        wanted = name.lower()
        return [value for key, value in self.headers if key == wanted]

    def combined(self, name: str) -> str | None:
        """The field values of ``name`` joined with ", " (RFC 9110 §5.3), or None."""
        values = self.values(name)
        return ", ".join(values) if values else None

    @property
    def status_line(self) -> str:
        reason = f" {self.reason}" if self.reason else ""
        return f"HTTP/{self.http_version} {self.status}{reason}"


@dataclass(frozen=True)
class Transport:
    """What the connection under an exchange negotiated."""

    scheme: str  # "https" or "http"
    tls_version: str | None = None  # as ssl reports it: "TLSv1.3"
    alpn: str | None = None  # the ALPN protocol the server selected
    # The server asked for a client certificate (a CertificateRequest in its handshake,
    # RFC 8446 §4.3.2): what its answer then says may be about the certificate.
    certificate_requested: bool = False
    # The request went over a kept-alive connection an earlier request opened
    # (RFC 9112 §9.3); the TLS facts above are that connection's handshake's.
    reused: bool = False


class FailureKind(enum.Enum):
    """Why a probe produced no response.

    The kind decides how the failure is reported: the target could not be
    evaluated at all (an error of the test), or the target's behaviour is
    itself the finding (a failed check), or this client could not even ask
    (the dependent checks are skipped).
    """

    UNREACHABLE = "unreachable"  # connect refused, no route, name not resolved
    TIMEOUT = "timeout"  # no complete answer within the probe timeout
    CERTIFICATE = "certificate"  # the server's certificate did not verify
    TLS_REFUSED = "tls-refused"  # the server refused the TLS handshake (alert/close)
    # The server asked for a client certificate and got none, or refused the one given.
    CLIENT_CERTIFICATE = "client-certificate"
    ALPN_MISMATCH = "alpn-mismatch"  # TLS worked but the wanted protocol was not selected
    PROTOCOL = "protocol"  # the peer's bytes were not valid for the protocol spoken
    CLOSED = "closed"  # the connection closed or was reset before a full response
    UNSUPPORTED = "unsupported"  # this client cannot make the probe (inconclusive)
    NOT_APPLICABLE = "not-applicable"  # the target has no URL the probe needs
    # The egress proxy failed (down, refused CONNECT, timed out, not HTTP): says
    # nothing about the target, so the test errors naming the proxy.
    PROXY = "proxy"


@dataclass(frozen=True)
class ProbeFailure:
    kind: FailureKind
    message: str  # one line, names what went wrong

    @property
    def is_error(self) -> bool:
        """True when the target cannot be evaluated whatever else was seen: the test errors.

        A timeout is judged with the other probes (see ``target_error``).
        """
        return self.kind in {
            FailureKind.UNREACHABLE,
            FailureKind.CERTIFICATE,
            FailureKind.CLIENT_CERTIFICATE,
            FailureKind.PROXY,
        }


@dataclass(frozen=True)
class Offer:
    """What a probe's client offered, as data: reproduce commands are built from it.

    ``http_versions`` lists the HTTP versions offered, preferred first ("3",
    "2", "1.1"); ``alpn`` the ALPN offer over TLS; ``tls_minimum`` the lowest TLS
    version offered ("TLSv1.2"), when the probe raised it.
    """

    http_versions: tuple[str, ...]
    tls: bool
    alpn: tuple[str, ...] = ()
    tls_minimum: str | None = None
    websocket: bool = False
    # The Upgrade token of an in-band TLS upgrade (RFC 2817), "TLS/1.2": over
    # cleartext the OPTIONS * asking for it, over TLS the request after it.
    tls_upgrade: str | None = None

    @property
    def prior_knowledge(self) -> bool:
        """HTTP/2 over cleartext without an upgrade (RFC 9113 §3.3)."""
        return self.http_versions[0] == "2" and not self.tls

    @property
    def quic(self) -> bool:
        """HTTP/3, over QUIC (RFC 9114): an alternative service, not the origin's TCP port."""
        return self.http_versions[0] == "3"

    def describe(self) -> str:
        """For people: "HTTP/1.1 over TLS, ALPN http/1.1"."""
        over = "over TLS" if self.tls else "over cleartext"
        if self.websocket and self.http_versions[0] == "2":
            return f"WebSocket over HTTP/2 (RFC 8441 extended CONNECT) {over}, ALPN h2"
        if self.quic:
            return "HTTP/3 over QUIC, ALPN " + ", ".join(self.alpn)
        if self.websocket:
            return f"WebSocket handshake (RFC 6455, version 13) {over}"
        if self.tls_upgrade is not None and not self.tls:
            return f"OPTIONS * with Upgrade: {self.tls_upgrade} (RFC 2817 §3.2) {over}"
        text = " or ".join(f"HTTP/{version}" for version in self.http_versions) + f" {over}"
        if self.tls_upgrade is not None:
            text += f" started in-band on the cleartext connection ({self.tls_upgrade}, RFC 2817)"
        if self.tls and self.alpn:
            text += ", ALPN " + ", ".join(self.alpn)
        if self.tls and self.tls_minimum is not None:
            text += f", {self.tls_minimum} or later"
        if self.prior_knowledge:
            text += " with prior knowledge"
        return text


class AnsweredBy(enum.StrEnum):
    """Who produced a response, where the bundled server can tell."""

    UNKNOWN = ""  # a live target: nobody can tell
    APP = "app"
    SERVER = "server"  # the bundled hypercorn, before the app saw the request


@dataclass(frozen=True)
class Exchange:
    """One request a probe made, and what came back (a response or a failure)."""

    role: str  # which request of its plan: a role its protocol names (protocols.roles, ...)
    url: str
    method: str
    offered: str  # what the client offered, for people: "HTTP/1.1 over TLS, ALPN http/1.1"
    request_headers: tuple[tuple[str, str], ...] = ()
    transport: Transport | None = None
    response: Response | None = None
    failure: ProbeFailure | None = None
    answered_by: AnsweredBy = AnsweredBy.UNKNOWN
    offer: Offer | None = None  # ``offered`` as data (None: no request was made)
    # The header fields the app handed the bundled server for this response
    # (names lower-cased), where the server changes them on the way out
    # (hypercorn drops connection-specific fields from HTTP/2 responses).
    # None: not recorded (a live target, or no such answer was seen).
    app_headers: tuple[tuple[str, str], ...] | None = None
    # How a round trip over an opened WebSocket ended, for people: "Pong received",
    # or the route's own clean Close (RFC 8441 probe; "" elsewhere).
    round_trip: str = ""


class HandshakeOutcome(enum.Enum):
    ACCEPTED = "accepted"  # the server completed a handshake at this version
    REFUSED = "refused"  # alert, close or a higher version during the handshake
    CLIENT_CANNOT_OFFER = "client-cannot-offer"  # failed before anything was sent
    ERROR = "error"  # could not connect, timed out: says nothing about the version
    # The server answered about something else than the version (an ALPN or SNI
    # alert, say), also when asked once more without that extension.
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class TlsHandshake:
    """A bare TLS handshake at one protocol version (no HTTP on top)."""

    version: str  # "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"
    outcome: HandshakeOutcome
    detail: str = ""  # alert name, negotiated version, or the local reason
    # What the handshake the outcome rests on offered, for reproduce commands:
    # its ALPN list, and whether it sent the host name (SNI, RFC 6066 §3).
    alpn: tuple[str, ...] = ()
    sni: bool = True


@dataclass(frozen=True)
class Route:
    """How the probes reached the target, for the reports and reproduce commands."""

    address: str | None = None  # the node's address (None: connected by name)
    proxy: str | None = None  # the proxy, "http://HOST:PORT" (never credentials)
    client_cert: str | None = None  # the PEM file offered as client certificate
    client_key: str | None = None  # its key file, when separate
    # The proxy was given credentials (never kept here): reproduce commands ask for them.
    proxy_auth: bool = False


@dataclass(frozen=True)
class Observation:
    """Everything the probes recorded for one requirement against one target."""

    requirement: Requirement
    target: str  # the base URL the probes used, for people
    exchanges: tuple[Exchange, ...] = ()
    handshakes: tuple[TlsHandshake, ...] = ()
    # The evaluation date: deadlines are judged as of this day (the run's one
    # date, --upgrade-as-of); None in hand-built values.
    as_of: dt.date | None = None
    # True when the target is the bundled server running the app; False for a
    # live target (--upgrade-target), where no traceback can be seen.
    bundled: bool = False
    # The tracebacks the bundled server recorded while the app served the
    # probes; a diagnosis points at them only when there are some.
    app_errors: tuple[str, ...] = ()
    # When the probes ran (aware, UTC): the instant the checks compare HTTP
    # dates with (Expires, Sunset), so that no check reads the clock; not the
    # evaluation date (as_of), which a run may set to another day. None in
    # hand-built values.
    observed_at: dt.datetime | None = None
    # What the bundled server was enforcing (--upgrade-enforce, the ini option
    # or the upgrade_enforce marker) while the probes ran: the probes bypass
    # it, so the answers judged are the app's own.
    enforced: tuple[str, ...] = ()
    # How the probes reached a live target (a node's address, a proxy, a client
    # certificate): the reports and reproduce commands say it (Target.route).
    route: Route = Route()

    @property
    def days_left(self) -> int | None:
        """The days from ``as_of`` to the requirement's deadline (:meth:`Requirement.days_left`)."""
        return self.requirement.days_left(self.as_of)

    @property
    def before_deadline(self) -> bool:
        """True when the requirement has a deadline that has not come as of ``as_of``."""
        left = self.days_left
        return left is not None and left > 0

    def exchange(self, role: str) -> Exchange | None:
        for exchange in self.exchanges:
            if exchange.role == role:
                return exchange
        return None


@dataclass(frozen=True)
class Finding:
    """The result of one check against one observation."""

    check_id: str
    severity: Severity
    outcome: Outcome
    message: str
    rfc: str = ""
    expected: str = ""
    actual: str = ""
    diagnosis: str = ""
    # False for a skipped check whose rule does not apply to what the server did
    # (no 426 to read, no 101 to follow): it is not a must-check "not run".
    applies: bool = True


@dataclass(frozen=True)
class Refusal:
    """The 426 to send, and why."""

    upgrade: str  # the Upgrade field value
    required: str  # for people: "HTTP/2 over TLS"
    spoken: str  # what the request used: "HTTP/1.1 over https"

    def headers(self) -> list[tuple[str, str]]:
        # RFC 9110 §15.5.22 (Upgrade in a 426), §7.8 (Connection: upgrade),
        # RFC 9457 §3 (problem+json); a refusal must not be cached (RFC 9111).
        return [
            ("upgrade", self.upgrade),
            ("connection", "upgrade"),
            ("content-type", "application/problem+json"),
            ("cache-control", "no-store"),
        ]

    def body(self, method: str, path: str) -> bytes:
        problem = {
            "type": "about:blank",
            "title": "Upgrade Required",
            "status": 426,
            "detail": f"{method} {path} was requested over {self.spoken}; this server requires"
            f" {self.required}. Retry the request over {self.required}.",
        }
        return json.dumps(problem).encode()
