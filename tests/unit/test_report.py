"""Unit tests for the text and JSON rendering in ``pytest_upgrade.report.results``.

Findings and observations are built by hand; the report is read as a user
would: is every check there, with its mark, and can the exchange be redone?
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import shlex
from typing import Any

import pytest

from pytest_upgrade import _model as model
from pytest_upgrade._model import (
    FailureKind,
    Finding,
    HandshakeOutcome,
    Offer,
    Outcome,
    ProbeFailure,
    Requirement,
    Severity,
)
from pytest_upgrade.judge import EvaluationPolicy, RequirementResult, conclude
from pytest_upgrade.report.reproduce import reproduce_commands
from pytest_upgrade.report.results import (
    failure_report,
    result_to_json,
    summary_line,
)
from support.observations import TLS_H2, TLS_HTTP11, exchange, handshake, response
from support.observations import observation as build

URL = "https://localhost:8443/api"
H2_API = Requirement("h2", path="/api")
CAFILE = "/tmp/pytest-upgrade/ca.pem"

# What the probes offer (their prose is Offer.describe()).
H11_TLS = Offer(("1.1",), True, ("http/1.1",))
H2_TLS = Offer(("2",), True, ("h2", "http/1.1"))
H10 = Offer(("1.0",), False)
H2C = Offer(("2",), False)


def probed(
    role: str,
    offer: Offer,
    answer: model.Response | ProbeFailure | None = None,
    *,
    url: str = URL,
    **fields: Any,
) -> model.Exchange:
    """role's exchange as the probe offering offer made it (offered: what it describes)."""
    return exchange(role, answer, url=url, offered=offer.describe(), offer=offer, **fields)


LEGACY = probed(
    "legacy",
    H11_TLS,
    response(200, ("content-type", "text/plain"), body=b"hello"),
    request_headers=(
        ("Host", "localhost:8443"),
        ("User-Agent", "pytest-upgrade"),
        ("Accept", "*/*"),
    ),
    transport=TLS_HTTP11,
)
UPGRADED = probed(
    "upgraded",
    H2_TLS,
    response(200, ("content-type", "text/plain"), http_version="2", body=b"hello"),
    request_headers=(("user-agent", "pytest-upgrade"), ("accept", "*/*")),
    transport=TLS_H2,
)
HANDSHAKES = (
    handshake("TLSv1", HandshakeOutcome.REFUSED, "alert protocol_version"),
    handshake("TLSv1.1", HandshakeOutcome.REFUSED, "alert protocol_version"),
)


def observation(
    *exchanges: model.Exchange,
    handshakes: tuple[model.TlsHandshake, ...] = HANDSHAKES,
    requirement: Requirement = H2_API,
) -> model.Observation:
    return build(
        requirement,
        *(exchanges or (LEGACY, UPGRADED)),
        handshakes=handshakes,
        target="https://localhost:8443",
        observed_at=None,
    )


def finding(
    check_id: str,
    outcome: Outcome,
    severity: Severity = Severity.MUST,
    *,
    message: str = "",
    rfc: str = "",
    details: tuple[str, ...] = (),
) -> Finding:
    """details: the finding's expected, actual and diagnosis, as many as it has."""
    message = message or f"{check_id} said so"
    expected, actual, diagnosis = (*details, "", "", "")[:3]
    return Finding(check_id, severity, outcome, message, rfc, expected, actual, diagnosis)


FAILED_426 = finding(
    "status-426",
    Outcome.FAILED,
    rfc="RFC 9110 §15.5.22",
    message="the legacy request was answered with 200, not 426",
    details=("426 Upgrade Required", "HTTP/1.1 200 OK", "The legacy protocol is still served."),
)
SKIPPED_UPGRADE = finding(
    "upgrade-present",
    Outcome.SKIPPED,
    message="the legacy request was answered with 200, not 426",
    details=("never shown",),
)
WARNED_CACHE = finding(
    "not-cacheable",
    Outcome.WARNED,
    Severity.SHOULD,
    rfc="RFC 9111 §4.2.2",
    message="the 426 is explicitly cacheable: max-age=3600",
    details=(
        "no explicit freshness on a 426",
        "Cache-Control: max-age=3600",
        "A cache may serve this refusal.",
    ),
)
PASSED_UPGRADED = finding(
    "upgraded-succeeds",
    Outcome.PASSED,
    rfc="RFC 9110 §15.5.22",
    message="the upgraded request succeeded",
    details=("a status other than 426 and 5xx", "status 200 over HTTP/2"),
)
MIXED = (FAILED_426, SKIPPED_UPGRADE, WARNED_CACHE, PASSED_UPGRADED)


def result(
    findings: tuple[Finding, ...] = MIXED,
    *,
    strict: bool = False,
    cafile: str | None = CAFILE,
    obs: model.Observation | None = None,
    app_errors: tuple[str, ...] = (),
) -> RequirementResult:
    observed = dataclasses.replace(obs or observation(), app_errors=app_errors)
    return conclude(observed, findings, EvaluationPolicy(strict=strict), cafile=cafile)


def line_of(report: str, check_id: str) -> str:
    (line,) = [line for line in report.splitlines() if f" {check_id} [" in line]
    return line


def details_of(report: str, check_id: str) -> list[str]:
    """The indented lines under a check's line: its details."""
    lines = report.splitlines()
    below = lines[lines.index(line_of(report, check_id)) + 1 :]
    return list(itertools.takewhile(lambda line: line.startswith("      "), below))


# -- failure_report -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("check_id", "mark"),
    [
        ("status-426", "✘"),
        ("upgrade-present", "○"),
        ("not-cacheable", "⚠"),
        ("upgraded-succeeds", "✔"),
    ],
)
def test_every_check_is_listed_with_its_mark(check_id: str, mark: str) -> None:
    line = line_of(failure_report(result()), check_id)
    assert line.lstrip().startswith(f"{mark} {check_id} [")


def test_the_head_names_the_requirement_target_and_failed_checks() -> None:
    head = failure_report(result()).splitlines()[0]
    assert head == (
        "requires_upgrade('h2', path='/api') against https://localhost:8443:"
        " 1 check(s) failed (status-426)"
    )


def test_failures_and_warnings_show_expected_actual_and_diagnosis() -> None:
    report = failure_report(result())
    assert "RFC 9110 §15.5.22" in line_of(report, "status-426")
    assert details_of(report, "status-426") == [
        "      expected:  426 Upgrade Required",
        "      actual:    HTTP/1.1 200 OK",
        "      diagnosis: The legacy protocol is still served.",
    ]
    assert details_of(report, "not-cacheable") == [
        "      expected:  no explicit freshness on a 426",
        "      actual:    Cache-Control: max-age=3600",
        "      diagnosis: A cache may serve this refusal.",
    ]


def test_passed_and_skipped_checks_show_no_details() -> None:
    report = failure_report(result())
    assert "status 200 over HTTP/2" not in report  # PASSED_UPGRADED.actual
    assert "never shown" not in report  # SKIPPED_UPGRADE.expected
    assert "skipped: the legacy request was answered with 200" in line_of(report, "upgrade-present")


def test_the_exchanges_and_handshakes_are_listed() -> None:
    report = failure_report(result())
    assert f"   legacy: GET {URL} (HTTP/1.1 over TLS, ALPN http/1.1) → HTTP/1.1 200 OK" in report
    assert f" upgraded: GET {URL} (HTTP/2 over TLS, ALPN h2, http/1.1) → HTTP/2 200" in report
    assert "      tls: TLSv1 handshake → refused (alert protocol_version)" in report
    assert "      tls: TLSv1.1 handshake → refused (alert protocol_version)" in report


def test_a_probe_failure_is_shown_instead_of_a_status() -> None:
    refused = ProbeFailure(FailureKind.TLS_REFUSED, "alert no_application_protocol")
    legacy = probed("legacy", H11_TLS, refused)
    report = failure_report(result(obs=observation(legacy, UPGRADED)))
    assert "→ alert no_application_protocol" in report


def test_app_errors_are_appended() -> None:
    traceback = "Traceback (most recent call last):\n  ...\nRuntimeError: broke\n"
    report = failure_report(result(app_errors=(traceback,)))
    assert "the app raised (or its framework logged) while serving the probes:" in report
    assert "    RuntimeError: broke" in report


def test_the_reproduce_section_lists_the_commands() -> None:
    report = failure_report(result())
    section = report.split("\nreproduce:\n", 1)[1].splitlines()
    assert section == ["  " + c for c in reproduce_commands(observation(), cafile=CAFILE)]


def test_the_head_lists_warnings_as_failures_in_strict_mode() -> None:
    head = failure_report(result(strict=True)).splitlines()[0]
    assert head.endswith("2 check(s) failed (status-426, not-cacheable)")


def test_a_passing_report_has_no_failure_count() -> None:
    head = failure_report(result((PASSED_UPGRADED,))).splitlines()[0]
    assert "failed" not in head


# -- reproduce_commands -------------------------------------------------------------


def test_curl_commands_with_the_bundled_ca() -> None:
    legacy, upgraded, *_ = reproduce_commands(observation(), cafile=CAFILE)
    assert shlex.split(legacy) == [
        "curl", "-sv", "--http1.1", "--cacert", CAFILE, "-o", "/dev/null", URL,
    ]  # fmt: skip
    assert shlex.split(upgraded) == [
        "curl", "-sv", "--http2", "--cacert", CAFILE, "-o", "/dev/null", URL,
    ]  # fmt: skip


def test_curl_without_a_cafile_has_no_cacert() -> None:
    commands = reproduce_commands(observation(), cafile=None)
    assert commands
    assert not any("--cacert" in c or "-CAfile" in c for c in commands)


def test_openssl_commands_for_the_legacy_tls_versions() -> None:
    *_, tls1, tls11 = reproduce_commands(observation(), cafile=CAFILE)
    assert tls1 == (
        "openssl s_client -connect localhost:8443 -servername localhost -tls1"
        f" -cipher DEFAULT:@SECLEVEL=0 -CAfile {CAFILE} </dev/null"
    )
    assert shlex.split(tls11.removesuffix(" </dev/null"))[6:9] == [
        "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0",
    ]  # fmt: skip


def test_openssl_commands_offer_what_the_handshake_offered() -> None:
    # ALPN as the handshake offered it, and no server name where it sent none.
    handshakes = (
        handshake(
            "TLSv1", HandshakeOutcome.REFUSED, "alert protocol_version", alpn=("h2", "http/1.1")
        ),
        handshake("TLSv1.1", HandshakeOutcome.ACCEPTED, "negotiated TLSv1.1", sni=False),
    )
    *_, tls1, tls11 = reproduce_commands(observation(handshakes=handshakes), cafile=None)
    assert shlex.split(tls1)[4:8] == ["-servername", "localhost", "-tls1", "-alpn"]
    assert shlex.split(tls1)[8] == "h2,http/1.1"
    assert "-alpn" not in tls11
    assert shlex.split(tls11)[4:6] == ["-noservername", "-tls1_1"]


def test_no_server_name_for_an_ip_literal_and_no_alpn_where_none_was_offered() -> None:
    offer = Offer(("1.0",), True)  # the HTTP/1.0 probe: no ALPN
    probe = exchange(
        role="legacy", url="https://127.0.0.1:8443/", method="GET", offered="", offer=offer
    )
    tls1 = handshake("TLSv1", HandshakeOutcome.REFUSED, "alert protocol_version")
    commands = reproduce_commands(observation(probe, handshakes=(tls1,)), cafile=None)
    assert commands[0].startswith("curl -sv --http1.0 --no-alpn ")
    assert "-noservername -tls1 " in commands[1]


def test_no_openssl_commands_without_handshakes() -> None:
    commands = reproduce_commands(observation(handshakes=()), cafile=CAFILE)
    assert len(commands) == 2
    assert all(c.startswith("curl ") for c in commands)


@pytest.mark.parametrize(
    ("method", "words"),
    [("HEAD", ["--head"]), ("POST", ["-X", "POST"]), ("DELETE", ["-X", "DELETE"])],
)
def test_curl_repeats_the_method(method: str, words: list[str]) -> None:
    probe = probed("legacy", H11_TLS, method=method)
    (command,) = reproduce_commands(observation(probe, handshakes=()), cafile=None)
    argv = shlex.split(command)
    assert argv[:3] == ["curl", "-sv", "--http1.1"]
    assert argv[3 : 3 + len(words)] == words


def test_curl_repeats_the_user_headers_but_not_the_probe_ones() -> None:
    user_header = ("Authorization", "Bearer it's a token")
    probe = dataclasses.replace(LEGACY, request_headers=(*LEGACY.request_headers, user_header))
    (command,) = reproduce_commands(observation(probe, handshakes=()), cafile=None)
    argv = shlex.split(command)  # quoting survives the apostrophe
    assert argv.count("-H") == 1
    assert argv[argv.index("-H") + 1] == "Authorization: Bearer it's a token"


def test_cleartext_and_http10_exchanges() -> None:
    h10 = probed("legacy", H10, url="http://localhost:8080/")
    h2c = probed("upgraded", H2C, url="http://localhost:8080/")
    commands = reproduce_commands(observation(h10, h2c, handshakes=()), cafile=CAFILE)
    assert [shlex.split(c)[2] for c in commands] == ["--http1.0", "--http2-prior-knowledge"]
    assert not any("--cacert" in c for c in commands)  # no TLS, no CA


# -- RequirementResult ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcomes", "strict", "verdict", "failing", "warning"),
    [
        ((Outcome.PASSED,), False, "PASSED", [], []),
        ((Outcome.PASSED, Outcome.SKIPPED), False, "PASSED", [], []),
        ((Outcome.SKIPPED, Outcome.SKIPPED), False, "SKIPPED", [], []),
        ((Outcome.PASSED, Outcome.WARNED), False, "WARNED", [], ["c1"]),
        ((Outcome.PASSED, Outcome.WARNED), True, "FAILED", ["c1"], []),
        ((Outcome.FAILED, Outcome.WARNED), False, "FAILED", ["c0"], ["c1"]),
        ((Outcome.FAILED, Outcome.WARNED), True, "FAILED", ["c0", "c1"], []),
        ((Outcome.FAILED, Outcome.SKIPPED), False, "FAILED", ["c0"], []),
    ],
)
def test_verdict(
    outcomes: tuple[Outcome, ...],
    strict: bool,
    verdict: str,
    failing: list[str],
    warning: list[str],
) -> None:
    findings = tuple(
        finding(f"c{i}", outcome, Severity.SHOULD if outcome is Outcome.WARNED else Severity.MUST)
        for i, outcome in enumerate(outcomes)
    )
    outcome = result(findings, strict=strict)
    assert outcome.verdict.name == verdict
    assert [f.check_id for f in outcome.failed] == failing
    assert [f.check_id for f in outcome.warnings] == warning


def test_requirement_is_the_observations() -> None:
    outcome = result()
    assert outcome.requirement is outcome.observation.requirement


@pytest.mark.parametrize(
    ("findings", "strict", "line"),
    [
        ((PASSED_UPGRADED,), False, "PASSED  h2 GET /api"),
        ((PASSED_UPGRADED, WARNED_CACHE), False, "WARNED  h2 GET /api (warnings: not-cacheable)"),
        (MIXED, False, "FAILED  h2 GET /api [status-426]"),
        (MIXED, True, "FAILED  h2 GET /api [status-426, not-cacheable]"),
    ],
)
def test_summary_line(findings: tuple[Finding, ...], strict: bool, line: str) -> None:
    assert summary_line(result(findings, strict=strict)) == line


# -- result_to_json -----------------------------------------------------------------------


def test_json_structure() -> None:
    requirement = Requirement("h2", path="/api", method="POST", after=dt.date(2027, 3, 1))
    data = result_to_json(result(obs=observation(requirement=requirement)))
    assert set(data) == {
        "requirement",
        "target",
        "as_of",
        "days_left",
        "verdict",
        "not_run",
        "checks",
        "exchanges",
        "handshakes",
        "reproduce",
    }
    assert data["requirement"] == {
        "protocol": "h2",
        "path": "/api",
        "method": "POST",
        "headers": {},
        "after": "2027-03-01",
    }
    assert data["target"] == "https://localhost:8443"
    assert data["verdict"] == "failed"
    assert [check["id"] for check in data["checks"]] == [f.check_id for f in MIXED]
    for check in data["checks"]:
        assert {"id", "severity", "outcome", "message", "rfc"} <= set(check)
    assert data["checks"][0] == {
        "id": "status-426",
        "severity": "must",
        "outcome": "failed",
        "message": "the legacy request was answered with 200, not 426",
        "rfc": "RFC 9110 §15.5.22",
        "expected": "426 Upgrade Required",
        "actual": "HTTP/1.1 200 OK",
        "diagnosis": "The legacy protocol is still served.",
    }
    assert data["checks"][2]["severity"] == "should"
    assert data["checks"][2]["outcome"] == "warned"


def test_json_after_is_null_without_a_deadline_and_survives_a_round_trip() -> None:
    data = result_to_json(result())
    assert data["requirement"]["after"] is None
    assert json.loads(json.dumps(data)) == data


def test_json_leaves_out_empty_details() -> None:
    bare = finding("tls-legacy-refused", Outcome.SKIPPED, message="inconclusive")
    (check,) = result_to_json(result((bare,)))["checks"]
    assert check == {
        "id": "tls-legacy-refused",
        "severity": "must",
        "outcome": "skipped",
        "message": "inconclusive",
        "rfc": "",
    }


def test_json_verdict_follows_strict_mode() -> None:
    warned_only = (PASSED_UPGRADED, WARNED_CACHE)
    assert result_to_json(result(warned_only))["verdict"] == "warned"
    assert result_to_json(result(warned_only, strict=True))["verdict"] == "failed"


def test_json_carries_the_exchanges_handshakes_and_reproduce_commands() -> None:
    refused = exchange(
        role="legacy",
        url="http://localhost:8080/api",
        method="GET",
        offered="HTTP/1.1",
        offer=Offer(("1.1",), False),
        answer=ProbeFailure(FailureKind.CLOSED, "the server closed the connection"),
    )
    cookie = response(
        200, ("set-cookie", "session=secret"), ("content-type", "text/plain"), http_version="2"
    )
    upgraded = probed("upgraded", H2_TLS, cookie, transport=TLS_H2)
    data = result_to_json(result(obs=observation(refused, upgraded)))
    assert data["exchanges"] == [
        {
            "role": "legacy",
            "method": "GET",
            "url": "http://localhost:8080/api",
            "offered": "HTTP/1.1",
            "tls_version": None,
            "alpn": None,
            "reused": None,
            "response": None,
            "failure": {"kind": "closed", "message": "the server closed the connection"},
        },
        {
            "role": "upgraded",
            "method": "GET",
            "url": URL,
            "offered": "HTTP/2 over TLS, ALPN h2, http/1.1",
            "tls_version": "TLSv1.3",
            "alpn": "h2",
            "reused": False,
            # A live target's cookies do not belong in a published report.
            "response": {
                "status_line": "HTTP/2 200",
                "status": 200,
                "headers": [["set-cookie", "(redacted)"], ["content-type", "text/plain"]],
            },
            "failure": None,
        },
    ]
    assert data["handshakes"] == [
        {"version": "TLSv1", "outcome": "refused", "detail": "alert protocol_version"},
        {"version": "TLSv1.1", "outcome": "refused", "detail": "alert protocol_version"},
    ]
    assert data["reproduce"] == reproduce_commands(observation(refused, upgraded), cafile=CAFILE)
    assert data["reproduce"][0].startswith("curl -sv --http1.1 -o /dev/null http://localhost")
    assert json.loads(json.dumps(data)) == data
