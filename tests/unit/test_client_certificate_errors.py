"""A server that wants a client certificate: how its alerts and its answers become
one error with the advice, and never a verdict on the 426 (no sockets)."""

from __future__ import annotations

import dataclasses

import pytest

from pytest_upgrade._model import (
    Exchange,
    FailureKind,
    Offer,
    ProbeFailure,
    Requirement,
    Route,
    Transport,
)
from pytest_upgrade.checks.preconditions import certificate_wanted
from pytest_upgrade.judge import RequirementVerdict, evaluate
from pytest_upgrade.probes.client_cert import refusal
from pytest_upgrade.probes.quic_errors import terminated
from pytest_upgrade.report.html import render_html
from pytest_upgrade.report.markdown import render_markdown
from support.observations import exchange, observation, response
from support.report_samples import entry

ASKED = Transport("https", "TLSv1.3", "http/1.1", certificate_requested=True)
NOT_ASKED = Transport("https", "TLSv1.3", "http/1.1")
H2_ASKED = Transport("https", "TLSv1.3", "h2", certificate_requested=True)


@pytest.mark.parametrize("alert", ["certificate_required", "handshake_failure"])
def test_none_given_says_a_certificate_is_required_and_how_to_give_one(alert: str) -> None:
    assert refusal(alert, None) == (
        f"the server requires a client certificate and none was given (alert {alert}):"
        " give one with --upgrade-client-cert=PEM (its key in the same file or in"
        " --upgrade-client-key=PEM), or cert=PEM on the deployment's targets-file line"
    )


@pytest.mark.parametrize(
    ("alert", "why"),
    [
        ("unknown_ca", "it does not trust the CA that issued it"),
        ("certificate_expired", "it has expired"),
        ("bad_certificate", "give one the server accepts"),
    ],
)
def test_one_refused_is_named_with_the_alert(alert: str, why: str) -> None:
    assert refusal(alert, "/keys/client.pem").startswith(
        f"the server refused the client certificate /keys/client.pem (alert {alert}): {why}"
    )


def _nginx_without_a_certificate(transport: Transport = ASKED) -> tuple[Exchange, Exchange]:
    body = b"<html><head><title>400 No required SSL certificate was sent</title>"
    return (
        exchange("legacy", response(400, body=body), transport=transport),
        exchange("upgraded", response(400, http_version="2"), transport=H2_ASKED),
    )


def _wanted(exchanges: tuple[Exchange, ...], offered: str | None = None) -> str | None:
    observed = observation(Requirement("h2", "/v2"), *exchanges)
    return certificate_wanted(dataclasses.replace(observed, route=Route(client_cert=offered)))


def test_400s_after_a_certificate_request_are_the_certificates_doing() -> None:
    cause = _wanted(_nginx_without_a_certificate())
    assert cause is not None
    assert cause.startswith(
        "legacy probe (HTTP/1.1 over TLS, ALPN http/1.1): the server asked for a client"
        " certificate in the TLS handshake, none was given, and it answered 400 to every request"
    )
    assert "give one with --upgrade-client-cert=PEM" in cause
    given = _wanted(_nginx_without_a_certificate(), "/keys/client.pem")
    assert given is not None
    assert "answered 400 to every request made with /keys/client.pem" in given


def test_without_the_servers_request_a_400_is_judged_as_it_is() -> None:
    legacy = exchange("legacy", response(400), transport=NOT_ASKED)
    upgraded = exchange("upgraded", response(400, http_version="2"), transport=NOT_ASKED)
    assert _wanted((legacy, upgraded)) is None


@pytest.mark.parametrize("status", [426, 200, 404, 500])
def test_any_other_answer_shows_the_server_serves_without_one(status: int) -> None:
    # ssl_verify_client optional: it asked, but served the request anyway.
    legacy = exchange("legacy", response(400), transport=ASKED)
    upgraded = exchange("upgraded", response(status, http_version="2"), transport=H2_ASKED)
    assert _wanted((legacy, upgraded)) is None


def test_the_judge_errors_and_the_426_checks_give_no_verdict() -> None:
    observed = observation(Requirement("h2", "/v2"), *_nginx_without_a_certificate())
    result = evaluate(observed)
    assert result.verdict is RequirementVerdict.ERROR
    assert result.error is not None
    assert "a client certificate is required" in result.error
    # The same answers with the certificate given: the reproduce route names it.
    with_one = dataclasses.replace(observed, route=Route(client_cert="/keys/client.pem"))
    assert "/keys/client.pem" in (evaluate(with_one).error or "")
    outcomes = {f.check_id: f.outcome.value for f in result.findings}
    assert outcomes["status-426"] == outcomes["upgraded-succeeds"] == "skipped"
    assert "failed" not in outcomes.values()


def test_an_alert_about_the_certificate_is_an_error_not_a_failed_check() -> None:
    refused = ProbeFailure(FailureKind.CLIENT_CERTIFICATE, refusal("certificate_required", None))
    observed = observation(
        Requirement("h2", "/v2"),
        exchange("legacy", refused),
        exchange("upgraded", refused),
    )
    result = evaluate(observed)
    assert result.verdict is RequirementVerdict.ERROR
    assert "(alert certificate_required)" in (result.error or "")
    outcomes = {f.check_id: f.outcome.value for f in result.findings}
    assert outcomes["status-426"] == "skipped"
    assert outcomes["upgraded-succeeds"] == "skipped"


def test_over_quic_too_it_is_an_error_of_the_requirement() -> None:
    quic = Offer(("3",), True, ("h3",))
    refused = ProbeFailure(FailureKind.CLIENT_CERTIFICATE, "over QUIC to x, the server requires")
    observed = observation(
        Requirement("h3", "/"),
        exchange("legacy", response(200), transport=NOT_ASKED),
        exchange("upgraded", refused, offer=quic, offered="HTTP/3 over QUIC"),
    )
    assert evaluate(observed).verdict is RequirementVerdict.ERROR


def test_quic_closes_about_the_client_certificate() -> None:
    required = terminated(0x100 + 116, "", "127.0.0.1:4433 (UDP)", False)
    assert required.kind is FailureKind.CLIENT_CERTIFICATE
    assert "(alert certificate_required)" in required.message
    # unknown_ca from the server is about this client's certificate ...
    by_server = terminated(
        0x100 + 48, "", "127.0.0.1:4433 (UDP)", False, by_peer=True, offered="/keys/c.pem"
    )
    assert by_server.kind is FailureKind.CLIENT_CERTIFICATE
    assert "refused the client certificate /keys/c.pem (alert unknown_ca)" in by_server.message
    # ... from this client, about the server's.
    here = terminated(0x100 + 48, "", "127.0.0.1:4433 (UDP)", False)
    assert here.kind is FailureKind.CERTIFICATE


def test_the_html_and_markdown_reports_name_the_route() -> None:
    reached = entry("t.py::test_orders", "error", [("status-426", "skipped")])
    reached["error"] = "legacy probe: the server requires a client certificate"
    reached["route"] = {"client_cert": "/keys/client.crt", "client_key": "/keys/client.key"}
    document = {"as_of": "2027-01-01", "results": [reached]}
    said = "client certificate /keys/client.crt (key /keys/client.key)"
    assert f"  - {said}" in render_markdown(document)
    assert said in render_html(document)
