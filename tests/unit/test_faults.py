"""Which probe failures are evidence, fault kind by fault kind (issue 35): no sockets."""

from __future__ import annotations

import pytest

from pytest_upgrade._model import Exchange, FailureKind, ProbeFailure, Response
from pytest_upgrade.faults import unevaluable
from support.observations import exchange, response

TIMEOUT = ProbeFailure(FailureKind.TIMEOUT, "reading the response: no answer within 5 s")
RESET = ProbeFailure(
    FailureKind.CLOSED, "reading the response: the connection was reset by the peer"
)
CLOSED = ProbeFailure(FailureKind.CLOSED, "the server closed the connection without answering")
TLS_RESET = ProbeFailure(
    FailureKind.TLS_REFUSED,
    "during the TLS handshake, reading: the connection was reset by the peer",
)
TLS_CLOSED = ProbeFailure(
    FailureKind.TLS_REFUSED, "the server closed the connection during the TLS handshake"
)
TLS_ALERT = ProbeFailure(
    FailureKind.TLS_REFUSED, "the server refused the TLS handshake: alert protocol_version"
)
TLS_VERSION = ProbeFailure(FailureKind.TLS_REFUSED, "the server refused the TLS version offered")
NOT_HTTP = ProbeFailure(FailureKind.PROTOCOL, "the answer is not HTTP/1.1")
ALPN = ProbeFailure(FailureKind.ALPN_MISMATCH, "the server selected http/1.1, not h2")


def probe(role: str, answer: Response | ProbeFailure) -> Exchange:
    return exchange(role, answer)


@pytest.mark.parametrize("role", ["legacy", "upgraded", "upgraded-ws"])
@pytest.mark.parametrize("others_answered", [True, False])
def test_a_timeout_is_never_evidence(role: str, others_answered: bool) -> None:
    why = unevaluable(probe(role, TIMEOUT), others_answered=others_answered)
    assert why == "no answer within the probe timeout: not evidence either way"


@pytest.mark.parametrize("failure", [RESET, CLOSED])
def test_a_close_or_reset_is_evidence_only_beside_an_answer(failure: ProbeFailure) -> None:
    # The host answered another probe: dropping this client was its reaction.
    assert unevaluable(probe("legacy", failure), others_answered=True) is None
    # It closes everything: nothing to judge.
    why = unevaluable(probe("legacy", failure), others_answered=False)
    assert why is not None
    assert "not evidence" in why


@pytest.mark.parametrize("role", ["legacy", "upgraded"])
@pytest.mark.parametrize("failure", [TLS_RESET, TLS_CLOSED])
def test_a_handshake_closed_without_an_alert(role: str, failure: ProbeFailure) -> None:
    # Servers refuse an old TLS version by a bare close (a finding) ...
    assert unevaluable(probe(role, failure), others_answered=True) is None
    # ... but a host that resets every handshake has said nothing.
    why = unevaluable(probe(role, failure), others_answered=False)
    assert why is not None
    assert "without an alert" in why


@pytest.mark.parametrize("failure", [TLS_ALERT, TLS_VERSION, NOT_HTTP, ALPN])
@pytest.mark.parametrize("others_answered", [True, False])
def test_what_the_protocol_says_is_evidence(failure: ProbeFailure, others_answered: bool) -> None:
    assert unevaluable(probe("upgraded", failure), others_answered=others_answered) is None


@pytest.mark.parametrize("status", [400, 404, 426, 500, 503])
def test_an_answer_is_evidence(status: int) -> None:
    # A 4xx or 5xx, or a close after a complete answer (recorded as the response).
    assert unevaluable(probe("legacy", response(status)), others_answered=False) is None


@pytest.mark.parametrize("role", ["h2c-upgrade", "version-probe", "tls"])
def test_other_roles_are_judged_by_their_own_checks(role: str) -> None:
    assert unevaluable(probe(role, TIMEOUT), others_answered=False) is None


def test_a_garbage_answer_is_quoted_as_bytes_not_as_a_python_repr() -> None:
    import h11

    from pytest_upgrade.probes.http1 import readable_h11_error

    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("host", "x")]))
    conn.receive_data(b"\x00\xffGARBAGE\r\n\r\n")
    with pytest.raises(h11.RemoteProtocolError) as caught:
        conn.next_event()
    assert readable_h11_error(caught.value) == "illegal status line: b'\\x00\\xffGARBAGE'"
