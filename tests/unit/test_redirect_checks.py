"""Redirects to https standing in for the 426, and HSTS (RFC 9110 §15.4, RFC 6797).

Every observation is built by hand; no socket is opened.
"""

from __future__ import annotations

import pytest

from pytest_upgrade._model import Finding, Observation, Outcome, Requirement, Severity
from pytest_upgrade.checks.catalogue import REGISTRY, run_checks
from pytest_upgrade.grammar.hsts import StsField, parse_sts
from support.observations import HTTPS, TLS_H2, exchange, observation, response
from support.outcomes import FAILED, NOTED, PASSED, SKIPPED, WARNED

HTTP = "http://127.0.0.1:8080"
YEAR = ("strict-transport-security", "max-age=31536000")


def run(check_id: str, observed: Observation) -> Finding:
    return REGISTRY[check_id].run(observed)


def tls_observation(
    status: int,
    location: str | None = "https://127.0.0.1:8443/orders/42?x=1",
    *,
    method: str = "GET",
    path: str = "/orders/42?x=1",
    https_headers: tuple[tuple[str, str], ...] = (YEAR,),
    cleartext_headers: tuple[tuple[str, str], ...] = (),
) -> Observation:
    headers = (("location", location),) if location is not None else ()
    legacy = exchange(
        "legacy",
        response(status, *headers, *cleartext_headers),
        url=HTTP + path,
        method=method,
        offered="HTTP/1.1 over cleartext",
    )
    upgraded = exchange(
        "upgraded",
        response(200, *https_headers, http_version="2"),
        url=HTTPS + path,
        method=method,
        transport=TLS_H2,
    )
    requirement = Requirement("TLS/1.2", path=path, method=method)
    return observation(requirement, legacy, upgraded)


def outcomes(observed: Observation, *check_ids: str) -> dict[str, Outcome]:
    findings = {f.check_id: f.outcome for f in run_checks(observed)}
    return {check_id: findings[check_id] for check_id in check_ids}


MUSTS = ("status-426", "cleartext-refused")
SHOULDS = ("redirect-permanent", "redirect-keeps-method")


# -- any redirect to the same resource over https stands in for the 426 ---------------


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(301, PASSED), (302, WARNED), (303, WARNED), (307, WARNED), (308, PASSED)],
)
def test_every_redirect_status_to_the_same_resource_stands_in(
    status: int, permanent: Outcome
) -> None:
    got = outcomes(tls_observation(status), *MUSTS, *SHOULDS)
    assert got == {
        "status-426": PASSED,
        "cleartext-refused": PASSED,
        "redirect-permanent": permanent,
        # a GET is repeated as a GET after every redirect status
        "redirect-keeps-method": SKIPPED,
    }


@pytest.mark.parametrize(
    ("status", "kept"),
    [(301, WARNED), (302, WARNED), (303, WARNED), (307, PASSED), (308, PASSED)],
)
def test_a_post_is_kept_only_by_307_and_308(status: int, kept: Outcome) -> None:
    finding = run("redirect-keeps-method", tls_observation(status, method="POST"))
    assert finding.outcome is kept
    if kept is WARNED:
        assert "as a GET" in finding.message
        assert "307 and 308 keep the method" in finding.diagnosis


def test_a_relative_location_cannot_change_the_scheme() -> None:
    observed = tls_observation(308, "/orders/42?x=1")
    finding = run("cleartext-refused", observed)
    assert finding.outcome is FAILED
    assert "http://127.0.0.1:8080/orders/42?x=1, not to https" in finding.message
    assert "Location: /orders/42?x=1" in finding.actual


@pytest.mark.parametrize(
    ("location", "words"),
    [
        ("http://127.0.0.1/orders/42?x=1", "not to https"),
        ("https://elsewhere.example/orders/42?x=1", "another host (elsewhere.example)"),
        ("https://127.0.0.1/", "drops the requested resource (/orders/42?x=1 becomes /)"),
        ("https://127.0.0.1/orders/42", "drops the requested resource"),
    ],
    ids=["cleartext", "other-host", "to-root", "query-dropped"],
)
def test_a_redirect_elsewhere_fails_with_the_location_seen(location: str, words: str) -> None:
    observed = tls_observation(301, location)
    finding = run("cleartext-refused", observed)
    assert finding.outcome is FAILED
    assert words in finding.message
    assert f"Location: {location}" in finding.actual
    status = run("status-426", observed)
    assert status.outcome is FAILED
    assert words in status.diagnosis
    # the should-checks judge only a redirect that stands in
    assert run("redirect-permanent", observed).outcome is SKIPPED


def test_the_host_is_compared_without_case_and_port() -> None:
    observed = tls_observation(308, "https://127.0.0.1:9443/orders/42?x=1")
    assert outcomes(observed, *MUSTS) == {"status-426": PASSED, "cleartext-refused": PASSED}
    upper = tls_observation(308, "HTTPS://127.0.0.1/orders/42?x=1")
    assert outcomes(upper, *MUSTS) == {"status-426": PASSED, "cleartext-refused": PASSED}


def test_a_redirect_without_location_says_so() -> None:
    finding = run("status-426", tls_observation(302, None))
    assert finding.outcome is FAILED
    assert "carries no Location" in finding.diagnosis
    assert run("cleartext-refused", tls_observation(302, None)).outcome is FAILED


def test_a_redirect_does_not_stand_in_for_other_protocols() -> None:
    legacy = exchange("legacy", response(308, ("location", HTTPS + "/")), url=HTTPS + "/")
    finding = run("status-426", observation(Requirement("h2"), legacy))
    assert finding.outcome is FAILED
    assert "only a TLS requirement may redirect" in finding.diagnosis


def test_a_426_skips_the_redirect_checks() -> None:
    legacy = exchange(
        "legacy",
        response(426, ("upgrade", "TLS/1.2"), ("connection", "upgrade")),
        url=HTTP + "/",
    )
    observed = observation(Requirement("TLS/1.2"), legacy)
    for check_id in SHOULDS:
        finding = run(check_id, observed)
        assert finding.outcome is SKIPPED
        assert "answered with 426" in finding.message


def test_severities_and_sections() -> None:
    assert REGISTRY["redirect-permanent"].severity is Severity.SHOULD
    assert REGISTRY["redirect-keeps-method"].severity is Severity.SHOULD
    assert REGISTRY["hsts"].severity is Severity.SHOULD
    assert "RFC 6797" in REGISTRY["hsts"].rfc
    assert REGISTRY["hsts"].protocols == {"TLS/1.2", "TLS/1.3"}


# -- HSTS on the https answers (RFC 6797) -------------------------------------------


@pytest.mark.parametrize(
    ("headers", "outcome", "words"),
    [
        ((YEAR,), PASSED, "max-age=31536000)"),
        (
            (("strict-transport-security", "max-age=63072000; includeSubDomains; preload"),),
            PASSED,
            "includeSubDomains, preload",
        ),
        ((), WARNED, "carries no Strict-Transport-Security"),
        ((("strict-transport-security", "max-age=86400"),), WARNED, "(1 days) is shorter"),
        ((("strict-transport-security", "max-age=0"),), WARNED, "shorter than 180 days"),
        ((("strict-transport-security", "includeSubDomains"),), WARNED, "max-age directive"),
        ((("strict-transport-security", "max-age=1; max-age=2"),), WARNED, "more than once"),
        # RFC 6797 §8.1: only the first field counts
        ((("strict-transport-security", "max-age=60"), YEAR), WARNED, "max-age=60"),
    ],
    ids=["year", "subdomains-preload", "absent", "one-day", "zero", "no-max-age", "twice", "first"],
)
def test_hsts(headers: tuple[tuple[str, str], ...], outcome: Outcome, words: str) -> None:
    finding = run("hsts", tls_observation(308, https_headers=headers))
    assert finding.outcome is outcome, finding
    assert words in finding.message


def test_hsts_on_the_cleartext_answer_is_noted_as_ignored() -> None:
    observed = tls_observation(308, cleartext_headers=(YEAR,))
    finding = run("hsts", observed)
    assert finding.outcome is NOTED
    assert "ignored by clients" in finding.message
    absent = run("hsts", tls_observation(308, https_headers=(), cleartext_headers=(YEAR,)))
    assert absent.outcome is WARNED
    assert "ignored by clients" in absent.message


def test_hsts_without_an_https_answer_is_skipped() -> None:
    legacy = exchange("legacy", response(308, ("location", HTTPS + "/")), url=HTTP + "/")
    finding = run("hsts", observation(Requirement("TLS/1.2"), legacy))
    assert finding.outcome is SKIPPED


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("max-age=31536000", StsField(max_age=31536000)),
        (' MAX-AGE="100" ;', StsField(max_age=100)),
        ('max-age=1;;foo="a;b";includesubdomains', StsField(1, include_subdomains=True)),
        ("max-age=5; preload", StsField(5, preload=True)),
    ],
)
def test_parse_sts(value: str, parsed: StsField) -> None:
    assert parse_sts(value) == parsed


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("", "max-age directive is missing"),
        ("max-age", "max-age has no value"),
        ("max-age=abc", "not a number of seconds"),
        ("max-age=-1", "not a number of seconds"),
        ("max-age=1; x y", "'x y' is not a directive"),
        ("max-age=1; Max-Age=2", "appears more than once"),
    ],
)
def test_parse_sts_errors(value: str, error: str) -> None:
    # A UA ignores such a field: no max-age, and the error says why.
    assert parse_sts(value).max_age is None
    assert error in parse_sts(value).error
