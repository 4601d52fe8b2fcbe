"""What a protocol declares (:class:`Protocol`), and helpers its judges share.

A :class:`Protocol` is everything pytest-upgrade knows about one requirement
token, in one object: its names, what its probes send, how the answers to
them are judged, what enforcement refuses and which client a test body gets.
The registry (``protocols/__init__``) lists them; everything that lists
protocols elsewhere derives from it.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .._model import Exchange, FailureKind, Observation, Refusal, Response
from .._verdict import Verdict
from ..grammar import parse_upgrade
from ..probes.endpoint import ClientTrust
from ..probes.target import Target
from .pieces import Plan
from .roles import UPGRADED

__all__ = [
    "AnswerJudge",
    "ClientOptions",
    "Enforcement",
    "FailureDiagnosis",
    "Protocol",
    "StatusDiagnosis",
    "UpgradeFieldJudge",
    "UpgradedJudge",
    "alpn_verdict",
    "mention",
    "token_verdict",
    "version_tuple",
    "versioned_verdict",
]

# Does the Upgrade field of a 426 (its value given) name this protocol? (RFC 9110 §7.8)
UpgradeFieldJudge = Callable[[Observation, Response, str], Verdict]
# Did this upgraded exchange really use the protocol?
UpgradedJudge = Callable[[Observation, Exchange], Verdict]
# The httpx client options that speak the protocol to a target (ValueError if it cannot).
ClientOptions = Callable[[Target, ClientTrust], dict[str, Any]]
# The 426 a request (scheme, HTTP version, "HTTP/1.1 over http") deserves, or None.
Enforcement = Callable[[str, str, str], Refusal | None]
# Why the upgraded probe failed, when the other exchanges show it (None: they do not).
FailureDiagnosis = Callable[[Observation, Exchange], str | None]
# A protocol's own rule for the status of its upgraded answer (None: the
# generic rule, neither 426 nor 5xx, decides). Given the answer and ``expected``.
AnswerJudge = Callable[[Response, str], Verdict | None]
# A diagnosis of the legacy answer's status particular to the protocol (None: the generic one).
StatusDiagnosis = Callable[[Observation, Response], str | None]


@dataclass(frozen=True)
class Protocol:
    """One requirement token and everything about it.

    ``client_options`` is None when the test body gets a WebSocket rather
    than an HTTP client; ``enforce`` is None when a server cannot refuse the
    legacy protocol for every request (a WebSocket route is a property of a
    path, not of the server). ``legacy_refused`` is False when no 426 can ask
    for the protocol (h3, which is advertised by Alt-Svc): then the checks on a
    426 and the deprecation gate (``after=``) do not apply to it.
    """

    token: str
    aliases: tuple[str, ...]
    # Words that name the protocol in a problem's title/detail (problem-actionable).
    mention: re.Pattern[str]
    roles: tuple[str, ...]  # the exchange roles its plan records
    plan: Plan
    judge_upgrade_field: UpgradeFieldJudge
    judge_upgraded: UpgradedJudge
    client_options: ClientOptions | None
    enforce: Enforcement | None
    # Advice when the upgraded probe failed this way (after the generic ALPN one).
    failure_hints: Mapping[FailureKind, str] = field(default_factory=lambda: MappingProxyType({}))
    # The lowest TLS version a server enforcing this protocol accepts: a refused
    # handshake cannot carry a 426, so TLS versions are enforced in the handshake.
    server_tls_minimum: ssl.TLSVersion | None = None
    legacy_refused: bool = True
    # Consulted before ``failure_hints``: a diagnosis drawn from the other exchanges.
    diagnose: FailureDiagnosis | None = None
    # What the upgraded answer must be (upgraded-succeeds), and the protocol's own
    # rules for its status, judged after "426" and before "5xx".
    upgraded_success: str = "a status other than 426 and 5xx"
    judge_upgraded_answer: AnswerJudge | None = None
    # Why the upgraded request, too, got a 426, when the protocol knows (None: the
    # generic explanation, a refusal decided behind a proxy).
    also_refused: str | None = None
    # A diagnosis of a legacy status (status-426) particular to the protocol.
    diagnose_legacy_status: StatusDiagnosis | None = None
    # A permanent redirect to the https URL stands in for the 426 (status-426):
    # true of TLS requirements, whose cleartext URL is the legacy protocol.
    https_redirect_stands_in: bool = False
    # A browser application's request of this protocol is a CORS request (Fetch
    # §3.2): with an origin, the probes send the preflight it needs. Not for a
    # WebSocket handshake, whose Origin the server checks itself (RFC 6455 §10.2).
    cors: bool = True
    # The roles of its requests made with the protocol, whose answers the checks on
    # the upgraded answer judge: the upgraded request, and any repeat of it over
    # another URL of the target.
    upgraded_roles: tuple[str, ...] = (UPGRADED,)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.token, *self.aliases)

    @property
    def websocket_client(self) -> bool:
        """Whether a test body gets a WebSocket (``upgrade.websocket``) rather than httpx."""
        return self.client_options is None


def mention(pattern: str) -> re.Pattern[str]:
    """A protocol name standing as a word: not inside another token or version."""
    return re.compile(rf"(?<![\w/.-])(?:{pattern})(?![\w-]|[./]\d)", re.IGNORECASE)


def version_tuple(text: str | None) -> tuple[int, ...] | None:
    """(1, 2) for "1.2"; None when ``text`` is not DIGIT.DIGIT-like (a protocol-version)."""
    if text is None:
        return None
    parts = text.split(".")
    if not all(part.isdigit() for part in parts):
        return None
    return tuple(int(part) for part in parts)


_NOT_TOLD = "The client is not told to switch to the protocol the requirement declares."


def token_verdict(value: str, wanted: str, label: str) -> Verdict:
    """Does Upgrade list the token ``wanted``, versionless (names compare case-insensitively)?"""
    expected = f"Upgrade listing {label}"
    actual = f"Upgrade: {value}"
    if any(p.name.lower() == wanted and p.version is None for p in parse_upgrade(value).protocols):
        return Verdict.ok(f"Upgrade names {label}", expected=expected, actual=actual)
    return Verdict.violated(
        f"Upgrade does not name {label}", expected=expected, actual=actual, diagnosis=_NOT_TOLD
    )


def versioned_verdict(value: str, name: str, minimum: tuple[int, ...], label: str) -> Verdict:
    """Does Upgrade list ``name``/x.y with x.y at least ``minimum``?"""
    expected = f"Upgrade listing {label}"
    actual = f"Upgrade: {value}"
    offered = [p for p in parse_upgrade(value).protocols if p.name.lower() == name]
    good = [p for p in offered if (version_tuple(p.version) or (0,)) >= minimum]
    if good:
        return Verdict.ok(f"Upgrade names {good[0]}", expected=expected, actual=actual)
    if offered:
        return Verdict.violated(
            f"Upgrade names {', '.join(map(str, offered))}, which does not satisfy {label}",
            expected=expected,
            actual=actual,
            diagnosis="Name the protocol with its version, at least the one required.",
        )
    return Verdict.violated(
        f"Upgrade does not name {label}", expected=expected, actual=actual, diagnosis=_NOT_TOLD
    )


def alpn_verdict(
    exchange: Exchange,
    alpn_id: str,
    *,
    name: str,
    how: str,
    expected: str,
    actual: str,
    diagnosis: str,
) -> Verdict:
    """Was ``alpn_id`` selected for the upgraded exchange (``how``: " by ALPN"), and
    did ``name`` answer over it?"""
    assert exchange.transport is not None
    if exchange.transport.alpn != alpn_id:
        return Verdict.violated(
            f"{name} was not negotiated", expected=expected, actual=actual, diagnosis=diagnosis
        )
    if exchange.response is None:
        return Verdict.skip(
            f"{alpn_id} was negotiated but no response arrived: {no_response(exchange)}"
        )
    return Verdict.ok(f"{name} was negotiated{how}", expected=expected, actual=actual)


def no_response(exchange: Exchange, default: str = "nothing") -> str:
    """Why an exchange has no response to judge: its failure, or ``default``."""
    return exchange.failure.message if exchange.failure else default
