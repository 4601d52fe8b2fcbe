"""What the checks share: the requirements they apply to, which exchange is the
426, how a field of it is shown, and the preconditions checks are stacked on.

A precondition decorator turns a check that judges one response into a check
of an observation: where the response it needs is not there, the check is
skipped with the reason, and its body never restates that preamble.
"""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from .._model import (
    Exchange,
    Observation,
    Response,
)
from .._verdict import Verdict
from ..probes.client_cert import GIVE_ONE
from ..protocols import protocol_for, version_tuple
from ..protocols.roles import LEGACY
from ..protocols.tls import TLS12, TLS13
from .registry import CheckFunction

# A check of one response: (observation, the response it is about) -> Verdict.
ResponseCheck = Callable[[Observation, Response], Verdict]

TLS_REQUIREMENTS = (TLS12.token, TLS13.token)


def required_tls(observation: Observation) -> tuple[int, ...]:
    """(1, 3) for a TLS/1.3 requirement."""
    version = version_tuple(observation.requirement.protocol.split("/", 1)[1])
    assert version is not None
    return version


# RFC 9110 §15.4: the redirection statuses that carry a Location to follow.
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class HttpsRedirect:
    """A redirect answering the cleartext request, judged against the request's URL."""

    status: int
    location: str  # as sent
    problem: str  # "" when it leads to the https URL of the same resource

    @property
    def stands_in(self) -> bool:
        return not self.problem


def https_redirect(exchange: Exchange) -> HttpsRedirect | None:
    """The exchange's answer as a redirect, or None when it is not one (or has no Location)."""
    response = exchange.response
    if response is None or response.status not in REDIRECT_STATUSES:
        return None
    location = response.combined("location")
    if not location:
        return None
    # RFC 9110 §10.2.2: a relative Location is resolved against the target URI.
    resolved = urllib.parse.urljoin(exchange.url, location.strip())
    return HttpsRedirect(response.status, location, _destination_problem(exchange.url, resolved))


def _destination_problem(requested: str, resolved: str) -> str:
    """Why ``resolved`` is not the https URL of the resource at ``requested`` ("" when it is)."""
    before, after = urllib.parse.urlsplit(requested), urllib.parse.urlsplit(resolved)
    if after.scheme.lower() != "https":
        return f"it points to {after.scheme or 'a relative'} URL {resolved}, not to https"
    if (after.hostname or "").lower() != (before.hostname or "").lower():
        return f"it points to another host ({after.hostname}), not {before.hostname}"
    if (after.path or "/", after.query) != (before.path or "/", before.query):
        target = before.path + (f"?{before.query}" if before.query else "")
        moved = after.path + (f"?{after.query}" if after.query else "")
        return f"it drops the requested resource ({target} becomes {moved or '/'})"
    return ""


def _describe_failure(exchange: Exchange) -> str:
    assert exchange.failure is not None
    return exchange.failure.message


def _response(observation: Observation, role: str) -> tuple[Response | None, str]:
    """The response of ``role``, or None and why there is none."""
    exchange = observation.exchange(role)
    if exchange is None:
        return None, f"no {role} probe was made"
    if exchange.response is None:
        reason = _describe_failure(exchange) if exchange.failure else "no response"
        return None, f"the {role} probe got no response: {reason}"
    return exchange.response, ""


def upgraded_exchanges(observation: Observation) -> list[Exchange]:
    """Every upgraded exchange, by the roles its protocol declares (WebSocket makes one
    per URL: wss:// and ws://)."""
    roles = protocol_for(observation.requirement.protocol).upgraded_roles
    return [e for e in observation.exchanges if e.role in roles]


def response_of(observation: Observation, role: str) -> tuple[Response | None, str]:
    """The response of the ``role`` exchange, or None and why there is none (a skip reason)."""
    return _response(observation, role)


def the_426(observation: Observation) -> tuple[Response | None, str]:
    """The legacy response when it is a 426; otherwise None and the skip reason."""
    response, reason = _response(observation, LEGACY)
    if response is None:
        return None, reason
    if response.status != 426:
        return None, f"the legacy request was answered with {response.status}, not 426"
    return response, ""


def connection_fields_excluded(response: Response) -> str:
    """Why ``response`` cannot carry Upgrade or Connection ("" when it can)."""
    if response.http_version == "2":
        # RFC 9113 §8.2.2: connection-specific fields are malformed in HTTP/2.
        return (
            "the 426 came over HTTP/2, which cannot carry Upgrade or Connection (RFC 9113 §8.2.2)"
        )
    return ""


def on_the_426(*, connection_fields: bool = False) -> Callable[[ResponseCheck], CheckFunction]:
    """Judge the 426 of the legacy exchange; skipped, with why, when there is none.

    ``connection_fields``: the check reads Upgrade or Connection, so it is
    also skipped on a 426 that came over HTTP/2 (RFC 9113 §8.2.2).
    """

    def decorate(judge: ResponseCheck) -> CheckFunction:
        @functools.wraps(judge)
        def check(observation: Observation) -> Verdict:
            response, reason = the_426(observation)
            if response is None:
                # No 426 to read: status-426 judges the legacy answer, or says why
                # there is none; the rules about a 426's content do not apply.
                return Verdict.not_applicable(reason)
            if connection_fields and (why := connection_fields_excluded(response)):
                return Verdict.not_applicable(why)
            return judge(observation, response)

        return check

    return decorate


def on_the_legacy_answer(*, served: bool = False) -> Callable[[ResponseCheck], CheckFunction]:
    """Judge the legacy exchange's response, whatever its status; skipped when there is none.

    ``served``: the check judges what a still-served legacy answer carries
    (the announcement), so it is skipped when the request was already refused
    with a 426.
    """

    def decorate(judge: ResponseCheck) -> CheckFunction:
        @functools.wraps(judge)
        def check(observation: Observation) -> Verdict:
            response, reason = _response(observation, LEGACY)
            if response is None:
                return Verdict.skip(reason)
            if served and response.status == 426:
                return Verdict.not_applicable("the legacy request is already refused (426)")
            return judge(observation, response)

        return check

    return decorate


def show_field(response: Response, name: str) -> str:
    value = response.combined(name)
    return f"{name.title()}: {value}" if value is not None else f"no {name.title()} field"


# What a server that asked for a client certificate answers when it completed the
# handshake without one, or with one it refuses: nginx's ssl_verify_client on
# answers 400 for its internal 496 ("No required SSL certificate was sent") and
# 495 ("The SSL certificate error"); others answer 403.
_CERTIFICATE_STATUSES = frozenset({400, 403, 495, 496})


def certificate_wanted(observation: Observation) -> str | None:
    """Why the answers are about the client certificate, not the requirement: the server
    asked for one in the TLS handshake (its CertificateRequest, seen by the probe:
    ``Transport.certificate_requested``) and answered every request probe, the legacy
    one and the upgraded ones, with 400 or 403. None without that evidence: then the
    answers are judged as they are. The judge makes such a requirement an error
    (``judge.target_error``); the checks that read those answers give no verdict.
    """
    offered = observation.route.client_cert
    roles = {LEGACY, *protocol_for(observation.requirement.protocol).upgraded_roles}
    answered = [
        (e, e.response.status)
        for e in observation.exchanges
        if e.response is not None and e.role in roles and not (e.offer is not None and e.offer.quic)
    ]
    if not answered or any(status not in _CERTIFICATE_STATUSES for _, status in answered):
        return None
    asked = [
        (e, status)
        for e, status in answered
        if e.transport is not None and e.transport.certificate_requested
    ]
    if not asked:
        return None
    first, status = asked[0]
    where = f"{first.role} probe ({first.offered})"
    if offered is None:
        return (
            f"{where}: the server asked for a client certificate in the TLS handshake, none"
            f" was given, and it answered {status} to every request: a client certificate"
            f" is required; {GIVE_ONE}"
        )
    return (
        f"{where}: the server asked for a client certificate in the TLS handshake and"
        f" answered {status} to every request made with {offered}: it does not accept"
        " that certificate (is it issued by a CA the server trusts, and still valid?)"
    )
