"""CORS on the refusal (Fetch standard §3.2): the grammar and the two checks, without sockets."""

from __future__ import annotations

import pytest

from pytest_upgrade._model import Finding, Observation, Outcome, Requirement
from pytest_upgrade._requirements import parse_declared, parse_origin, parse_requirement
from pytest_upgrade.checks.catalogue import REGISTRY, run_checks
from pytest_upgrade.grammar.cors import (
    allows_origin,
    non_safelisted_headers,
    preflight_allows,
    preflight_request_headers,
)
from support.observations import TLS_H2, exchange, observation, response
from support.outcomes import NOTED, PASSED, SKIPPED, WARNED

APP = "https://app.example"
ACAO = "access-control-allow-origin"
ACAC = "access-control-allow-credentials"
REFUSAL = (("upgrade", "HTTP/2.0"), ("connection", "upgrade"))


def run(check_id: str, observed: Observation) -> Finding:
    return REGISTRY[check_id].run(observed)


def cors_observation(
    refusal: tuple[tuple[str, str], ...],
    upgraded: tuple[tuple[str, str], ...],
    *,
    method: str = "GET",
    origin: str | None = APP,
    preflight: tuple[int, tuple[tuple[str, str], ...]] | None = None,
    asked: str = "",
) -> Observation:
    exchanges = [
        exchange("legacy", response(426, *REFUSAL, *refusal), method=method),
        exchange("upgraded", response(200, *upgraded, http_version="2"), transport=TLS_H2),
    ]
    if preflight is not None:
        sent = [("Origin", APP), ("Access-Control-Request-Method", method)]
        if asked:
            sent.append(("Access-Control-Request-Headers", asked))
        status, fields = preflight
        exchanges.append(
            exchange(
                "cors-preflight",
                response(status, *fields),
                method="OPTIONS",
                request_headers=tuple(sent),
            )
        )
    requirement = Requirement("h2", method=method, origin=origin)
    return observation(requirement, *exchanges)


# -- cors-on-refusal ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("refusal", "upgraded", "outcome"),
    [
        (((ACAO, APP),), ((ACAO, APP),), PASSED),
        (((ACAO, "*"),), ((ACAO, "*"),), PASSED),
        (((ACAO, "*"),), ((ACAO, APP),), PASSED),
        ((), ((ACAO, APP),), WARNED),  # CORS middleware ordered after the protocol check
        (((ACAO, "https://other.example"),), ((ACAO, APP),), WARNED),
        (((ACAO, APP), (ACAO, APP)), ((ACAO, APP),), WARNED),  # twice: the CORS check fails
        # credentialed: * does not do, and Access-Control-Allow-Credentials must follow
        (((ACAO, "*"),), ((ACAO, APP), (ACAC, "true")), WARNED),
        (((ACAO, APP),), ((ACAO, APP), (ACAC, "true")), WARNED),
        (((ACAO, APP), (ACAC, "true")), ((ACAO, APP), (ACAC, "true")), PASSED),
        # the API does not serve this origin at all: nothing to compare, noted
        ((), (), NOTED),
        ((), ((ACAO, "https://other.example"),), NOTED),
    ],
)
def test_cors_on_refusal(
    refusal: tuple[tuple[str, str], ...], upgraded: tuple[tuple[str, str], ...], outcome: Outcome
) -> None:
    finding = run("cors-on-refusal", cors_observation(refusal, upgraded))
    assert finding.outcome is outcome, finding
    if outcome is WARNED:
        assert "Failed to fetch" in finding.diagnosis
        assert "add_header Access-Control-Allow-Origin … always" in finding.diagnosis


def test_without_an_origin_no_cors_check_runs() -> None:
    observed = cors_observation((), ((ACAO, APP),), origin=None)
    found = {f.check_id for f in run_checks(observed)}
    assert found.isdisjoint({"cors-on-refusal", "cors-preflight-not-refused"})
    assert "status-426" in found
    for check_id in ("cors-on-refusal", "cors-preflight-not-refused"):
        finding = run(check_id, observed)  # called directly, each says why it cannot judge
        assert finding.outcome is SKIPPED
        assert "no Origin is sent unasked" in finding.message


def test_a_websocket_requirement_has_no_cors_checks() -> None:
    assert "websocket" not in REGISTRY["cors-on-refusal"].protocols
    assert "h2" in REGISTRY["cors-on-refusal"].protocols


# -- cors-preflight-not-refused --------------------------------------------------------


ALLOWING = ((ACAO, APP), ("access-control-allow-methods", "GET, PUT"))


@pytest.mark.parametrize(
    ("preflight", "outcome", "words"),
    [
        ((204, ALLOWING), PASSED, "succeeds"),
        ((426, ALLOWING), WARNED, "426, not an ok status"),  # even with CORS fields
        ((426, ()), WARNED, "not an ok status"),
        ((200, ((ACAO, APP),)), WARNED, "does not list PUT"),
        ((200, (("access-control-allow-methods", "PUT"),)), WARNED, "no Access-Control-Allow"),
    ],
)
def test_cors_preflight(
    preflight: tuple[int, tuple[tuple[str, str], ...]], outcome: Outcome, words: str
) -> None:
    observed = cors_observation(((ACAO, APP),), ((ACAO, APP),), method="PUT", preflight=preflight)
    finding = run("cors-preflight-not-refused", observed)
    assert finding.outcome is outcome, finding
    assert words in finding.message + finding.actual


def test_a_simple_request_needs_no_preflight() -> None:
    finding = run("cors-preflight-not-refused", cors_observation((), ((ACAO, APP),)))
    assert finding.outcome is SKIPPED
    assert "needs no preflight" in finding.message


def test_a_failed_preflight_of_an_origin_the_api_never_allows_is_noted() -> None:
    observed = cors_observation((), (), method="PUT", preflight=(426, ()))
    assert run("cors-preflight-not-refused", observed).outcome is NOTED


# -- the Fetch rules -------------------------------------------------------------------


def test_which_requests_need_a_preflight() -> None:
    assert preflight_request_headers("GET", [("Accept", "*/*")], APP) is None
    assert preflight_request_headers("POST", [("Content-Type", "text/plain")], APP) is None
    assert preflight_request_headers("PUT", [], APP) == (
        ("Origin", APP),
        ("Access-Control-Request-Method", "PUT"),
    )
    json_post = preflight_request_headers(
        "POST", [("Content-Type", "application/json"), ("Authorization", "Bearer x")], APP
    )
    assert json_post is not None
    assert ("Access-Control-Request-Headers", "authorization,content-type") in json_post
    # Origin, User-Agent and Cookie are the browser's, not the page's
    assert non_safelisted_headers([("Origin", APP), ("User-Agent", "x"), ("Cookie", "a=b")]) == []


def test_preflight_allows() -> None:
    fields = {
        ACAO: ["*"],
        "access-control-allow-methods": ["*"],
        "access-control-allow-headers": ["*"],
    }
    common = {"method": "PUT", "origin": APP, "credentialed": False}
    assert preflight_allows(200, fields, request_headers=["x-a"], **common).allowed
    # Fetch §4.8: "*" never stands for Authorization
    denied = preflight_allows(200, fields, request_headers=["authorization"], **common)
    assert not denied.allowed
    assert "authorization" in denied.why


def test_allows_origin_needs_credentials_for_a_credentialed_request() -> None:
    assert allows_origin([APP], ["true"], APP, credentialed=True).allowed
    assert not allows_origin([APP], [], APP, credentialed=True).allowed
    assert not allows_origin(["*"], ["true"], APP, credentialed=True).allowed


# -- origin= -------------------------------------------------------------------------


@pytest.mark.parametrize("origin", [APP, "http://localhost:5173", "https://[::1]:8443"])
def test_serialized_origins_are_accepted(origin: str) -> None:
    assert parse_origin(origin) == origin
    assert parse_requirement(("h2",), {"origin": origin}).origin == origin


@pytest.mark.parametrize(
    ("origin", "hint"),
    [
        ("https://app.example/", "did you mean 'https://app.example'?"),
        ("https://App.example", "did you mean 'https://app.example'?"),
        ("https://app.example:443", "did you mean 'https://app.example'?"),
        ("app.example", "not a serialized origin"),
        ("ftp://app.example", "not a serialized origin"),
        ("https://user@app.example", "did you mean 'https://app.example'?"),
        ("https://app.example:99999", "not a serialized origin"),
    ],
)
def test_other_origins_are_refused(origin: str, hint: str) -> None:
    with pytest.raises(ValueError, match="scheme://host") as info:
        parse_origin(origin)
    assert hint in str(info.value)


def test_a_declared_line_takes_an_origin() -> None:
    assert parse_declared(f"h2 /v2 origin={APP}").origin == APP
    assert parse_declared("h2 /v2", default_origin=APP).origin == APP
    assert parse_declared("h2 /v2 origin=http://a.example", default_origin=APP).origin == (
        "http://a.example"
    )


def test_the_report_names_the_origin() -> None:
    from pytest_upgrade.report.results import describe_requirement

    text = describe_requirement(Requirement("h2", origin=APP))
    assert f"origin={APP!r}" in text
