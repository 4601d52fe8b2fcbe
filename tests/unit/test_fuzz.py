"""Fuzzed parsers and checks: arbitrary header values and bodies never crash them.

Property-based (hypothesis): every parser of ``grammar`` (and the gate's
``parse_deprecation``) over arbitrary text and bytes, and every check over
observations built from arbitrary responses, failures and handshakes, for
every protocol, with and without a deadline (``after=``). No exception
escapes, every input yields one finding per applicable check, outcomes are
valid, the rendered report and JSON never fail, and no check passes what it
did not see.

The example counts keep this file at a few seconds. A longer run:

    HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest tests/unit/test_fuzz.py -p no:cacheprovider
"""

from __future__ import annotations

import datetime as dt
import json
import os
import string

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pytest_upgrade import _model as model
from pytest_upgrade import grammar
from pytest_upgrade._model import (
    Exchange,
    FailureKind,
    Finding,
    Observation,
    Outcome,
    Requirement,
    Response,
    Severity,
)
from pytest_upgrade.checks.catalogue import REGISTRY, checks_for, run_checks
from pytest_upgrade.checks.gate import parse_deprecation
from pytest_upgrade.checks.registry import Phase
from pytest_upgrade.judge import EvaluationPolicy, conclude
from pytest_upgrade.protocols import PROTOCOLS as REGISTERED
from pytest_upgrade.protocols import TOKENS
from pytest_upgrade.protocols.roles import CORS_PREFLIGHT
from pytest_upgrade.report.results import (
    failure_report,
    result_to_json,
    summary_line,
)

_LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large]
FUZZ = settings(
    max_examples=5000 if _LONG else 60, deadline=None, suppress_health_check=_HEALTH, database=None
)
# Observations are costlier to draw (five exchanges, each with fields and a body).
FUZZ_OBSERVATIONS = settings(FUZZ, max_examples=2000 if _LONG else 25)

PROTOCOLS = TOKENS

# -- strategies ---------------------------------------------------------------------

# Pieces that make the parsers take their interesting branches.
_FRAGMENTS = [
    "HTTP/2.0", "HTTP/2", "h2", "h2c", "websocket", "WebSocket", "TLS/1.2", "TLS/1.3",
    "HTTP/1.1", "HTTP/3", "upgrade", "Upgrade", "close", "keep-alive", "application",
    "problem+json", "application/problem+json", "json", "charset=utf-8", "max-age=60",
    "s-maxage=0", "public", "no-store", "@1688169599", "@-1", "?1", "true",
    "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
    "Sun Nov  6 08:49:37 1994", "Sat, 29 Feb 2100 00:00:00 GMT", "23:59:60",
    '"', "\\", ",", ";", "=", "/", " ", "\t", "(", ")", "\x00", "\x7f", "\r\n", "é", "\xff",
    "\u2028", "\ud800", "€", "🙂", "[", "]", "@", ":", "%41", "%",
]  # fmt: skip

header_text = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=string.printable + "\x80\xff", max_size=80),
    st.lists(st.sampled_from(_FRAGMENTS), max_size=12).map("".join),
    st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=6)), max_size=8).map(
        ", ".join
    ),
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=6,
)

problem_members = st.fixed_dictionaries(
    {},
    optional={
        "type": st.one_of(st.just("about:blank"), header_text, json_values),
        "title": st.one_of(st.just("Upgrade Required"), header_text, json_values),
        "status": st.one_of(st.just(426), st.integers(), json_values),
        "detail": st.one_of(header_text, json_values),
        "instance": st.one_of(header_text, json_values),
    },
)


def _nested(depth: int) -> bytes:
    return b'{"a": ' * depth + b"1" + b"}" * depth


bodies = st.one_of(
    st.binary(max_size=200),
    problem_members.map(lambda d: json.dumps(d).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.text(max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b"",
            b"\xef\xbb\xbf{}",
            b"NaN",
            b'{"status": Infinity}',
            b"1" * 5000,
            b"[" * 5000,
            _nested(3000),
            b'{"a": 1, "a": 2}',
            b'{"title": "\\ud800"}',
        ]
    ),
)

HEADER_NAMES = [
    "upgrade", "connection", "content-type", "cache-control", "expires", "location",
    "deprecation", "sunset", "sec-websocket-accept", "sec-websocket-version",
    "transfer-encoding", "keep-alive", "proxy-connection", "alt-svc", "date", "x-other",
]  # fmt: skip

headers = st.lists(st.tuples(st.sampled_from(HEADER_NAMES), header_text), max_size=6).map(tuple)

responses = st.builds(
    Response,
    status=st.one_of(st.sampled_from([101, 200, 204, 301, 308, 400, 404, 426, 500]), st.integers()),
    http_version=st.sampled_from(["1.0", "1.1", "2", "", "3", "HTTP/1.1"]),
    headers=headers,
    body=bodies,
    reason=st.text(max_size=20),
    body_truncated=st.booleans(),
)

failures = st.builds(
    model.ProbeFailure,
    kind=st.sampled_from(FailureKind),
    message=st.text(min_size=1, max_size=40).filter(lambda m: m.strip() and "\n" not in m),
)

transports = st.one_of(
    st.none(),
    st.builds(
        model.Transport,
        scheme=st.sampled_from(["https", "http", ""]),
        tls_version=st.one_of(
            st.none(), st.sampled_from(["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]), st.text()
        ),
        alpn=st.one_of(st.none(), st.sampled_from(["h2", "http/1.1", "h2c"]), st.text()),
    ),
)

# Every role any protocol's plan records, in first-seen order.
ROLES = list(
    dict.fromkeys([*(role for p in REGISTERED.values() for role in p.roles), CORS_PREFLIGHT])
)


@st.composite
def exchanges(draw: st.DrawFn, role: str) -> Exchange:
    answered = draw(st.booleans())
    request_headers = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["Sec-WebSocket-Key", "sec-websocket-key", "Upgrade", "Host"]),
                st.one_of(st.just("dGhlIHNhbXBsZSBub25jZQ=="), header_text),
            ),
            max_size=3,
        ).map(tuple)
    )
    return Exchange(
        role=role,
        url=draw(st.sampled_from(["https://127.0.0.1:8443/x", "http://127.0.0.1:8080/x", ""])),
        method=draw(st.sampled_from(["GET", "POST"])),
        offered=draw(
            st.sampled_from(
                [
                    "HTTP/1.1 over TLS, ALPN http/1.1",
                    "HTTP/2 over TLS, ALPN h2, http/1.1",
                    "HTTP/1.0 over cleartext",
                    "HTTP/2 over cleartext with prior knowledge",
                    "WebSocket handshake (RFC 6455, version 13) over TLS",
                    "",
                ]
            )
        ),
        request_headers=request_headers,
        transport=draw(transports),
        response=draw(responses) if answered else None,
        failure=None if answered else draw(failures),
        answered_by=draw(st.sampled_from(["", "app", "server"])),
    )


@st.composite
def observations(draw: st.DrawFn, protocol: str | None = None) -> Observation:
    protocol = protocol or draw(st.sampled_from(PROTOCOLS))
    roles = draw(st.lists(st.sampled_from(ROLES), unique=True, max_size=5))
    handshakes = draw(
        st.lists(
            st.builds(
                model.TlsHandshake,
                version=st.sampled_from(["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]),
                outcome=st.sampled_from(model.HandshakeOutcome),
                detail=st.text(max_size=20),
            ),
            max_size=4,
        )
    )
    return Observation(
        requirement=Requirement(
            protocol, path="/x", origin=draw(st.none() | st.just("https://app.example"))
        ),
        target="https://127.0.0.1:8443 and http://127.0.0.1:8080",
        exchanges=tuple(draw(exchanges(role)) for role in roles),
        handshakes=tuple(handshakes),
        as_of=dt.date(2026, 6, 1),
    )


# -- parsers ------------------------------------------------------------------------


@FUZZ
@given(header_text)
def test_split_list(value: str) -> None:
    elements = grammar.split_list(value)
    assert all(isinstance(e, str) and e and e == e.strip(" \t") for e in elements)


@FUZZ
@given(header_text)
def test_parse_upgrade(value: str) -> None:
    parsed = grammar.parse_upgrade(value)
    assert all(isinstance(e, str) and e for e in parsed.errors)
    for protocol in parsed.protocols:
        assert grammar.is_token(protocol.name)
        assert protocol.version is None or grammar.is_token(protocol.version)
        assert str(protocol)
    assert parsed.valid == (not parsed.errors and bool(parsed.protocols))
    if not grammar.split_list(value):
        assert not parsed.valid


@FUZZ
@given(header_text)
def test_parse_connection(value: str) -> None:
    parsed = grammar.parse_connection(value)
    assert all(grammar.is_token(o) and o == o.lower() for o in parsed.options)
    assert len(parsed.options) + len(parsed.errors) == len(grammar.split_list(value))


@FUZZ
@given(header_text)
def test_parse_media_type(value: str) -> None:
    parsed = grammar.parse_media_type(value)
    if parsed is not None:
        assert grammar.is_token(parsed.type)
        assert parsed.type == parsed.type.lower()
        assert grammar.is_token(parsed.subtype)
        assert parsed.subtype == parsed.subtype.lower()
        assert all(grammar.is_token(name) and name == name.lower() for name, _ in parsed.parameters)
        assert parsed.essence == f"{parsed.type}/{parsed.subtype}"


@FUZZ
@given(header_text)
def test_parse_cache_control(value: str) -> None:
    directives = grammar.parse_cache_control(value)
    for name, argument in directives.items():
        assert grammar.is_token(name)
        assert name == name.lower()
        assert argument is None or isinstance(argument, str)


@FUZZ
@given(header_text, st.datetimes(timezones=st.none() | st.just(dt.UTC)))
def test_parse_http_date(value: str, now: dt.datetime) -> None:
    parsed = grammar.parse_http_date(value, now=now)
    if parsed is not None:
        assert parsed.tzinfo is not None
        assert parsed.utcoffset() == dt.timedelta(0)


@FUZZ
@given(
    st.builds(
        dt.datetime,
        st.integers(1, 9999),
        st.integers(1, 12),
        st.integers(1, 28),
        st.integers(0, 23),
        st.integers(0, 59),
        st.integers(0, 59),
        tzinfo=st.just(dt.UTC),
    )
)
def test_parse_http_date_round_trips_imf_fixdate(stamp: dt.datetime) -> None:
    text = stamp.strftime("%a, %d %b ") + f"{stamp.year:04d}" + stamp.strftime(" %H:%M:%S GMT")
    assert grammar.parse_http_date(text, now=stamp) == stamp


@FUZZ
@given(header_text)
def test_token_and_uri_predicates(value: str) -> None:
    assert isinstance(grammar.is_token(value), bool)
    assert isinstance(grammar.is_uri_reference(value), bool)
    if grammar.is_token(value):
        assert grammar.split_list(value) == [value]


@FUZZ
@given(bodies)
def test_parse_problem_json(body: bytes) -> None:
    document = grammar.parse_problem_json(body)
    assert (document.members is None) != (document.error is None)
    if document.error is not None:
        assert document.error
        assert "\n" not in document.error
    else:
        assert isinstance(document.members, dict)


def test_parse_problem_json_deep_nesting() -> None:
    for depth in (10, 900, 5000, 100_000):
        document = grammar.parse_problem_json(_nested(depth))
        assert (document.members is None) != (document.error is None)
    assert (
        grammar.parse_problem_json(b"[" * 100_000).error == "the JSON is nested too deeply to parse"
    )


@FUZZ
@given(st.text(max_size=40))
@example("dGhlIHNhbXBsZSBub25jZQ==")
@example("\u0100")  # beyond Latin-1: the octets it stands for are unknown, but no crash
@example("\ud800")
def test_expected_accept(key: str) -> None:
    """Sec-WebSocket-Key values arrive as text decoded from octets; none may crash it."""
    accept = grammar.expected_accept(key)
    assert isinstance(accept, str)
    assert len(accept) == 28


@FUZZ
@given(header_text)
def test_parse_deprecation(value: str) -> None:
    date, problem = parse_deprecation(value)
    assert (date is None) != (problem == "")
    if date is not None:
        assert isinstance(date, dt.datetime)


# -- checks -------------------------------------------------------------------------


def _expected_ids(observation: Observation) -> list[str]:
    before = observation.before_deadline
    return [
        check.id
        for check in checks_for(observation.requirement.protocol)
        if (check.phase != Phase.ANNOUNCED or before)
        and (check.phase != Phase.GATED or observation.requirement.after is not None)
        and (check.applies is None or check.applies(observation.requirement))
    ]


def _assert_valid(observation: Observation, findings: list[Finding]) -> None:
    assert [f.check_id for f in findings] == _expected_ids(observation)
    for finding in findings:
        assert isinstance(finding.outcome, Outcome)
        assert isinstance(finding.severity, Severity)
        assert isinstance(finding.message, str)
        assert finding.message
        # Check.run turns an exception into an error: none may have happened.
        assert finding.outcome is not Outcome.ERROR, finding
        if finding.outcome is Outcome.FAILED:
            assert finding.severity is Severity.MUST
        if finding.outcome is Outcome.WARNED:
            assert finding.severity is Severity.SHOULD
        assert REGISTRY[finding.check_id].rfc == finding.rfc
    by_id = {f.check_id: f for f in findings}
    # Never a pass the probes did not see.
    legacy = observation.exchange("legacy")
    status = by_id.get("status-426")
    if status is not None and status.outcome is Outcome.PASSED:
        assert legacy is not None
        assert legacy.response is not None
        redirect = observation.requirement.protocol.startswith("TLS/")
        assert legacy.response.status == 426 or (redirect and legacy.response.status // 100 == 3)
    succeeded = by_id.get("upgraded-succeeds")
    if succeeded is not None and succeeded.outcome is Outcome.PASSED:
        roles = REGISTERED[observation.requirement.protocol].upgraded_roles
        upgraded = [e for e in observation.exchanges if e.role in roles]
        answered = [e for e in upgraded if e.response is not None]
        assert answered
        for exchange in upgraded:
            if exchange.response is None:  # only an inconclusive probe may be left out
                assert exchange.failure is not None
                assert exchange.failure.kind in (
                    FailureKind.UNSUPPORTED,
                    FailureKind.NOT_APPLICABLE,
                )
        for exchange in answered:
            assert exchange.response is not None
            assert exchange.response.status != 426
            assert exchange.response.status < 500
    body = by_id.get("problem-body")
    if body is not None and body.outcome is Outcome.PASSED:
        assert legacy is not None
        assert legacy.response is not None
        assert not legacy.response.body_truncated
        assert grammar.parse_problem_json(legacy.response.body).members is not None


def _render(observation: Observation, findings: list[Finding]) -> None:
    for strict in (False, True):
        result = conclude(
            observation, tuple(findings), EvaluationPolicy(strict=strict), cafile="/ca.pem"
        )
        assert failure_report(result)
        assert summary_line(result)
        json.dumps(result_to_json(result))


@FUZZ_OBSERVATIONS
@given(observations())
def test_every_check_on_arbitrary_observations(observation: Observation) -> None:
    findings = run_checks(observation)
    _assert_valid(observation, findings)
    _render(observation, findings)


@FUZZ_OBSERVATIONS
@given(
    observations(),
    st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)),
)
def test_every_check_with_a_deadline(observation: Observation, after: dt.date) -> None:
    requirement = Requirement(observation.requirement.protocol, path="/x", after=after)
    observation = Observation(
        requirement=requirement,
        target=observation.target,
        exchanges=observation.exchanges,
        handshakes=observation.handshakes,
        as_of=observation.as_of,
    )
    findings = run_checks(observation)
    _assert_valid(observation, findings)
    if observation.before_deadline:
        enforced = [f for f in findings if REGISTRY[f.check_id].phase == "enforced"]
        assert all(f.outcome is Outcome.SKIPPED for f in enforced)
    _render(observation, findings)


@FUZZ_OBSERVATIONS
@given(st.sampled_from(PROTOCOLS), st.data())
def test_every_protocol_with_a_full_plan(protocol: str, data: st.DataObject) -> None:
    """Each role present, so that no check stops early at a missing exchange."""
    observation = data.draw(observations(protocol))
    observation = Observation(
        requirement=observation.requirement,
        target=observation.target,
        exchanges=tuple(data.draw(exchanges(role)) for role in ROLES),
        handshakes=observation.handshakes,
        as_of=observation.as_of,
    )
    findings = run_checks(observation)
    _assert_valid(observation, findings)
    _render(observation, findings)


def test_ten_thousand_headers_are_checked_quickly() -> None:
    """A response with 10,000 fields (within the head limit) costs no quadratic time.

    Timed against the same checks on 1,000 fields in the same process, so the
    bound holds on a slow or loaded machine: linear cost is about 10 times
    that; quadratic would be about 100.
    """
    import time

    def observation_with(fields: int) -> Observation:
        many = tuple((f"x-filler-{n}", "v") for n in range(fields))
        refusal = Response(
            426,
            "1.1",
            (("upgrade", "HTTP/2.0"), ("connection", "upgrade"), *many),
            body=b'{"status": 426}',
        )
        legacy = Exchange("legacy", "https://127.0.0.1/x", "GET", "", response=refusal)
        return Observation(Requirement("h2"), "https://127.0.0.1", exchanges=(legacy,))

    def fastest(observation: Observation) -> float:
        times = []  # the best of several: a run the scheduler interrupted is not the cost
        for _ in range(7):
            start = time.perf_counter()
            run_checks(observation)
            times.append(time.perf_counter() - start)
        return min(times)

    observation = observation_with(10_000)
    assert fastest(observation) < 40 * fastest(observation_with(1_000))
    findings = run_checks(observation)
    _assert_valid(observation, findings)
