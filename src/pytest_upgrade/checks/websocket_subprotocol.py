"""``websocket-subprotocol``: the server selects at most one of the offered subprotocols.

RFC 6455 §4.1 (client item 10, and the client's checks of the answer, item 6):
a client offers subprotocols in ``Sec-WebSocket-Protocol`` and MUST fail the
connection when the 101 names one it did not offer. §4.2.2 step 5.4: the
server selects one of them, or none (null). §11.3.4: the field MUST NOT appear
more than once in a response, and names a single subprotocol there. RFC 8441
§5 carries the same fields on the extended CONNECT's 2xx.
"""

from __future__ import annotations

from .._model import Exchange, Observation, Severity
from .._verdict import Status, Verdict
from ..grammar import split_list
from ..protocols.websocket import WEBSOCKET, WEBSOCKET_H2
from .registry import check as _check


def _accepted(observation: Observation) -> list[Exchange]:
    """The handshakes the server accepted: 101s, and the RFC 8441 CONNECT's 2xx."""
    accepted = []
    for exchange in observation.exchanges:
        response = exchange.response
        if response is None:
            continue
        h1 = exchange.role in WEBSOCKET.upgraded_roles and response.status == 101
        if h1 or (exchange.role == WEBSOCKET_H2 and 200 <= response.status < 300):
            accepted.append(exchange)
    return accepted


def _offered(exchange: Exchange) -> tuple[str, ...]:
    """The subprotocols the handshake itself offered (its Sec-WebSocket-Protocol)."""
    values = [v for k, v in exchange.request_headers if k.lower() == "sec-websocket-protocol"]
    return tuple(name for value in values for name in split_list(value))


def _verdict(exchange: Exchange) -> Verdict:
    offered = _offered(exchange)
    response = exchange.response
    assert response is not None
    fields = response.values("sec-websocket-protocol")
    selected = [name for value in fields for name in split_list(value)]
    shown = ", ".join(fields) if fields else "(none)"
    actual = f"{response.status_line}, Sec-WebSocket-Protocol: {shown}"
    if not offered:
        expected = "no Sec-WebSocket-Protocol (none was offered)"
        if selected:
            return Verdict.violated(
                f"the server selected the subprotocol {shown} although none was offered",
                expected=expected,
                actual=actual,
                diagnosis=(
                    "A server selects a subprotocol only from the client's offer (RFC 6455"
                    " §4.2.2 step 5.4), and a client MUST fail a connection whose answer names one"
                    " it did not offer (§4.1). If the endpoint needs a subprotocol, declare the"
                    " offer: requires_upgrade('websocket', subprotocols=[...]); otherwise answer"
                    " without Sec-WebSocket-Protocol."
                ),
            )
        return Verdict.ok("no subprotocol offered, none selected", expected=expected, actual=actual)
    expected = f"at most one of the offered subprotocols ({', '.join(offered)})"
    if len(fields) > 1 or len(selected) > 1:
        return Verdict.violated(
            f"the answer names several subprotocols: {shown}",
            expected=expected,
            actual=actual,
            diagnosis=(
                "The server selects a single subprotocol (RFC 6455 §4.2.2 step 5.4), in one"
                " Sec-WebSocket-Protocol field (§11.3.4); clients fail the connection otherwise."
            ),
        )
    if selected and selected[0] not in offered:
        return Verdict.violated(
            f"the server selected {selected[0]}, which was not offered",
            expected=expected,
            actual=actual,
            diagnosis=(
                "A client MUST fail a connection whose answer names a subprotocol it did not"
                " offer (RFC 6455 §4.1); select one of the client's, compared exactly."
            ),
        )
    if not selected:
        # Allowed (§4.2.2 step 5.4: null), so not a failure; but the client that
        # needs one cannot speak it: noted, never passed.
        return Verdict.violated(
            f"the server selected none of the offered subprotocols ({', '.join(offered)})",
            expected=expected,
            actual=actual,
            diagnosis=(
                "RFC 6455 lets a server select no subprotocol (§4.2.2 step 5.4), but a client"
                " that offered them cannot speak any with it: GraphQL-over-WebSocket clients, say,"
                " close the connection. Check that the server is configured with these"
                " subprotocols (websockets: serve(..., subprotocols=[...]); Starlette:"
                " websocket.accept(subprotocol=...))."
            ),
            severity=Severity.INFO,
        )
    return Verdict.ok(
        f"the server selected {selected[0]}, one of those offered", expected=expected, actual=actual
    )


def _where(exchange: Exchange) -> str:
    return f"{exchange.url} over HTTP/2" if exchange.role == WEBSOCKET_H2 else exchange.url


@_check(
    "websocket-subprotocol",
    Severity.MUST,
    "RFC 6455 §4.1, §4.2.2 step 5.4, §11.3.4",
    "An accepted handshake names at most one subprotocol, one of those it offered"
    " (subprotocols=); when it offered none, none.",
    ("websocket",),
)
def check_websocket_subprotocol(observation: Observation) -> Verdict:
    accepted = _accepted(observation)
    if not accepted:
        return Verdict.skip("no WebSocket handshake was accepted")
    verdicts = [(e, _verdict(e)) for e in accepted]
    # The first must-violation, else the first note, else every pass.
    for wanted in (Severity.MUST, Severity.INFO):
        for exchange, verdict in verdicts:
            if verdict.status is Status.VIOLATED and (verdict.severity or Severity.MUST) is wanted:
                return Verdict.violated(
                    f"{_where(exchange)}: {verdict.message}",
                    expected=verdict.expected,
                    actual=verdict.actual,
                    diagnosis=verdict.diagnosis,
                    severity=verdict.severity,
                )
    return Verdict.ok(
        "; ".join(f"{_where(e)}: {v.message}" for e, v in verdicts),
        expected=verdicts[0][1].expected,
        actual="; ".join(v.actual for _, v in verdicts),
    )
