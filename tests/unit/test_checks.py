"""Unit tests for the named checks in ``pytest_upgrade.checks.catalogue``.

Every observation here is built by hand: no socket is opened. The tables
follow CHECKS.md; each group of rows names its check, each row the situation
and the outcome the catalogue requires.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest

from pytest_upgrade._model import (
    Exchange,
    FailureKind,
    HandshakeOutcome,
    Observation,
    Outcome,
    ProbeFailure,
    Requirement,
    Response,
    Severity,
    TlsHandshake,
    Transport,
)
from pytest_upgrade._verdict import Verdict
from pytest_upgrade.checks.catalogue import REGISTRY, checks_for, run_checks
from pytest_upgrade.checks.registry import Check, Phase
from support.observations import (
    OBSERVED_AT,
    ON_THE_426,
    TLS_H2,
    TLS_HTTP11,
    exchange,
    failure,
    handshake,
    observation,
    response,
    run,
    said,
)
from support.outcomes import FAILED, PASSED, SKIPPED, WARNED

# -- builders ------------------------------------------------------------------

HTTPS = "https://127.0.0.1:8443"
HTTP = "http://127.0.0.1:8080"

GOOD_PROBLEM: dict[str, Any] = {
    "type": "about:blank",
    "title": "Upgrade Required",
    "status": 426,
    "detail": "This endpoint requires HTTP/2",
}

# A marker object meaning "leave the default alone", so that None can mean "absent".
_DEFAULT: Any = object()


def problem(**changes: Any) -> bytes:
    """GOOD_PROBLEM with members changed (a value of None removes the member)."""
    members = {**GOOD_PROBLEM, **changes}
    return json.dumps({k: v for k, v in members.items() if v is not None}).encode()


def legacy_response(
    status: int = 426,
    *,
    upgrade: str | None = "HTTP/2.0",
    connection: tuple[str, ...] = ("upgrade",),
    content_type: str | None = "application/problem+json",
    body: bytes = _DEFAULT,
    extra: tuple[tuple[str, str], ...] = (),
    http_version: str = "1.1",
    truncated: bool = False,
) -> Response:
    """A legacy answer; by default a fully correct 426 over HTTP/1.1.

    ``connection`` lists the Connection field lines (each one a separate field,
    as servers like hypercorn send them); the other fields are omitted when None.
    """
    headers: list[tuple[str, str]] = []
    if upgrade is not None:
        headers.append(("upgrade", upgrade))
    headers += [("connection", value) for value in connection]
    if content_type is not None:
        headers.append(("content-type", content_type))
    headers += [(name.lower(), value) for name, value in extra]
    return response(
        status,
        *headers,
        http_version=http_version,
        body=problem() if body is _DEFAULT else body,
        reason="Upgrade Required" if status == 426 else "",
        truncated=truncated,
    )


def h2_response(status: int = 200, *headers: tuple[str, str]) -> Response:
    return response(status, ("content-type", "text/plain"), *headers, http_version="2")


def handshakes(tls1: HandshakeOutcome, tls11: HandshakeOutcome) -> tuple[TlsHandshake, ...]:
    return (
        handshake("TLSv1", tls1, "detail of TLSv1"),
        handshake("TLSv1.1", tls11, "detail of TLSv1.1"),
    )


REFUSED = HandshakeOutcome.REFUSED
ACCEPTED = HandshakeOutcome.ACCEPTED
CANNOT_OFFER = HandshakeOutcome.CLIENT_CANNOT_OFFER
ERROR = HandshakeOutcome.ERROR
BOTH_REFUSED = handshakes(REFUSED, REFUSED)
H2 = Requirement("h2")


def make_observation(
    legacy: Response | ProbeFailure | None = _DEFAULT,
    upgraded: Response | ProbeFailure | None = _DEFAULT,
    *,
    base: str = HTTPS,
    upgraded_transport: Transport | None = _DEFAULT,
    tls: tuple[TlsHandshake, ...] = BOTH_REFUSED,
) -> Observation:
    """An h2 observation; by default every probe went as CHECKS.md wants.

    ``legacy`` / ``upgraded`` are what the probe got (a response or a failure),
    or None when that probe was not made at all.
    """
    legacy = legacy_response() if legacy is _DEFAULT else legacy
    tls_used = base.startswith("https://")
    upgraded = h2_response() if upgraded is _DEFAULT else upgraded
    exchanges: list[Exchange] = []
    if legacy is not None:
        exchanges.append(
            exchange(
                "legacy",
                legacy,
                url=base + "/",
                offered=(
                    "HTTP/1.1 over TLS, ALPN http/1.1" if tls_used else "HTTP/1.1 over cleartext"
                ),
                transport=TLS_HTTP11 if tls_used else Transport("http"),
            )
        )
    if upgraded is not None:
        if upgraded_transport is _DEFAULT:
            upgraded_transport = TLS_H2 if isinstance(upgraded, Response) else None
        exchanges.append(
            exchange(
                "upgraded",
                upgraded,
                url=base + "/",
                offered="HTTP/2 over TLS, ALPN h2, http/1.1",
                transport=upgraded_transport,
            )
        )
    return observation(H2, *exchanges, target=base, handshakes=tls)


def test_expires_is_judged_against_the_evaluation_time_not_the_clock() -> None:
    legacy = legacy_response(extra=(("expires", "Mon, 01 Jun 2026 13:00:00 GMT"),))
    observation = make_observation(legacy)
    assert run("not-cacheable", observation).outcome is Outcome.WARNED
    later = dataclasses.replace(observation, observed_at=OBSERVED_AT + dt.timedelta(days=1))
    assert run("not-cacheable", later).outcome is Outcome.PASSED
    unknown = dataclasses.replace(observation, observed_at=None)
    finding = run("not-cacheable", unknown)
    assert finding.outcome is Outcome.SKIPPED
    assert "evaluation time" in finding.message


# Without a deadline (after=), the announcement checks of the gate do not run
# (tests/unit/test_gate_checks.py covers them).
H2_CHECKS = [
    check.id for check in checks_for("h2") if check.phase not in (Phase.ANNOUNCED, Phase.GATED)
]
# Judged only for a requirement with an origin (tests/unit/test_cors_checks.py).
CORS_CHECKS = ("cors-on-refusal", "cors-preflight-not-refused")

HEADER_CHECKS = [
    "upgrade-present",
    "upgrade-syntax",
    "upgrade-names-required",
    "connection-upgrade",
]

# Dates for the freshness rows (RFC 9110 §5.6.7 IMF-fixdate, real weekdays).
DATE = "Mon, 01 Jan 2024 00:00:00 GMT"
AN_HOUR_LATER = "Mon, 01 Jan 2024 01:00:00 GMT"
AN_HOUR_EARLIER = "Sun, 31 Dec 2023 23:00:00 GMT"
FAR_FUTURE = "Fri, 01 Jan 2100 00:00:00 GMT"
LONG_AGO = "Thu, 01 Jan 1970 00:00:00 GMT"


def case(
    check_id: str, name: str, observation: Observation, outcome: Outcome, mentions: str = ""
) -> Any:
    """One row: ``check_id`` on ``observation`` gives ``outcome``, saying ``mentions``."""
    return pytest.param(check_id, observation, outcome, mentions, id=f"{check_id}: {name}")


def cases(check_id: str, *rows: tuple[Any, ...]) -> list[Any]:
    """``check_id``'s rows, each ``(name, observation, outcome[, mentions])``."""
    return [case(check_id, *row) for row in rows]


def legacy(status: int = 426, **fields: Any) -> Observation:
    """The observation whose legacy probe got ``legacy_response(status, **fields)``."""
    return make_observation(legacy_response(status, **fields))


def with_problem(**changes: Any) -> Observation:
    """The observation whose 426 carries ``problem(**changes)``."""
    return make_observation(legacy_response(body=problem(**changes)))


def upgraded(answer: Response | ProbeFailure | None) -> Observation:
    """The observation whose upgraded probe got ``answer`` (None: it was not made)."""
    return make_observation(upgraded=answer)


def tls(tls1: HandshakeOutcome, tls11: HandshakeOutcome) -> Observation:
    """The observation whose TLSv1 and TLSv1.1 handshakes went so."""
    return make_observation(tls=handshakes(tls1, tls11))


def cached(*fields: tuple[str, str]) -> Observation:
    return make_observation(legacy_response(extra=fields))


CASES = [
    # -- status-426 -------------------------------------------------------------
    *cases(
        "status-426",
        ("426", make_observation(), PASSED),
        ("426 over HTTP/2", legacy(http_version="2"), PASSED),
        ("200", legacy(200), FAILED, "still served"),
        ("legacy probe not made", make_observation(legacy=None), SKIPPED),
        (
            "TLS refused",
            make_observation(failure(FailureKind.TLS_REFUSED, "alert handshake_failure")),
            FAILED,
            "TLS/ALPN",
        ),
        ("closed", make_observation(failure(FailureKind.CLOSED)), FAILED),
        ("protocol error", make_observation(failure(FailureKind.PROTOCOL)), FAILED),
        (
            "client cannot offer",
            make_observation(failure(FailureKind.UNSUPPORTED, "no TLS 1.0 in this OpenSSL")),
            SKIPPED,
            "no TLS 1.0 in this OpenSSL",
        ),
        (
            "not applicable",
            make_observation(failure(FailureKind.NOT_APPLICABLE, "the target has no https URL")),
            SKIPPED,
            "no https URL",
        ),
    ),
    # -- upgrade-present --------------------------------------------------------
    *cases(
        "upgrade-present",
        ("present", make_observation(), PASSED, "HTTP/2.0"),
        ("absent", legacy(upgrade=None), FAILED, "no Upgrade field"),
    ),
    # -- upgrade-syntax ---------------------------------------------------------
    *cases(
        "upgrade-syntax",
        ("HTTP/2.0", make_observation(), PASSED),
        ("a list", legacy(upgrade="HTTP/2.0, TLS/1.3"), PASSED),
        ("space around slash", legacy(upgrade="HTTP / 2.0"), FAILED),
        ("quoted string", legacy(upgrade='"HTTP/2.0"'), FAILED),
        ("empty list", legacy(upgrade=", "), FAILED),
        ("no Upgrade to parse", legacy(upgrade=None), SKIPPED),
    ),
    # -- upgrade-names-required -------------------------------------------------
    *cases(
        "upgrade-names-required",
        ("HTTP/2.0", legacy(upgrade="HTTP/2.0"), PASSED),
        ("names compare case-insensitively", legacy(upgrade="http/2.0"), PASSED),
        ("HTTP/2.0 among others", legacy(upgrade="websocket, HTTP/2.0"), PASSED),
        ("h2 is an ALPN id, not an upgrade token", legacy(upgrade="h2"), WARNED),
        ("HTTP/2 lacks the minor digit", legacy(upgrade="HTTP/2"), WARNED),
        ("h2c over TLS", legacy(upgrade="h2c"), FAILED, "cleartext"),
        ("h2c over cleartext", make_observation(legacy_response(upgrade="h2c"), base=HTTP), PASSED),
        ("another protocol", legacy(upgrade="websocket"), FAILED),
        ("HTTP/3.0 cannot be upgraded to", legacy(upgrade="HTTP/3.0"), FAILED),
        ("no Upgrade", legacy(upgrade=None), SKIPPED),
    ),
    # -- connection-upgrade -----------------------------------------------------
    *cases(
        "connection-upgrade",
        ("upgrade", make_observation(), PASSED),
        ("options are case-insensitive", legacy(connection=("keep-alive, Upgrade",)), PASSED),
        # hypercorn answers HTTP/1.0 with two Connection fields: combine them (RFC 9110 §5.3)
        (
            "repeated fields over HTTP/1.0",
            legacy(connection=("close", "upgrade"), http_version="1.0"),
            PASSED,
        ),
        ("repeated fields over HTTP/1.1", legacy(connection=("keep-alive", "upgrade")), PASSED),
        ("no upgrade option", legacy(connection=("keep-alive",)), FAILED),
        ("an option that only starts with upgrade", legacy(connection=("upgrade2",)), FAILED),
        ("no Connection field", legacy(connection=()), FAILED, "no Connection field"),
    ),
    # -- problem-media-type -----------------------------------------------------
    *cases(
        "problem-media-type",
        ("problem+json", make_observation(), PASSED),
        (
            "with parameters, in capitals",
            legacy(content_type="Application/Problem+JSON; charset=utf-8"),
            PASSED,
        ),
        ("plain JSON", legacy(content_type="application/json"), WARNED),
        ("no Content-Type", legacy(content_type=None), WARNED, "no Content-Type field"),
    ),
    # -- problem-body -----------------------------------------------------------
    *cases(
        "problem-body",
        ("well-formed", make_observation(), PASSED),
        ("no status member", with_problem(status=None), PASSED),
        (
            "a type URI with its own title",
            with_problem(type="https://example.com/probs/http2", title="Use HTTP/2"),
            PASSED,
        ),
        ("a relative type", with_problem(type="/probs/http2", title="Use HTTP/2"), PASSED),
        ("status 400 in a 426", with_problem(status=400), FAILED, "400"),
        ("status as a string", with_problem(status="426"), WARNED),
        ("status as a boolean", with_problem(status=True), WARNED),
        (
            "about:blank with another title",
            with_problem(title="Please upgrade"),
            WARNED,
            "Upgrade Required",
        ),
        # an absent type means about:blank (RFC 9457 §3.1.1)
        (
            "no type, another title",
            with_problem(type=None, title="Please upgrade"),
            WARNED,
            "Upgrade Required",
        ),
        ("type not a URI reference", with_problem(type="not a uri", title="Use HTTP/2"), WARNED),
        ("instance not a string", with_problem(instance=42), WARNED),
        ("title not a string", with_problem(title=["Upgrade Required"]), WARNED),
        ("detail not a string", with_problem(detail={"use": "HTTP/2"}), WARNED),
        ("invalid JSON", legacy(body=b'{"status": 426,'), FAILED),
        ("an array", legacy(body=b'[{"status": 426}]'), FAILED, "array"),
        ("empty", legacy(body=b""), FAILED),
        ("not problem+json", legacy(content_type="text/html", body=b"<h1>nope</h1>"), SKIPPED),
        (
            "truncated body: past the read limit, never passed",
            legacy(body=b'{"status": 4', truncated=True),
            FAILED,
        ),
    ),
    # -- problem-actionable -----------------------------------------------------
    *cases(
        "problem-actionable",
        ("detail names HTTP/2", make_observation(), PASSED),
        ("title names HTTP/2.0", with_problem(title="Use HTTP/2.0", detail=None), PASSED),
        ("detail names h2", with_problem(detail="Switch to h2, please"), PASSED),
        # A sentence ends with a full stop; tests/support/apps.py's CORRECT app says exactly this.
        (
            "detail ends with a full stop",
            with_problem(detail="This endpoint requires HTTP/2."),
            PASSED,
        ),
        (
            "an extension member links to a guide",
            with_problem(detail="Old clients are retired", migration="https://example.com/h2"),
            PASSED,
        ),
        ("h2c is not h2", with_problem(detail="Upgrade to h2c"), WARNED),
        ("only the status phrase", with_problem(detail=None), WARNED),
        (
            "an extension member that is no link",
            with_problem(detail=None, migration="ask the admins"),
            WARNED,
        ),
        ("not problem+json", legacy(content_type="text/plain", body=b"use HTTP/2"), SKIPPED),
        ("not JSON", legacy(body=b"use HTTP/2"), SKIPPED),
    ),
    # -- not-cacheable ----------------------------------------------------------
    *cases(
        "not-cacheable",
        ("no cache fields", make_observation(), PASSED, "no cache fields"),
        ("max-age=3600", cached(("cache-control", "max-age=3600")), WARNED),
        ("s-maxage=10", cached(("cache-control", "s-maxage=10")), WARNED),
        ("public", cached(("cache-control", "public")), WARNED),
        ("quoted max-age in capitals", cached(("cache-control", 'Max-Age="3600"')), WARNED),
        (
            "Expires after Date",
            cached(("date", DATE), ("expires", AN_HOUR_LATER)),
            WARNED,
            "future",
        ),
        ("Expires in the future, no Date", cached(("expires", FAR_FUTURE)), WARNED),
        ("no-store wins", cached(("cache-control", "no-store, max-age=3600")), PASSED),
        (
            "no-store in another field line",
            cached(("cache-control", "max-age=3600"), ("cache-control", "no-store")),
            PASSED,
        ),
        ("max-age=0", cached(("cache-control", "max-age=0")), PASSED),
        ("no-cache alone", cached(("cache-control", "no-cache")), PASSED),
        ("Expires before Date", cached(("date", DATE), ("expires", AN_HOUR_EARLIER)), PASSED),
        ("Expires long ago", cached(("expires", LONG_AGO)), PASSED),
        # RFC 9111 §5.3: an invalid Expires means "already expired"
        ("Expires invalid", cached(("date", DATE), ("expires", "0")), PASSED),
        # RFC 9111 §5.3: max-age overrides Expires
        (
            "max-age=0 beats a future Expires",
            cached(("cache-control", "max-age=0"), ("date", DATE), ("expires", AN_HOUR_LATER)),
            PASSED,
        ),
        # public only lifts the ban on storing; with an explicit expiration time present a
        # cache MUST NOT use heuristic freshness (RFC 9111 §4.2.2), so max-age=0 stays stale
        ("public with max-age=0", cached(("cache-control", "public, max-age=0")), PASSED),
    ),
    # -- upgraded-succeeds ------------------------------------------------------
    *cases(
        "upgraded-succeeds",
        ("200", make_observation(), PASSED),
        ("404 is not a refusal", upgraded(h2_response(404)), PASSED),
        ("426 again", upgraded(h2_response(426)), FAILED, "also answered with 426"),
        ("500", upgraded(h2_response(500)), FAILED),
        ("503", upgraded(h2_response(503)), FAILED),
        (
            "ALPN mismatch",
            make_observation(
                upgraded=failure(FailureKind.ALPN_MISMATCH, "the server selected http/1.1"),
                upgraded_transport=Transport("https", "TLSv1.3", "http/1.1"),
            ),
            FAILED,
            "ALPN",
        ),
        ("connection closed", upgraded(failure(FailureKind.CLOSED)), FAILED),
        (
            "client cannot make the probe",
            upgraded(failure(FailureKind.UNSUPPORTED, "no h2 support")),
            SKIPPED,
        ),
        ("probe not made", upgraded(None), SKIPPED),
    ),
    # -- upgraded-protocol ------------------------------------------------------
    *cases(
        "upgraded-protocol",
        ("h2 by ALPN", make_observation(), PASSED, "ALPN h2"),
        (
            "ALPN http/1.1",
            make_observation(
                upgraded=legacy_response(200, upgrade=None, connection=()),
                upgraded_transport=Transport("https", "TLSv1.3", "http/1.1"),
            ),
            FAILED,
            "ALPN http/1.1",
        ),
        (
            "no ALPN at all",
            make_observation(
                upgraded=legacy_response(200, upgrade=None, connection=()),
                upgraded_transport=Transport("https", "TLSv1.2", None),
            ),
            FAILED,
            "ALPN none",
        ),
        (
            "ALPN mismatch failure",
            make_observation(
                upgraded=failure(FailureKind.ALPN_MISMATCH, "the server selected http/1.1"),
                upgraded_transport=Transport("https", "TLSv1.3", "http/1.1"),
            ),
            FAILED,
        ),
        ("no connection", upgraded(failure(FailureKind.TLS_REFUSED, "alert")), SKIPPED),
        (
            "h2 negotiated, then no response",
            make_observation(
                upgraded=failure(FailureKind.CLOSED, "reset after SETTINGS"),
                upgraded_transport=Transport("https", "TLSv1.3", "h2"),
            ),
            SKIPPED,
        ),
        ("probe not made", upgraded(None), SKIPPED),
    ),
    # -- h2-no-connection-headers -----------------------------------------------
    *cases(
        "h2-no-connection-headers",
        ("clean HTTP/2 response", make_observation(), PASSED),
        (
            "connection on an HTTP/2 response",
            upgraded(h2_response(200, ("connection", "keep-alive"))),
            FAILED,
            "connection: keep-alive",
        ),
        (
            "transfer-encoding on an HTTP/2 response",
            upgraded(h2_response(200, ("transfer-encoding", "chunked"))),
            FAILED,
        ),
        (
            "upgrade on a 426 sent over HTTP/2",
            legacy(http_version="2", connection=()),
            FAILED,
            "upgrade: HTTP/2.0 (legacy)",
        ),
        ("no HTTP/2 response", upgraded(failure(FailureKind.ALPN_MISMATCH)), SKIPPED),
    ),
    # -- tls-legacy-refused -----------------------------------------------------
    *cases(
        "tls-legacy-refused",
        ("both refused", make_observation(), PASSED),
        ("TLS 1.0 accepted", tls(ACCEPTED, REFUSED), FAILED, "TLSv1"),
        ("TLS 1.1 accepted", tls(REFUSED, ACCEPTED), FAILED, "TLSv1.1"),
        ("accepted beats inconclusive", tls(CANNOT_OFFER, ACCEPTED), FAILED),
        ("client cannot offer either", tls(CANNOT_OFFER, CANNOT_OFFER), SKIPPED, "inconclusive"),
        ("one refused, one client-cannot-offer", tls(REFUSED, CANNOT_OFFER), SKIPPED),
        ("one refused, one error", tls(REFUSED, ERROR), SKIPPED),
        ("no handshake probe", make_observation(tls=()), SKIPPED),
    ),
    # Neither 101 nor 426: an Upgrade field there only advertises (RFC 9110 §7.8).
    *cases(
        "upgrade-unswitchable",
        (
            "a 200 without Upgrade",
            legacy(200, upgrade=None, connection=()),
            PASSED,
            "1 ordinary answer",
        ),
        (
            "Upgrade: h2 on a 200 over TLS (mod_http2)",
            legacy(200, upgrade="h2"),
            WARNED,
            "ProtocolsHonorOrder off",
        ),
        ("only a 426 and an HTTP/2 answer", make_observation(), SKIPPED, "no HTTP/1.x answer"),
    ),
]


@pytest.mark.parametrize(("check_id", "observation", "outcome", "mentions"), CASES)
def test_check(check_id: str, observation: Observation, outcome: Outcome, mentions: str) -> None:
    finding = run(check_id, observation)
    assert finding.outcome is outcome, finding
    assert finding.check_id == check_id
    assert finding.message
    assert mentions in said(finding)


def test_every_h2_check_has_a_passing_and_a_violating_case() -> None:
    outcomes: dict[str, set[Outcome]] = {c: set() for c in H2_CHECKS if c not in CORS_CHECKS}
    for param in CASES:
        check_id, _, outcome, _ = param.values
        outcomes[check_id].add(outcome)
    for check_id, seen in outcomes.items():
        assert PASSED in seen, check_id
        assert seen & {FAILED, WARNED}, check_id


def test_the_default_observation_passes_every_check() -> None:
    findings = run_checks(make_observation())
    # upgrade-unswitchable judges answers other than 101 and 426, and there are none;
    # the CORS checks need an origin: none is given, so they are not run.
    expected = [
        (c, SKIPPED if c == "upgrade-unswitchable" else PASSED)
        for c in H2_CHECKS
        if c not in CORS_CHECKS
    ]
    assert [(f.check_id, f.outcome) for f in findings] == expected


# -- the 426 checks need a 426 ---------------------------------------------------


@pytest.mark.parametrize("check_id", ON_THE_426)
@pytest.mark.parametrize(
    "legacy",
    [
        # even a 200 with every fault the 426 checks look for is not judged by them
        legacy_response(
            200,
            upgrade=None,
            connection=(),
            content_type="text/html",
            body=b"<p>hello</p>",
            extra=(("cache-control", "public, max-age=3600"),),
        ),
        legacy_response(301, upgrade=None, connection=(), content_type=None, body=b""),
        legacy_response(404, content_type="application/problem+json", body=problem(status=404)),
        failure(FailureKind.TLS_REFUSED),
        failure(FailureKind.UNSUPPORTED),
        None,
    ],
    ids=["200", "301", "404", "tls-refused", "unsupported", "no-probe"],
)
def test_checks_on_the_426_are_skipped_without_one(
    check_id: str, legacy: Response | ProbeFailure | None
) -> None:
    finding = run(check_id, make_observation(legacy))
    assert finding.outcome is SKIPPED
    assert finding.message


@pytest.mark.parametrize("check_id", HEADER_CHECKS)
def test_header_checks_are_skipped_on_a_426_over_http2(check_id: str) -> None:
    # RFC 9113 §8.2.2: an HTTP/2 426 cannot carry Upgrade or Connection at all
    observation = make_observation(legacy_response(http_version="2", upgrade=None, connection=()))
    finding = run(check_id, observation)
    assert finding.outcome is SKIPPED
    assert "HTTP/2" in finding.message


def test_a_426_over_http2_is_still_a_426() -> None:
    observation = make_observation(legacy_response(http_version="2", upgrade=None, connection=()))
    findings = {f.check_id: f.outcome for f in run_checks(observation)}
    assert findings["status-426"] is PASSED
    assert findings["h2-no-connection-headers"] is PASSED
    assert findings["problem-body"] is PASSED


# -- status-426 diagnoses --------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (200, "still served"),
        (204, "still served"),
        (301, "redirect"),
        (308, "redirect"),
        (400, "without telling the client"),
        (403, "forbidden"),
        (404, "WebSocket"),
        (505, "Upgrade field"),
        (500, "failed"),
        (503, "failed"),
    ],
)
def test_status_426_diagnoses_the_common_answers(status: int, says: str) -> None:
    finding = run("status-426", make_observation(legacy_response(status)))
    assert finding.outcome is FAILED
    assert finding.expected == "426 Upgrade Required"
    assert str(status) in finding.actual
    assert finding.diagnosis
    assert says in finding.diagnosis


def test_status_426_tls_refusal_is_diagnosed_at_the_tls_layer() -> None:
    legacy = failure(FailureKind.TLS_REFUSED, "the server refused the TLS handshake: alert 120")
    finding = run("status-426", make_observation(legacy))
    assert finding.outcome is FAILED
    assert finding.actual == "the server refused the TLS handshake: alert 120"
    assert "TLS/ALPN layer" in finding.diagnosis
    assert "HTTP/1.1 over TLS, ALPN http/1.1" in finding.diagnosis  # what was offered


# -- details the tables do not show ----------------------------------------------


@pytest.mark.parametrize("upgrade", ["h2", "HTTP/2", "H2"])
def test_unregistered_http2_names_are_a_should_level_note(upgrade: str) -> None:
    finding = run("upgrade-names-required", make_observation(legacy_response(upgrade=upgrade)))
    assert finding.outcome is WARNED
    assert finding.severity is Severity.SHOULD
    assert "HTTP/2.0" in finding.diagnosis


def test_problem_body_status_mismatch_is_a_must_even_with_should_findings() -> None:
    body = problem(status=400, title="Nope")
    finding = run("problem-body", make_observation(legacy_response(body=body)))
    assert finding.outcome is FAILED
    assert finding.severity is Severity.MUST
    assert "400" in finding.message
    assert "'Nope'" in finding.message  # the should-level findings are reported too


def test_problem_body_should_findings_lower_the_severity() -> None:
    finding = run("problem-body", make_observation(legacy_response(body=problem(status="426"))))
    assert finding.outcome is WARNED
    assert finding.severity is Severity.SHOULD
    assert "string" in finding.message


def test_problem_body_status_as_a_fractional_json_number_is_compared_by_value() -> None:
    # RFC 8259 §6: JSON has one number type, so 400.0 is the number 400 and
    # RFC 9457 §3.1.2 (generators MUST use the same code) is violated.
    finding = run("problem-body", make_observation(legacy_response(body=problem(status=400.0))))
    assert finding.outcome is FAILED


def test_problem_body_status_426_point_0_is_not_called_a_non_number() -> None:
    finding = run("problem-body", make_observation(legacy_response(body=problem(status=426.0))))
    assert finding.outcome is not FAILED
    assert "not a number" not in finding.message


def test_upgraded_alpn_mismatch_tells_how_to_enable_h2() -> None:
    observation = make_observation(
        upgraded=failure(FailureKind.ALPN_MISMATCH, "the server selected http/1.1"),
        upgraded_transport=Transport("https", "TLSv1.3", "http/1.1"),
    )
    finding = run("upgraded-succeeds", observation)
    assert finding.actual == "the server selected http/1.1"
    assert "enable HTTP/2" in finding.diagnosis


def test_h2_connection_headers_are_listed_per_exchange() -> None:
    observation = make_observation(
        legacy_response(http_version="2", connection=("close",), upgrade=None),
        h2_response(200, ("keep-alive", "timeout=5"), ("proxy-connection", "close")),
    )
    finding = run("h2-no-connection-headers", observation)
    assert finding.outcome is FAILED
    assert finding.actual == (
        "connection: close (legacy); keep-alive: timeout=5 (upgraded);"
        " proxy-connection: close (upgraded)"
    )


def test_tls_legacy_refused_never_passes_when_inconclusive() -> None:
    finding = run("tls-legacy-refused", make_observation(tls=handshakes(REFUSED, CANNOT_OFFER)))
    assert finding.outcome is SKIPPED
    assert finding.message.startswith("inconclusive, never passed")
    assert "TLSv1.1: client-cannot-offer" in finding.message


# -- Check.run: from verdict to outcome -------------------------------------------


def _check_returning(verdict: Verdict, severity: Severity) -> Check:
    return Check(
        "demo", severity, "RFC 0000 §0", "a demo rule", frozenset({"h2"}), lambda _: verdict
    )


@pytest.mark.parametrize(
    ("verdict", "severity", "outcome", "finding_severity"),
    [
        (Verdict.ok("fine"), Severity.MUST, PASSED, Severity.MUST),
        (Verdict.ok("fine"), Severity.SHOULD, PASSED, Severity.SHOULD),
        (Verdict.skip("cannot tell"), Severity.MUST, SKIPPED, Severity.MUST),
        (Verdict.skip("cannot tell"), Severity.INFO, SKIPPED, Severity.INFO),
        (Verdict.violated("bad"), Severity.MUST, FAILED, Severity.MUST),
        (Verdict.violated("bad"), Severity.SHOULD, WARNED, Severity.SHOULD),
        # info is reported, never fails, and passes only when its rule holds
        (Verdict.ok("seen"), Severity.INFO, PASSED, Severity.INFO),
        (Verdict.violated("seen"), Severity.INFO, Outcome.NOTED, Severity.INFO),
        # a verdict may lower its check's severity for itself
        (Verdict.violated("meh", severity=Severity.SHOULD), Severity.MUST, WARNED, Severity.SHOULD),
        (
            Verdict.violated("fyi", severity=Severity.INFO),
            Severity.MUST,
            Outcome.NOTED,
            Severity.INFO,
        ),
    ],
    ids=[
        "ok-must",
        "ok-should",
        "skip-must",
        "skip-info",
        "ok-info",
        "violated-must",
        "violated-should",
        "violated-info",
        "lowered-to-should",
        "lowered-to-info",
    ],
)
def test_check_run_maps_verdicts_to_outcomes(
    verdict: Verdict, severity: Severity, outcome: Outcome, finding_severity: Severity
) -> None:
    finding = _check_returning(verdict, severity).run(make_observation())
    assert finding.outcome is outcome
    assert finding.severity is finding_severity
    assert finding.check_id == "demo"
    assert finding.message == verdict.message
    assert finding.rfc == "RFC 0000 §0"


def test_check_run_carries_expected_actual_and_diagnosis() -> None:
    verdict = Verdict.violated("bad", expected="this", actual="that", diagnosis="why")
    finding = _check_returning(verdict, Severity.MUST).run(make_observation())
    assert (finding.expected, finding.actual, finding.diagnosis) == ("this", "that", "why")


def test_check_run_reports_a_broken_check_as_an_error_with_the_cause() -> None:
    def broken(observation: Observation) -> Verdict:
        raise KeyError("oops")

    check = Check("broken", Severity.MUST, "", "", frozenset({"h2"}), broken)
    finding = check.run(make_observation())
    assert finding.outcome is Outcome.ERROR
    assert "KeyError" in finding.message
    assert "oops" in finding.message


# -- the registry ----------------------------------------------------------------


def test_registry_ids_are_kebab_case_and_match_their_key() -> None:
    for check_id, check in REGISTRY.items():
        assert check.id == check_id
        assert check_id == check_id.lower()
        assert all(part.isalnum() for part in check_id.split("-")), check_id
        assert check.rfc
        assert check.rule


def test_checks_for_h2_in_catalogue_order() -> None:
    assert [
        "status-426",
        *ON_THE_426,
        "cors-on-refusal",
        "cors-preflight-not-refused",
        "upgrade-unswitchable",
        "upgraded-succeeds",
        "upgraded-protocol",
        "h2-no-connection-headers",
        "tls-legacy-refused",
    ] == H2_CHECKS


def test_checks_for_a_selection_keeps_catalogue_order() -> None:
    selected = checks_for("h2", ["not-cacheable", "status-426", "no-such-check"])
    assert [check.id for check in selected] == ["status-426", "not-cacheable"]


def test_checks_for_an_unknown_protocol_is_empty() -> None:
    assert checks_for("gopher") == []


def test_run_checks_with_a_selection() -> None:
    observation = make_observation(legacy_response(upgrade=None))
    findings = run_checks(observation, ["upgrade-present", "tls-legacy-refused"])
    assert [(f.check_id, f.outcome) for f in findings] == [
        ("upgrade-present", FAILED),
        ("tls-legacy-refused", PASSED),
    ]


def test_run_checks_with_an_empty_selection_runs_nothing() -> None:
    assert run_checks(make_observation(), []) == []
