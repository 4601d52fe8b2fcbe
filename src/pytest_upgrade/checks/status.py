"""The status of the answer to the legacy request: a 426, and why not."""

from __future__ import annotations

from .._evidence import failure_diagnosis
from .._model import (
    Exchange,
    FailureKind,
    Observation,
    Severity,
)
from .._verdict import Verdict
from ..protocols import REFUSED, protocol_for
from ..protocols.roles import LEGACY
from .preconditions import certificate_wanted, https_redirect
from .registry import Phase
from .registry import check as _check
from .rejected import both_rejected, rejection_diagnosis

# -- checks on the 426 response -------------------------------------------------

_STATUS_DIAGNOSES: dict[int, str] = {
    400: (
        "400 rejects the request without telling the client what to do; 426 with an Upgrade"
        " field names the protocol to switch to (RFC 9110 §15.5.22)."
    ),
    403: (
        "403 says the request is forbidden, not that another protocol would be served;"
        " clients will not retry with an upgrade."
    ),
    404: (
        "404 hides the route from this protocol (typical of a route registered only for the"
        " new protocol, such as a WebSocket-only endpoint seen by a plain GET); answer 426 so"
        " clients learn how to reach it."
    ),
    505: (
        "505 HTTP Version Not Supported refuses the version but cannot say which protocol to"
        " use instead; 426 carries that in its Upgrade field (RFC 9110 §15.5.22, §15.6.6)."
    ),
}


def _status_diagnosis(observation: Observation, exchange: Exchange) -> str:
    assert exchange.response is not None
    response = exchange.response
    status = response.status
    protocol = observation.requirement.protocol
    left = observation.days_left
    if 200 <= status < 300 and left is not None and left <= 0:
        when = f"passed {-left} day(s) ago" if left else "is today"
        return (
            f"The deadline {observation.requirement.after} {when}"
            " and the old protocol is still served: switch enforcement on (answer legacy"
            " requests with 426), or move the announced deadline."
        )
    if (rejected := both_rejected(observation)) is not None:
        return rejection_diagnosis(observation, *rejected)
    own = protocol_for(protocol).diagnose_legacy_status
    if own is not None and (diagnosis := own(observation, response)):
        return diagnosis
    if 200 <= status < 300:
        return (
            f"The legacy protocol is still served: the {protocol} requirement is not enforced."
            " Answer legacy requests on this path with 426, an Upgrade field and a problem body."
        )
    if protocol_for(protocol).https_redirect_stands_in and 300 <= status < 400:
        redirect = https_redirect(exchange)
        if redirect is None:
            return (
                f"The {status} carries no Location to follow (RFC 9110 §10.2.2): redirect to the"
                " https URL of the same resource, with 308."
            )
        return (
            "A redirect stands in for the 426 only when it leads to the same resource over"
            f" https, and {redirect.problem}: send `Location: https://HOST` followed by the"
            " requested path and query."
        )
    if 300 <= status < 400:
        return (
            "A redirect cannot make a client switch protocol version (the URL does not change"
            " how HTTP is spoken); only a TLS requirement may redirect to https."
        )
    if status in _STATUS_DIAGNOSES:
        return _STATUS_DIAGNOSES[status]
    if status >= 500:
        return failure_diagnosis(observation, response, "the legacy request")
    return _STATUS_DIAGNOSES.get(status, "")


@_check(
    "status-426",
    Severity.MUST,
    "RFC 9110 §15.5.22",
    "The legacy request is answered with 426 Upgrade Required.",
    REFUSED,
    phase=Phase.REFUSAL,
)
def check_status_426(observation: Observation) -> Verdict:
    exchange = observation.exchange(LEGACY)
    if exchange is None:
        return Verdict.skip("no legacy probe was made")
    wanted = certificate_wanted(observation)
    if wanted is not None:
        return Verdict.skip(wanted)  # the requirement errors: no verdict on these answers
    if exchange.response is None:
        failure = exchange.failure
        if failure is None:  # pragma: no cover - an exchange has one or the other
            return Verdict.skip("the legacy probe recorded nothing")
        # A client certificate missing or refused: the requirement errors, no verdict here.
        if failure.kind in (
            FailureKind.UNSUPPORTED,
            FailureKind.NOT_APPLICABLE,
            FailureKind.CLIENT_CERTIFICATE,
        ):
            return Verdict.skip(failure.message)
        if failure.kind is FailureKind.TLS_REFUSED:
            return Verdict.violated(
                "the legacy request was refused during the TLS handshake",
                expected="426 Upgrade Required",
                actual=failure.message,
                diagnosis=(
                    f"The server refuses {exchange.offered} at the TLS/ALPN layer, so old clients"
                    " see a handshake error instead of an actionable 426. Accept the legacy"
                    " protocol in ALPN and answer its requests with 426."
                ),
            )
        return Verdict.violated(
            "the legacy request got no HTTP response",
            expected="426 Upgrade Required",
            actual=failure.message,
            diagnosis="Old clients see a broken connection instead of an actionable 426.",
        )
    status = exchange.response.status
    if status == 426:
        return Verdict.ok(
            "the legacy request was answered with 426", actual=exchange.response.status_line
        )
    protocol = protocol_for(observation.requirement.protocol)
    redirect = https_redirect(exchange) if protocol.https_redirect_stands_in else None
    if redirect is not None and redirect.stands_in:
        # RFC 9110 §15.4: any redirect to the same resource over https refuses
        # cleartext; redirect-permanent and redirect-keeps-method judge its status.
        return Verdict.ok(
            f"the cleartext request was redirected to the same resource over https ({status}),"
            " which a TLS requirement allows",
            actual=f"{exchange.response.status_line}, Location: {redirect.location}",
        )
    return Verdict.violated(
        f"the legacy request was answered with {status}, not 426",
        expected="426 Upgrade Required",
        actual=exchange.response.status_line,
        diagnosis=_status_diagnosis(observation, exchange),
    )
