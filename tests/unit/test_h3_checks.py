"""The h3 requirement without sockets: its registration, its checks on hand-built
observations, and what happens without aioquic.
"""

from __future__ import annotations

import datetime as dt
import sys

import pytest

from pytest_upgrade._model import (
    Exchange,
    FailureKind,
    Finding,
    Observation,
    Offer,
    Outcome,
    ProbeFailure,
    Requirement,
    Transport,
)
from pytest_upgrade._requirements import parse_declared, parse_requirement
from pytest_upgrade.checks.catalogue import REGISTRY, checks_for, run_checks
from pytest_upgrade.judge import RequirementVerdict, conclude, target_error
from pytest_upgrade.probes.endpoint import ClientTrust
from pytest_upgrade.probes.target import Target
from pytest_upgrade.protocols import ENFORCEABLE, REFUSED, protocol_for
from pytest_upgrade.report.reproduce import reproduce_commands
from support.observations import TLS_H2, TLS_HTTP11, exchange, failure, response
from support.observations import observation as build
from support.outcomes import FAILED, NOTED, PASSED, SKIPPED, WARNED
from support.probing import observe

URL = "https://127.0.0.1:8443/x"
H3 = Requirement("h3", path="/x")
ADVERTISED = 'h3=":8443"; ma=86400'


def answer(
    role: str, version: str, status: int = 200, alt_svc: str | None = ADVERTISED
) -> Exchange:
    headers = (("alt-svc", alt_svc),) if alt_svc is not None else ()
    return exchange(
        role,
        response(status, *headers, http_version=version, reason=""),
        url=URL,
        offered="",
        transport=TLS_H2 if version == "2" else TLS_HTTP11,
    )


def quic(
    role: str = "upgraded",
    status: int | None = 200,
    failure: ProbeFailure | None = None,
    alpn: str | None = "h3",
) -> Exchange:
    return exchange(
        role,
        response(status, http_version="3") if status is not None else None,
        url=URL,
        offered="HTTP/3 over QUIC, ALPN h3, to 127.0.0.1:8443 (UDP)",
        offer=Offer(("3",), True, ("h3",)),
        transport=Transport("https", "TLSv1.3", alpn) if alpn is not None else None,
        failed_after=failure,
    )


def observation(*exchanges: Exchange) -> Observation:
    return build(H3, *exchanges, observed_at=None)


def advertised(
    alt_svc: str | None = ADVERTISED, *, h2_alt_svc: str | None = None, h3: Exchange | None = None
) -> Observation:
    return observation(
        answer("legacy", "1.1", alt_svc=alt_svc),
        answer("legacy-h2", "2", alt_svc=h2_alt_svc if h2_alt_svc is not None else alt_svc),
        h3 or quic(),
    )


def findings(obs: Observation) -> dict[str, Finding]:
    return {f.check_id: f for f in run_checks(obs)}


# -- the registry ------------------------------------------------------------------------


def test_h3_is_registered_with_its_alias_and_is_never_enforced() -> None:
    assert parse_requirement(("HTTP/3",), {}).protocol == "h3"
    assert parse_declared("h3 /x").path == "/x"
    assert "h3" not in ENFORCEABLE
    assert "h3" not in REFUSED
    assert protocol_for("h3").enforce is None
    assert not protocol_for("h3").websocket_client


def test_the_checks_on_a_426_and_the_gate_do_not_apply_to_h3() -> None:
    ids = [check.id for check in checks_for("h3")]
    assert ids == [
        "upgrade-unswitchable",
        "upgraded-succeeds",
        "upgraded-protocol",
        "alt-svc-h3",
        "alt-svc-max-age",
        "h3-same-status",
    ]
    for check_id in ("alt-svc-h3", "alt-svc-max-age", "h3-same-status"):
        assert REGISTRY[check_id].protocols == frozenset({"h3"})


@pytest.mark.parametrize("line", ["h3 /x after=2030-01-01", "HTTP/3 after=2030-01-01"])
def test_a_deadline_is_refused_for_h3(line: str) -> None:
    with pytest.raises(ValueError, match=r"after= is the date .* h3 has no such date"):
        parse_declared(line)
    with pytest.raises(ValueError, match="remove after="):
        parse_requirement(("h3",), {"after": dt.date(2030, 1, 1)})


def test_no_http_client_for_a_test_body() -> None:
    options = protocol_for("h3").client_options
    assert options is not None
    with pytest.raises(ValueError, match="httpx does not speak HTTP/3"):
        options(Target(None, None, ClientTrust()), ClientTrust())


# -- a correct deployment ------------------------------------------------------------------


def test_a_correct_deployment_passes_every_check() -> None:
    found = findings(advertised())
    assert {k: f.outcome for k, f in found.items()} == {
        "upgrade-unswitchable": PASSED,
        "upgraded-succeeds": PASSED,
        "upgraded-protocol": PASSED,
        "alt-svc-h3": PASSED,
        "alt-svc-max-age": PASSED,
        "h3-same-status": PASSED,
    }
    assert 'advertises h3=":8443"; ma=86400' in found["alt-svc-h3"].message


def test_an_alternative_naming_the_origin_host_counts() -> None:
    found = findings(advertised('h3="127.0.0.1:8443"; ma=60'))
    assert found["alt-svc-h3"].outcome is PASSED


# -- the advertisement -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alt_svc", "outcome", "words"),
    [
        (None, FAILED, "does not advertise HTTP/3"),
        ("clear", FAILED, "withdraws every alternative"),
        ('h3-29=":8443"; ma=86400', FAILED, "only draft versions of HTTP/3 (h3-29)"),
        ('h3-29=":8443", h3-27=":8443"', FAILED, "h3-29, h3-27"),
        ("h3=8443", FAILED, "malformed"),
        ('h2=":8443"', FAILED, "does not name h3"),
        ('h3="alt.example:443"; ma=60', WARNED, "only on another host (alt.example:443)"),
    ],
)
def test_advertisement_faults(alt_svc: str | None, outcome: Outcome, words: str) -> None:
    finding = findings(advertised(alt_svc))["alt-svc-h3"]
    assert finding.outcome is outcome
    assert words in finding.message
    assert finding.rfc == "RFC 9114 §3.1.1, RFC 7838 §3"


def test_a_draft_listed_with_h3_is_fine() -> None:
    assert findings(advertised('h3-29=":8443", h3=":8443"'))["alt-svc-h3"].outcome is PASSED


def test_the_http2_answer_is_judged_too() -> None:
    finding = findings(advertised(h2_alt_svc="clear"))["alt-svc-h3"]
    assert finding.outcome is FAILED
    assert "HTTP/2 answer" in finding.message


def test_an_advertising_answer_that_failed() -> None:
    broken = exchange(
        "legacy", failure(FailureKind.TIMEOUT, "no answer within 5 s"), url=URL, offered=""
    )
    obs = observation(broken, answer("legacy-h2", "2"), quic())
    assert findings(obs)["alt-svc-h3"].outcome is FAILED
    server_error = observation(answer("legacy", "1.1", 503), answer("legacy-h2", "2"), quic())
    assert "answered with 503" in findings(server_error)["alt-svc-h3"].message
    # A server without HTTP/2 is judged on its HTTP/1.1 answer alone.
    no_h2 = exchange(
        "legacy-h2",
        failure(FailureKind.ALPN_MISMATCH, "the server selected http/1.1"),
        url=URL,
        offered="",
    )
    assert findings(observation(answer("legacy", "1.1"), no_h2, quic()))["alt-svc-h3"].outcome is (
        PASSED
    )


@pytest.mark.parametrize(
    ("alt_svc", "outcome", "words"),
    [
        ('h3=":8443"; ma=0', WARNED, "has ma=0"),
        ('h3=":8443"', NOTED, "default 24 hours"),
        ('h3=":8443"; ma=3600', PASSED, "fresh for 3600 s"),
        ("clear", SKIPPED, "no answer advertises h3"),
    ],
)
def test_max_age(alt_svc: str, outcome: Outcome, words: str) -> None:
    finding = findings(advertised(alt_svc))["alt-svc-max-age"]
    assert finding.outcome is outcome
    assert words in finding.message


# -- the answer over HTTP/3 -----------------------------------------------------------------


def test_a_different_status_class_over_http3_fails() -> None:
    found = findings(advertised(h3=quic(status=404)))
    assert found["h3-same-status"].outcome is FAILED
    assert "HTTP/3 answers 404, HTTP/1.1 answers 200" in found["h3-same-status"].message
    assert 'http_version" "3"' in found["h3-same-status"].diagnosis
    assert found["upgraded-succeeds"].outcome is PASSED
    same_class = findings(advertised(h3=quic(status=204)))["h3-same-status"]
    assert same_class.outcome is PASSED


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        (FailureKind.TIMEOUT, "UDP port is filtered"),
        (FailureKind.UNREACHABLE, "ICMP port unreachable"),
        (FailureKind.CERTIFICATE, "RFC 7838 §2.1"),
        (FailureKind.ALPN_MISMATCH, 'does not offer ALPN "h3"'),
        (FailureKind.CLOSED, "Clients that upgrade as told"),
    ],
)
def test_quic_failures_are_findings_with_a_diagnosis(kind: FailureKind, words: str) -> None:
    failed = quic(status=None, failure=ProbeFailure(kind, "what happened"), alpn=None)
    obs = advertised(h3=failed)
    found = findings(obs)
    assert found["upgraded-succeeds"].outcome is FAILED
    assert words in found["upgraded-succeeds"].diagnosis
    assert found["h3-same-status"].outcome is SKIPPED
    # The QUIC endpoint is an alternative service: its faults never make the test an error.
    assert target_error(obs) is None


def test_a_wrong_port_is_named_when_the_origin_port_answers() -> None:
    silent = quic(status=None, failure=ProbeFailure(FailureKind.TIMEOUT, "no answer"), alpn=None)
    direct = quic(role="h3-direct")
    obs = observation(
        answer("legacy", "1.1", alt_svc='h3=":9999"'),
        answer("legacy-h2", "2", alt_svc='h3=":9999"'),
        silent,
        direct,
    )
    diagnosis = findings(obs)["upgraded-succeeds"].diagnosis
    assert "answers at the origin's own port 8443" in diagnosis
    assert "advertises the wrong port" in diagnosis


def test_a_draft_alpn_over_quic_fails_the_protocol_check() -> None:
    draft = quic(
        status=None,
        failure=ProbeFailure(FailureKind.ALPN_MISMATCH, "selected h3-29, not h3"),
        alpn="h3-29",
    )
    assert findings(advertised(h3=draft))["upgraded-protocol"].outcome is FAILED


def test_reproduce_commands_use_curl_http3() -> None:
    commands = reproduce_commands(advertised(), cafile="/ca.pem")
    assert any(c.startswith("curl -sv --http3-only --cacert /ca.pem") for c in commands)


# -- without aioquic ----------------------------------------------------------------------


def test_without_aioquic_nothing_is_probed_and_the_requirement_is_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "aioquic", None)
    monkeypatch.setitem(sys.modules, "aioquic.asyncio", None)
    target = Target.from_urls(["https://127.0.0.1:9"])  # nothing is sent anywhere
    obs = observe(H3, target, timeout=1)
    (only,) = obs.exchanges
    assert only.failure is not None
    assert only.failure.kind is FailureKind.UNSUPPORTED
    assert "pip install 'pytest-upgrade[h3]'" in only.failure.message
    result = conclude(obs, tuple(run_checks(obs)))
    assert result.verdict is RequirementVerdict.SKIPPED
    assert "pip install 'pytest-upgrade[h3]'" in result.skip_reason
    assert target_error(obs) is None


def test_a_target_without_https_cannot_be_probed() -> None:
    obs = observe(H3, Target.from_urls(["http://127.0.0.1:9"]), timeout=1)
    result = conclude(obs, tuple(run_checks(obs)))
    assert result.verdict is RequirementVerdict.SKIPPED
    assert "no https URL" in result.skip_reason


# -- how a closed QUIC connection reads (RFC 9000 §20, RFC 9001 §4.8) -------------------


@pytest.mark.parametrize(
    ("code", "kind", "words"),
    [
        (0x100 + 48, FailureKind.CERTIFICATE, "did not verify (unknown_ca: why)"),
        (0x100 + 42, FailureKind.CERTIFICATE, "bad_certificate"),
        (0x100 + 120, FailureKind.ALPN_MISMATCH, "does not offer h3"),
        (0x100 + 80, FailureKind.TLS_REFUSED, "TLS alert 80: why"),
        (
            0x1,
            FailureKind.CLOSED,
            "closed the QUIC connection (transport error 0x1, RFC 9000 §20: why)",
        ),
        # In a transport close; the same number as an application error is HTTP/3's
        # H3_REQUEST_CANCELLED (tests/unit/test_quic_close_codes.py).
        (0x10C, FailureKind.TLS_REFUSED, "TLS alert 12"),
    ],
)
def test_a_terminated_connection_is_classified(code: int, kind: FailureKind, words: str) -> None:
    from pytest_upgrade.probes.quic_errors import terminated

    error = terminated(code, "why", "127.0.0.1:443 (UDP)", application=False)
    assert error.kind is kind
    assert words in error.message
