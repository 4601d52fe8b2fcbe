"""What WebSocket handshakes offer (subprotocols, Origin, extensions), and the verdicts on it.

Pure: the marker's and declared lines' options parsed, the offer built for an
endpoint, and hand-built observations judged by ``websocket-subprotocol``,
``upgrade-stripped``, ``websocket-version`` and ``websocket-over-h2``.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_upgrade._model import Exchange, Observation, Outcome, ProbeFailure, Requirement
from pytest_upgrade._model import FailureKind as Kind
from pytest_upgrade._requirements import parse_declared, parse_requirement
from pytest_upgrade.checks.catalogue import REGISTRY
from pytest_upgrade.probes.endpoint import Endpoint
from pytest_upgrade.probes.websocket_offer import (
    deflate_factories,
    handshake_headers,
    origin_of,
    split_protocols,
)
from support.observations import TLS_HTTP11, exchange, response
from support.observations import observation as build

WSS = "wss://127.0.0.1:8443/graphql"
WS = "ws://127.0.0.1:8080/graphql"


def websocket(**options: Any) -> Requirement:
    return parse_requirement(("websocket",), {"path": "/graphql", **options})


# -- the options -------------------------------------------------------------------------


def test_subprotocols_from_the_marker_and_the_header_are_one_offer() -> None:
    requirement = websocket(
        subprotocols=["graphql-transport-ws"],
        headers={"Sec-WebSocket-Protocol": "graphql-transport-ws, graphql-ws", "X-A": "1"},
    )
    assert requirement.subprotocols == ("graphql-transport-ws", "graphql-ws")
    # Taken out of the headers: the handshake writes the field itself, once.
    assert requirement.headers == (("X-A", "1"),)
    assert requirement.default_origin is True


def test_declared_lines_take_subprotocols_and_origin() -> None:
    requirement = parse_declared(
        "websocket /graphql subprotocols=graphql-transport-ws,x origin=none"
    )
    assert requirement.subprotocols == ("graphql-transport-ws", "x")
    assert requirement.default_origin is False
    assert requirement.origin is None
    # origin=URL is a browser application's origin (the CORS option): sent as is.
    declared = parse_declared("websocket /ws origin=https://a.example")
    assert (declared.origin, declared.default_origin) == ("https://a.example", True)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"subprotocols": "graphql-ws"}, "must be a list of subprotocol names"),
        ({"subprotocols": ["a b"]}, r"'a b' is not a token \(RFC 6455 §4.1"),
        ({"origin": "https://a.example/"}, "is not a serialized origin"),
        ({"headers": {"Sec-WebSocket-Protocol": "a;b"}}, "is not a token"),
        (
            {"headers": {"Sec-WebSocket-Extensions": "x-webkit-deflate-frame"}},
            "cannot negotiate; only permessage-deflate",
        ),
        (
            {
                "headers": {
                    "Sec-WebSocket-Extensions": "permessage-deflate; server_max_window_bits=7"
                }
            },
            "must be 8 to 15",
        ),
        (
            {"headers": {"Sec-WebSocket-Extensions": "permessage-deflate; level=9"}},
            "has no parameter level",
        ),
    ],
)
def test_bad_websocket_options_are_one_line_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        websocket(**options)


def test_websocket_options_are_refused_on_other_protocols() -> None:
    with pytest.raises(ValueError, match="applies to a websocket requirement, not to h2"):
        parse_requirement(("h2",), {"subprotocols": ["x"]})
    with pytest.raises(ValueError, match=r"origin=False \(no Origin\) applies to a websocket"):
        parse_requirement(("h2",), {"origin": False})


def test_a_protocol_field_among_the_headers_is_the_same_offer() -> None:
    # From --upgrade-header or a targets-file header=: merged, then sent once.
    headers = (("X-A", "1"), ("sec-websocket-protocol", "b, c"))
    assert split_protocols(headers, ("a", "b")) == ((("X-A", "1"),), ("a", "b", "c"))


def test_the_offer_of_a_handshake() -> None:
    endpoint = Endpoint.from_url("https://127.0.0.1:8443")
    assert origin_of(endpoint) == "https://127.0.0.1:8443"
    assert origin_of(Endpoint.from_url("https://example.com")) == "https://example.com"
    fields = handshake_headers((), endpoint, default_origin=True, subprotocols=("a", "b"))
    assert fields == (("Origin", "https://127.0.0.1:8443"), ("Sec-WebSocket-Protocol", "a, b"))
    given = (("origin", "https://app.example"),)
    assert handshake_headers(given, endpoint, default_origin=True) == given
    assert handshake_headers((), endpoint, default_origin=False) == ()


def test_permessage_deflate_parameters_become_the_clients_offer() -> None:
    (factory,) = deflate_factories(
        "permessage-deflate; client_max_window_bits; server_no_context_takeover"
    )
    assert factory.get_request_params() == [
        ("server_no_context_takeover", None),
        ("client_max_window_bits", None),
    ]


# -- websocket-subprotocol -----------------------------------------------------------------


def switched(*protocols: str) -> Any:
    headers = [("Upgrade", "websocket"), ("Connection", "Upgrade")]
    headers += [("Sec-WebSocket-Protocol", value) for value in protocols]
    return response(101, *headers)


def handshakes(requirement: Requirement, *answers: Any) -> Observation:
    exchanges: list[Exchange] = [
        exchange("legacy", response(426, ("Upgrade", "websocket")), url="https://127.0.0.1:8443/")
    ]
    # The check reads each handshake's own offer, as the probe sent it.
    sent = (("Sec-WebSocket-Protocol", ", ".join(requirement.subprotocols)),)
    for role, url, answer in zip(("upgraded", "upgraded-ws"), (WSS, WS), answers, strict=False):
        exchanges.append(
            exchange(
                role,
                answer,
                url=url,
                transport=TLS_HTTP11,
                request_headers=sent if requirement.subprotocols else (),
            )
        )
    return build(requirement, *exchanges)


def subprotocol(observation: Observation) -> Any:
    return REGISTRY["websocket-subprotocol"].run(observation)


def test_the_offered_subprotocol_selected_passes() -> None:
    offered = websocket(subprotocols=["graphql-transport-ws", "graphql-ws"])
    finding = subprotocol(handshakes(offered, switched("graphql-ws"), switched("graphql-ws")))
    assert finding.outcome is Outcome.PASSED
    assert finding.message.count("selected graphql-ws, one of those offered") == 2


@pytest.mark.parametrize(
    ("offer", "answer", "outcome", "words"),
    [
        (["graphql-ws"], switched("mqtt"), Outcome.FAILED, "selected mqtt, which was not offered"),
        (["a", "b"], switched("a", "b"), Outcome.FAILED, "names several subprotocols: a, b"),
        (["a", "b"], switched("a, b"), Outcome.FAILED, "names several subprotocols"),
        ([], switched("mqtt"), Outcome.FAILED, "although none was offered"),
        (["graphql-ws"], switched(), Outcome.NOTED, "selected none of the offered"),
        ([], switched(), Outcome.PASSED, "no subprotocol offered, none selected"),
        # Subprotocol names compare exactly (RFC 6455 §4.1: "one of the values").
        (["GraphQL-WS"], switched("graphql-ws"), Outcome.FAILED, "which was not offered"),
    ],
)
def test_what_the_server_selected(
    offer: list[str], answer: Any, outcome: Outcome, words: str
) -> None:
    finding = subprotocol(handshakes(websocket(subprotocols=offer), answer))
    assert finding.outcome is outcome
    assert words in finding.message


def test_a_violation_on_one_handshake_outweighs_a_note_on_another() -> None:
    observation = handshakes(websocket(subprotocols=["a"]), switched(), switched("b"))
    finding = subprotocol(observation)
    assert finding.outcome is Outcome.FAILED
    assert finding.message.startswith(WS)


def test_no_accepted_handshake_is_skipped_and_rfc8441_counts() -> None:
    refused = handshakes(websocket(subprotocols=["a"]), response(403))
    assert subprotocol(refused).outcome is Outcome.SKIPPED
    h2 = exchange(
        "websocket-h2",
        response(200, ("sec-websocket-protocol", "b"), http_version="2"),
        url=WSS,
        request_headers=(("sec-websocket-protocol", "a"),),
    )
    finding = subprotocol(build(websocket(subprotocols=["a"]), h2))
    assert finding.outcome is Outcome.FAILED


# -- refusals that say nothing about stripped fields or versions ---------------------------


@pytest.mark.parametrize("status", [301, 401, 403, 429])
def test_the_same_refusal_before_routing_skips_upgrade_stripped(status: int) -> None:
    same = response(status, body=b"refused")
    legacy = exchange("legacy", same, url="https://127.0.0.1:8443/")
    observation = build(websocket(), legacy, exchange("upgraded", same, url=WSS))
    finding = REGISTRY["upgrade-stripped"].run(observation)
    assert finding.outcome is Outcome.SKIPPED
    assert "decided before routing" in finding.message


def test_the_same_400_to_both_still_shows_a_stripped_upgrade() -> None:
    same = response(400, body=b"no upgrade")
    legacy = exchange("legacy", same, url="https://127.0.0.1:8443/")
    observation = build(websocket(), legacy, exchange("upgraded", same, url=WSS))
    assert REGISTRY["upgrade-stripped"].run(observation).outcome is Outcome.FAILED


def test_a_version_probe_refused_like_the_handshake_is_skipped() -> None:
    forbidden = response(403)
    observation = build(
        websocket(),
        exchange("legacy", response(426, ("Upgrade", "websocket")), url="https://h/"),
        exchange("upgraded", forbidden, url=WSS),
        exchange("version-probe", forbidden, url="https://h/"),
    )
    finding = REGISTRY["websocket-version"].run(observation)
    assert finding.outcome is Outcome.SKIPPED
    assert "refused the same way (HTTP/1.1 403" in finding.message


def test_a_403_to_the_handshake_names_origin_checks() -> None:
    observation = handshakes(websocket(), response(403))
    finding = REGISTRY["upgraded-succeeds"].run(observation)
    assert finding.outcome is Outcome.FAILED
    assert "Origin check" in finding.diagnosis
    assert "origin=False" in finding.diagnosis


# -- websocket-over-h2 ---------------------------------------------------------------------


def h2(answer: Any, *, round_trip: str = "", bundled: bool = False) -> Observation:
    probe = exchange("websocket-h2", answer, url=WSS, round_trip=round_trip)
    return build(websocket(), probe, bundled=bundled)


def test_no_http2_spoken_is_skipped() -> None:
    failure = ProbeFailure(Kind.ALPN_MISMATCH, "the TLS handshake offering only h2 failed")
    assert REGISTRY["websocket-over-h2"].run(h2(failure)).outcome is Outcome.SKIPPED


def test_a_clean_close_through_the_stream_passes() -> None:
    finding = REGISTRY["websocket-over-h2"].run(
        h2(response(200, http_version="2"), round_trip="the route closed the WebSocket cleanly")
    )
    assert finding.outcome is Outcome.PASSED
    assert "no Pong is owed" in finding.message


def test_a_refused_connect_on_the_bundled_server_names_rfc8441_section5() -> None:
    finding = REGISTRY["websocket-over-h2"].run(h2(response(400, http_version="2"), bundled=True))
    assert finding.outcome is Outcome.WARNED
    assert "RFC 8441 §5 forbids Upgrade" in finding.diagnosis
    assert "Apache" not in finding.diagnosis
