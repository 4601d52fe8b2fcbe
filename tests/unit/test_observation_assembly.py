"""The Observation is built once, complete: the probes' records and the circumstances
they were made in (the evaluation date, enforcement, the bundled server's record)."""

from __future__ import annotations

import datetime as dt

from pytest_upgrade._model import AnsweredBy, Exchange, Requirement
from pytest_upgrade.probes.endpoint import ClientTrust, Endpoint
from pytest_upgrade.probes.target import Target
from pytest_upgrade.protocols.planning import Circumstances, assemble
from pytest_upgrade.server.answers import AppAnswer, ServedAnswers
from support.observations import exchange, response

WEBSOCKET = Requirement("websocket", path="/ws")
TARGET = Target(
    https=Endpoint("https", "127.0.0.1", 8443),
    http=Endpoint("http", "127.0.0.1", 8080),
    trust=ClientTrust(),
    bundled=True,
)
STARTED = dt.datetime(2027, 1, 15, 12, tzinfo=dt.UTC)
KEY = ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")


def served(*answers: AppAnswer, seen: tuple[str, ...] = ()) -> ServedAnswers:
    return ServedAnswers(answers, lambda key: key in seen)


def test_a_live_target_keeps_what_the_probes_recorded() -> None:
    probed = exchange("legacy", response(426))
    circumstances = Circumstances(as_of=dt.date(2027, 1, 15), enforced=("h2",))
    observed = assemble(
        WEBSOCKET, TARGET, [probed], observed_at=STARTED, circumstances=circumstances
    )
    assert observed.exchanges == (probed,)
    assert (observed.as_of, observed.enforced, observed.app_errors) == (
        dt.date(2027, 1, 15),
        ("h2",),
        (),
    )
    assert observed.observed_at == STARTED


def test_the_app_errors_are_the_observations() -> None:
    circumstances = Circumstances(app_errors=("Traceback ...",), answers=served())
    observed = assemble(WEBSOCKET, TARGET, [], observed_at=STARTED, circumstances=circumstances)
    assert observed.app_errors == ("Traceback ...",)


def test_a_version_probe_the_app_never_saw_was_answered_by_the_server() -> None:
    probe = exchange("version-probe", response(400), request_headers=(KEY,))
    assert served().answered_by(probe) is AnsweredBy.SERVER
    assert served(seen=(KEY[1],)).answered_by(probe) is AnsweredBy.APP


def test_hypercorn_switches_to_h2c_itself() -> None:
    assert served().answered_by(exchange("h2c-upgrade", response(101))) is AnsweredBy.SERVER
    assert served().answered_by(exchange("h2c-upgrade", response(426))) is AnsweredBy.APP
    legacy = exchange("legacy", response(426), answered_by=AnsweredBy.UNKNOWN)
    assert served().answered_by(legacy) is AnsweredBy.UNKNOWN


def test_an_http2_answer_gets_the_fields_the_app_sent() -> None:
    sent = (("upgrade", "h2c"), ("content-type", "text/plain"))
    answer = AppAnswer("https", "2", "GET", "/v2/orders", sent)
    other = AppAnswer("https", "2", "GET", "/elsewhere", ())
    over_h2 = exchange(
        "upgraded", response(200, http_version="2"), url="https://127.0.0.1:8443/v2/orders"
    )
    over_h1 = exchange("legacy", response(426), url="https://127.0.0.1:8443/v2/orders")
    record = served(other, answer)
    assert record.app_headers(over_h2) == sent
    assert record.app_headers(over_h1) is None
    observed = assemble(
        Requirement("h2", path="/v2/orders"),
        TARGET,
        [(over_h1, over_h2)],
        observed_at=STARTED,
        circumstances=Circumstances(answers=record),
    )
    assert [e.app_headers for e in observed.exchanges] == [None, sent]


def test_a_websocket_url_matches_the_answers_http_scheme() -> None:
    answer = AppAnswer("https", "2", "CONNECT", "/ws", (("x", "y"),))
    probe = Exchange(
        "websocket-h2",
        "wss://127.0.0.1:8443/ws",
        "CONNECT",
        "",
        response=response(200, http_version="2"),
    )
    assert served(answer).app_headers(probe) == (("x", "y"),)
