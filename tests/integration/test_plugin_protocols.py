"""The plugin as users run it, for websocket, h2c, TLS/1.2, TLS/1.3 and HTTP/1.1.

Each case writes a conftest serving tests/support/protocol_apps.py (correct unless
told otherwise) and a marked test, runs pytest on it, and asserts the outcome
and the check ids in the report. What an app under hypercorn cannot show (a
wrong Sec-WebSocket-Accept, other answers to an unsupported WebSocket
version, a cleartext port without HTTP/2) comes from the raw-socket live
targets of tests/support/raw_servers.py.
"""

from __future__ import annotations

import json
import pathlib
import re
from typing import Any

import pytest

import pytest_upgrade.probes.endpoint
from support import raw_servers
from support.protocol_apps import TLS13_ONLY_PATCH, protocol_app_source, protocol_conftest_source

PATHS = {
    "websocket": "/ws",
    "h2c": "/internal",
    "TLS/1.2": "/secure",
    "TLS/1.3": "/secure13",
    "HTTP/1.1": "/legacy",
}
# upgrade_server_options for the bundled server (its default minimum is TLS 1.2).
TLS10_SERVER = "{'tls_minimum': ssl.TLSVersion.TLSv1}"
TLS13_SERVER = "{'tls_minimum': ssl.TLSVersion.TLSv1_3}"
TLS12_ONLY_SERVER = "{'tls_maximum': ssl.TLSVersion.TLSv1_2}"
NOT_ACTIONABLE = "Please upgrade your client."
# A legacy request served (2xx) or redirected (3xx) carries no Upgrade/Connection.
NOT_SERVED = {"upgrade": None, "connection": None}


# What the bundled server keeps from being checked would be said on the requirement's
# line; none is: hypercorn answering an unsupported WebSocket version itself is not
# the app's to answer (websocket-version is skipped as not applicable, naming it).
BUNDLED_NOT_RUN: dict[str, str] = {}


def marked_test(protocol: str) -> str:
    return f"""
import pytest

@pytest.mark.requires_upgrade({protocol!r}, path={PATHS[protocol]!r})
def test_endpoint():
    pass
"""


def run_suite(
    pytester: pytest.Pytester, protocol: str, *args: str, **conftest: Any
) -> pytest.RunResult:
    pytester.makeconftest(protocol_conftest_source(**conftest))
    pytester.makepyfile(test_suite=marked_test(protocol))
    # -rA: the upgrade compliance section lists passing requirements too.
    return pytester.runpytest("-p", "no:cacheprovider", "-rA", "--upgrade-timeout=5", *args)


def run_live(pytester: pytest.Pytester, protocol: str, url: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_suite=marked_test(protocol))
    return pytester.runpytest(
        "-p", "no:cacheprovider", "-rA", "--upgrade-timeout=5", f"--upgrade-target={url}", *args
    )


def summary(result: pytest.RunResult, protocol: str, nodeid: str) -> tuple[str, set[str]]:
    """The verdict and the failing check ids of one line of the upgrade compliance section."""
    pattern = re.compile(
        rf"^(\w+)\s+{re.escape(protocol)} GET {re.escape(PATHS[protocol])}"
        rf"(?: \[([^\]]*)\]| \(warnings: [^)]*\))?  {re.escape(nodeid)}$"
    )
    section = result.stdout.str().split(" upgrade compliance ", 1)[1]
    for line in section.splitlines():
        if match := pattern.match(line):
            return match[1], set(filter(None, (match[2] or "").split(", ")))
    raise AssertionError(f"no summary line for {protocol} {nodeid}:\n{section}")


def report_checks(report: pathlib.Path, protocol: str) -> dict[str, dict[str, Any]]:
    """The checks of ``protocol``'s requirement in the JSON report, by id."""
    document = json.loads(report.read_text())
    (entry,) = [r for r in document["results"] if r["requirement"]["protocol"] == protocol]
    return {check["id"]: check for check in entry["checks"]}


def assert_fails_with(result: pytest.RunResult, protocol: str, check_ids: set[str]) -> None:
    """The test failed, exactly ``check_ids`` failed, each shown as a failed must-check."""
    result.assert_outcomes(failed=1)
    assert summary(result, protocol, "test_suite.py::test_endpoint") == ("FAILED", check_ids)
    for check_id in check_ids:
        result.stdout.fnmatch_lines([f"*✘ {check_id} [[]must*"])
    result.stdout.fnmatch_lines(["*reproduce:*"])


# -- a correct app passes ----------------------------------------------------------


@pytest.mark.parametrize(
    ("protocol", "conftest", "skipped"),
    [
        pytest.param(
            "websocket",
            {},
            # hypercorn answers an unsupported Sec-WebSocket-Version itself.
            {"websocket-version": ["hypercorn", "--upgrade-target"]},
            id="websocket",
        ),
        pytest.param("websocket", {"websocket": {"upgrade": "WebSocket"}}, {}, id="websocket-case"),
        pytest.param("h2c", {}, {}, id="h2c"),
        pytest.param("TLS/1.2", {}, {}, id="tls12"),
        pytest.param("TLS/1.2", {"tls": {"upgrade": "TLS/1.3"}}, {}, id="tls12-upgrade-tls13"),
        pytest.param(
            "TLS/1.2",
            {"tls": {"status": 308, "location": "https://127.0.0.1/secure", **NOT_SERVED}},
            {"upgrade-present": ["answered with 308, not 426"]},
            id="tls12-308-to-https",
        ),
        pytest.param(
            "TLS/1.2",
            {"tls": {"status": 301, "location": "https://127.0.0.1/secure", **NOT_SERVED}},
            {"upgrade-present": ["answered with 301, not 426"]},
            id="tls12-301-to-https",
        ),
        pytest.param("TLS/1.3", {"server_options": TLS13_SERVER}, {}, id="tls13"),
        pytest.param("HTTP/1.1", {}, {}, id="http11"),
        pytest.param(
            "HTTP/1.1", {"http11": {"upgrade": "HTTP/2.0"}}, {}, id="http11-upgrade-http2"
        ),
    ],
)
def test_correct_app_passes(
    pytester: pytest.Pytester,
    protocol: str,
    conftest: dict[str, Any],
    skipped: dict[str, list[str]],
) -> None:
    report = pytester.path / "report.json"
    result = run_suite(pytester, protocol, f"--upgrade-report={report}", **conftest)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*upgrade compliance*",
            f"PASSED  {protocol} GET {PATHS[protocol]}{BUNDLED_NOT_RUN.get(protocol, '')}"
            "  test_suite.py::test_endpoint",
        ]
    )
    checks = report_checks(report, protocol)
    not_ok = {i: c["message"] for i, c in checks.items() if c["outcome"] in ("failed", "warned")}
    assert not_ok == {}
    for check_id, words in skipped.items():
        assert checks[check_id]["outcome"] == "skipped", checks[check_id]
        for word in words:
            assert word in checks[check_id]["message"]


# -- each must-violation fails with its check ids -----------------------------------


# By protocol, each case's name: the conftest's changes and the check ids that fail.
MUST_VIOLATIONS: dict[str, dict[str, tuple[dict[str, Any], set[str]]]] = {
    "websocket": {
        "plain-get-404": ({"websocket": {"status": 404, **NOT_SERVED}}, {"status-426"}),
        "426-without-upgrade-websocket": (
            {"websocket": {"upgrade": "web-socket"}},
            {"upgrade-names-required"},
        ),
        "handshake-refused": ({"websocket": {"handshake": "close"}}, {"upgraded-succeeds"}),
        "handshake-answered-426": (
            {"websocket": {"handshake": "deny-426"}},
            {"upgrade-stripped", "upgraded-succeeds"},
        ),
    },
    "h2c": {
        "http11-still-served": ({"h2c": {"status": 200, **NOT_SERVED}}, {"status-426"}),
        "upgrade-names-http2": ({"h2c": {"upgrade": "HTTP/2.0"}}, {"upgrade-names-required"}),
    },
    "TLS/1.2": {
        "cleartext-still-served": (
            {"tls": {"status": 200, **NOT_SERVED}},
            {"status-426", "cleartext-refused"},
        ),
        "302-to-https-root": (
            {"tls": {"status": 302, "location": "https://127.0.0.1/", **NOT_SERVED}},
            {"status-426", "cleartext-refused"},
        ),
        "308-to-cleartext": (
            {"tls": {"status": 308, "location": "http://127.0.0.1/secure/", **NOT_SERVED}},
            {"status-426", "cleartext-refused"},
        ),
        "upgrade-tls10": (
            {"tls": {"upgrade": "TLS/1.0"}},
            {"upgrade-names-required", "cleartext-refused"},
        ),
        "no-connection-upgrade": (
            {"tls": {"connection": None}},
            {"connection-upgrade", "cleartext-refused"},
        ),
        "server-accepts-tls10": ({"server_options": TLS10_SERVER}, {"tls-legacy-refused"}),
    },
    "TLS/1.3": {
        "server-accepts-tls12": ({}, {"tls-below-required-refused"}),
        "upgrade-tls12": (
            {"tls13": {"upgrade": "TLS/1.2"}, "server_options": TLS13_SERVER},
            {"upgrade-names-required", "cleartext-refused"},
        ),
        "server-without-tls13": (
            {"server_options": TLS12_ONLY_SERVER},
            {"upgraded-succeeds", "tls-below-required-refused"},
        ),
    },
    "HTTP/1.1": {
        "http10-still-served": ({"http11": {"status": 200, **NOT_SERVED}}, {"status-426"}),
        "upgrade-http10": ({"http11": {"upgrade": "HTTP/1.0"}}, {"upgrade-names-required"}),
        # hypercorn adds "Connection: close" to its answers to HTTP/1.0.
        "no-connection-upgrade": ({"http11": {"connection": None}}, {"connection-upgrade"}),
    },
}
PROTOCOL_IDS = {
    "websocket": "websocket",
    "h2c": "h2c",
    "TLS/1.2": "tls12",
    "TLS/1.3": "tls13",
    "HTTP/1.1": "http11",
}


@pytest.mark.parametrize(
    ("protocol", "conftest", "check_ids"),
    [
        pytest.param(protocol, conftest, check_ids, id=f"{PROTOCOL_IDS[protocol]}-{name}")
        for protocol, cases in MUST_VIOLATIONS.items()
        for name, (conftest, check_ids) in cases.items()
    ],
)
def test_must_violation_fails_with_its_check_ids(
    pytester: pytest.Pytester, protocol: str, conftest: dict[str, Any], check_ids: set[str]
) -> None:
    result = run_suite(pytester, protocol, **conftest)
    assert_fails_with(result, protocol, check_ids)


def test_diagnoses_name_the_cause(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "websocket", websocket={"status": 404, **NOT_SERVED})
    result.stdout.fnmatch_lines(
        ["*✘ status-426*", "*diagnosis:*A WebSocket endpoint received a plain GET*"]
    )

    result = run_suite(pytester, "websocket", websocket={"handshake": "deny-426"})
    result.stdout.fnmatch_lines(["*✘ upgrade-stripped*", "*diagnosis:*proxy_set_header Upgrade*"])

    result = run_suite(
        pytester, "TLS/1.2", tls={"status": 302, "location": "https://x/", **NOT_SERVED}
    )
    result.stdout.fnmatch_lines(
        ["*✘ status-426*", "*diagnosis:*same resource over https*another host (x)*"]
    )

    result = run_suite(pytester, "HTTP/1.1", http11={"connection": None})
    result.stdout.fnmatch_lines(
        ["*✘ connection-upgrade*", "*actual:    Connection: close*", "*curl -sv --http1.0*"]
    )


# -- a should-violation warns, and fails under --upgrade-strict --------------------


@pytest.mark.parametrize(
    ("protocol", "conftest"),
    [
        pytest.param("websocket", {"websocket": {"detail": NOT_ACTIONABLE}}, id="websocket"),
        pytest.param("h2c", {"h2c": {"detail": NOT_ACTIONABLE}}, id="h2c"),
        pytest.param("TLS/1.2", {"tls": {"detail": NOT_ACTIONABLE}}, id="tls12"),
        pytest.param(
            "TLS/1.3",
            {"tls13": {"detail": NOT_ACTIONABLE}, "server_options": TLS13_SERVER},
            id="tls13",
        ),
        pytest.param(
            "HTTP/1.1",
            {"http11": {"detail": "This endpoint no longer serves HTTP/1.0."}},
            id="http11",
        ),
    ],
)
def test_should_violation_warns_and_strict_fails(
    pytester: pytest.Pytester, protocol: str, conftest: dict[str, Any]
) -> None:
    result = run_suite(pytester, protocol, **conftest)
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*PytestUpgradeWarning*problem-actionable*"])
    result.stdout.fnmatch_lines(
        [
            f"WARNED  {protocol} GET {PATHS[protocol]} (warnings: problem-actionable)"
            f"{BUNDLED_NOT_RUN.get(protocol, '')}  test_suite.py::test_endpoint"
        ]
    )

    strict = pytester.runpytest("-p", "no:cacheprovider", "--upgrade-strict")
    strict.assert_outcomes(failed=1)
    strict.stdout.fnmatch_lines(["*⚠ problem-actionable [[]should*"])
    assert summary(strict, protocol, "test_suite.py::test_endpoint") == (
        "FAILED",
        {"problem-actionable"},
    )


# -- checks that cannot run are skipped, never passed ------------------------------


def test_websocket_version_is_skipped_when_hypercorn_answers_it(
    pytester: pytest.Pytester,
) -> None:
    # A failing run prints every check, the skipped ones with their reason.
    result = run_suite(pytester, "websocket", websocket={"upgrade": "web-socket"})
    result.stdout.fnmatch_lines(
        [
            "*○ websocket-version [[]must, RFC 6455*] skipped: answered by the bundled server"
            " (hypercorn)*--upgrade-target*"
        ]
    )
    assert "✔ websocket-version" not in result.stdout.str()


def test_tls_legacy_refused_is_inconclusive_when_the_client_cannot_offer_tls10(
    pytester: pytest.Pytester,
) -> None:
    """Against a server that accepts TLS 1.0, a client that cannot offer it proves nothing."""
    pin_version = pytest_upgrade.probes.endpoint._pin_version
    report = pytester.path / "report.json"
    result = run_suite(
        pytester,
        "TLS/1.2",
        f"--upgrade-report={report}",
        server_options=TLS10_SERVER,
        no_legacy_tls_client=True,
    )
    assert pytest_upgrade.probes.endpoint._pin_version is pin_version  # the inner patch was undone
    result.assert_outcomes(passed=1)
    check = report_checks(report, "TLS/1.2")["tls-legacy-refused"]
    assert check["outcome"] == "skipped", check
    assert "inconclusive" in check["message"]
    assert "no protocols available" in check["message"]

    # The same suite, made to fail elsewhere, shows it as skipped (○), not passed (✔).
    pytester.makeconftest(
        protocol_conftest_source(
            server_options=TLS10_SERVER, no_legacy_tls_client=True, tls={"upgrade": "TLS/1.0"}
        )
    )
    failing = pytester.runpytest("-p", "no:cacheprovider")
    failing.stdout.fnmatch_lines(["*○ tls-legacy-refused [[]must*skipped: inconclusive*"])
    assert summary(failing, "TLS/1.2", "test_suite.py::test_endpoint") == (
        "FAILED",
        {"upgrade-names-required", "cleartext-refused"},
    )


def test_a_must_check_not_run_is_never_a_silent_green(pytester: pytest.Pytester) -> None:
    """Issue 33: the client cannot offer TLS 1.0 to a server that accepts it.

    Without -v or -rA the compliance section lists the requirement and what was
    not checked, the counts say it, the JSON and JUnit XML carry it; with
    --upgrade-require-all-checks the test fails.
    """
    pytester.makeconftest(
        protocol_conftest_source(server_options=TLS10_SERVER, no_legacy_tls_client=True)
    )
    pytester.makepyfile(test_suite=marked_test("TLS/1.2"))
    report, junit = pytester.path / "report.json", pytester.path / "junit.xml"
    result = pytester.runpytest(
        "-p", "no:cacheprovider", f"--upgrade-report={report}", f"--junitxml={junit}"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "PASSED  TLS/1.2 GET /secure (* must-check* not run: *tls-legacy-refused (inconclusive,"
            " never passed: TLSv1: client-cannot-offer*",
            "1 requirement: 1 passed (1 with must-checks not run)",
        ]
    )
    (entry,) = json.loads(report.read_text())["results"]
    assert "tls-legacy-refused" in [c["id"] for c in entry["not_run"]]
    assert 'name="upgrade TLS/1.2 GET /secure not run"' in junit.read_text()

    failing = pytester.runpytest("-p", "no:cacheprovider", "--upgrade-require-all-checks")
    failing.assert_outcomes(failed=1)
    failing.stdout.fnmatch_lines(
        ["*against*: * must-check* not run: *tls-legacy-refused (inconclusive*"]
    )


# -- several markers on one test ----------------------------------------------------

TLS_AND_H2 = """
import pytest

@pytest.mark.requires_upgrade("TLS/1.2", path="/both")
@pytest.mark.requires_upgrade("h2", path="/both")
def test_both():
    pass
"""


TLS_PASSED = "PASSED  TLS/1.2 GET /both  test_suite.py::test_both"


def run_tls_and_h2(pytester: pytest.Pytester, **conftest: Any) -> pytest.RunResult:
    """The test marked for both TLS/1.2 and h2, its passing requirements listed too (-rA)."""
    pytester.makeconftest(protocol_conftest_source(**conftest))
    pytester.makepyfile(test_suite=TLS_AND_H2)
    return pytester.runpytest("-p", "no:cacheprovider", "-rA")


def test_several_markers_are_reported_one_by_one(pytester: pytest.Pytester) -> None:
    result = run_tls_and_h2(pytester)
    result.assert_outcomes(passed=1)
    h2_passed = "PASSED  h2 GET /both  test_suite.py::test_both"
    result.stdout.fnmatch_lines(["*upgrade compliance*", TLS_PASSED, h2_passed])


def test_one_broken_requirement_of_several_fails_alone(pytester: pytest.Pytester) -> None:
    # HTTP/1.1 over TLS is still served: h2 is broken, TLS/1.2 is not.
    result = run_tls_and_h2(pytester, both_h2={"status": 200, **NOT_SERVED})
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*requires_upgrade('h2', path='/both') against *: 1 check(s) failed (status-426)",
            "*upgrade compliance*",
            TLS_PASSED,
            "FAILED  h2 GET /both [[]status-426]  test_suite.py::test_both",
        ]
    )
    output = result.stdout.str()
    assert "requires_upgrade('TLS/1.2'" not in output  # only the failing requirement's report
    assert [line for line in output.splitlines() if "✘" in line] == [
        line for line in output.splitlines() if "✘ status-426 [must" in line
    ]
    assert output.count("✘") == 1


# -- live targets ---------------------------------------------------------------------

LIVE_SUITE = "import pytest\n" + "".join(
    f"""
@pytest.mark.requires_upgrade({protocol!r}, path={path!r})
def test_{name}():
    pass
"""
    for name, (protocol, path) in zip(
        ("websocket", "h2c", "tls12", "tls13", "http11"), PATHS.items(), strict=True
    )
)


def run_live_suite(pytester: pytest.Pytester, server: Any) -> pytest.RunResult:
    pytester.makepyfile(test_suite=LIVE_SUITE)
    return pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "-rA",
        f"--upgrade-target={server.https_url}",
        f"--upgrade-target={server.http_url}",
        f"--upgrade-ca={server.cafile}",
    )


def test_live_hypercorn_with_the_correct_app(pytester: pytest.Pytester, live_server) -> None:
    """hypercorn's own answers are judged like any live server's."""
    server = live_server(protocol_app_source())
    result = run_live_suite(pytester, server)
    # hypercorn refuses an unsupported WebSocket version with a 400 lacking
    # Sec-WebSocket-Version (RFC 6455 §4.2.2), and accepts TLS 1.2. It cannot
    # perform the in-band TLS upgrade its 426 names (RFC 2817): OPTIONS * with
    # Upgrade: TLS/1.2 gets the app's 404.
    result.assert_outcomes(passed=3, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*upgrade compliance*",
            "PASSED  h2c GET /internal  test_suite.py::test_h2c",
            "PASSED  HTTP/1.1 GET /legacy  test_suite.py::test_http11",
            "WARNED  TLS/1.2 GET /secure (warnings: tls-upgrade-performed)"
            "  test_suite.py::test_tls12",
            "FAILED  TLS/1.3 GET /secure13 [[]tls-below-required-refused]"
            "  test_suite.py::test_tls13",
            "FAILED  websocket GET /ws [[]websocket-version]  test_suite.py::test_websocket",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            f"*against {server.https_url} and {server.http_url}*",
            "*✘ websocket-version [[]must*",
            "*actual:    HTTP/1.1 400*Sec-WebSocket-Version: (none)*",
        ]
    )

    # Without its cleartext URL, what needs one is skipped, never passed; h2c
    # has no check left to run at all, so its test is skipped.
    report = pytester.path / "report.json"
    https_only = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "-rs",
        "-k",
        "tls12 or h2c",
        f"--upgrade-target={server.https_url}",
        f"--upgrade-ca={server.cafile}",
        f"--upgrade-report={report}",
    )
    https_only.assert_outcomes(passed=1, skipped=1, deselected=3)
    https_only.stdout.fnmatch_lines(["*SKIPPED*no check could run*no http URL*"])
    checks = report_checks(report, "TLS/1.2")
    for check_id in ("status-426", "cleartext-refused"):
        assert checks[check_id]["outcome"] == "skipped", checks[check_id]
        assert "no cleartext (http) URL" in checks[check_id]["message"]
    assert checks["tls-legacy-refused"]["outcome"] == "passed"


def test_live_tls13_only_deployment(pytester: pytest.Pytester, live_server) -> None:
    server = live_server(TLS13_ONLY_PATCH + protocol_app_source())
    result = run_live_suite(pytester, server)
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*upgrade compliance*",
            "WARNED  TLS/1.2 GET /secure (warnings: tls-upgrade-performed)"
            "  test_suite.py::test_tls12",
            "WARNED  TLS/1.3 GET /secure13 (warnings: tls-upgrade-performed)"
            "  test_suite.py::test_tls13",
            "FAILED  websocket GET /ws [[]websocket-version]  test_suite.py::test_websocket",
        ]
    )


# -- raw-socket live targets: answers hypercorn never gives -------------------------

VERSION_13 = [("Sec-WebSocket-Version", "13")]


@pytest.mark.parametrize(
    ("version_answer", "verdict", "message"),
    [
        pytest.param(
            raw_servers.refusal("websocket", "Use WebSocket version 13.", VERSION_13),
            "PASSED",
            "version 99 refused with 426 and the supported versions",
            id="426-with-version-13",
        ),
        pytest.param(
            raw_servers.response(400, "Bad Request", VERSION_13),
            "PASSED",
            "version 99 refused with 400 and the supported versions (allowed",
            id="400-with-version-13",
        ),
        pytest.param(
            raw_servers.response(400, "Bad Request", []),
            "FAILED",
            "the unsupported version 99 was not refused with the supported versions",
            id="400-without-version",
        ),
        pytest.param(
            raw_servers.response(426, "Upgrade Required", [("Upgrade", "websocket")]),
            "FAILED",
            "the unsupported version 99 was not refused with the supported versions",
            id="426-without-version",
        ),
        pytest.param(
            raw_servers.response(
                101, "Switching Protocols", [("Upgrade", "websocket"), ("Connection", "Upgrade")]
            ),
            "FAILED",
            # 99 is unassigned by IANA: no server can support it.
            "the server switched protocols for Sec-WebSocket-Version: 99",
            id="101-for-an-unassigned-version",
        ),
    ],
)
def test_websocket_version_against_a_live_target(
    pytester: pytest.Pytester, version_answer: bytes, verdict: str, message: str
) -> None:
    report = pytester.path / "report.json"
    behaviour = raw_servers.websocket_endpoint(version_answer=version_answer)
    with raw_servers.raw_server(behaviour) as url:
        result = run_live(pytester, "websocket", url, f"--upgrade-report={report}")
    assert summary(result, "websocket", "test_suite.py::test_endpoint") == (
        verdict,
        set() if verdict == "PASSED" else {"websocket-version"},
    )
    check = report_checks(report, "websocket")["websocket-version"]
    assert check["outcome"] == verdict.lower()
    assert check["message"].startswith(message)


def test_wrong_websocket_accept_fails(pytester: pytest.Pytester) -> None:
    behaviour = raw_servers.websocket_endpoint(
        version_answer=raw_servers.response(426, "Upgrade Required", VERSION_13), accept="wrong"
    )
    with raw_servers.raw_server(behaviour) as url:
        result = run_live(pytester, "websocket", url)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*✘ websocket-accept [[]must, RFC 6455 §4.2.2]*Sec-WebSocket-Accept is not"
            " base64(SHA-1(key + GUID))*"
        ]
    )
    _, failing = summary(result, "websocket", "test_suite.py::test_endpoint")
    assert "websocket-accept" in failing


def test_wrong_websocket_accept_is_not_reported_as_a_switch(pytester: pytest.Pytester) -> None:
    """An RFC 6455 client fails the connection on a wrong accept (§4.1): no WebSocket was used."""
    behaviour = raw_servers.websocket_endpoint(
        version_answer=raw_servers.response(426, "Upgrade Required", VERSION_13), accept="wrong"
    )
    with raw_servers.raw_server(behaviour) as url:
        result = run_live(pytester, "websocket", url)
    assert "✔ upgraded-protocol" not in result.stdout.str()
    assert summary(result, "websocket", "test_suite.py::test_endpoint") == (
        "FAILED",
        {"upgraded-protocol", "websocket-accept"},
    )


@pytest.mark.parametrize("keep_alive", [False, True], ids=["closes", "keeps-alive"])
def test_h2c_without_http2_on_the_cleartext_port_fails(
    pytester: pytest.Pytester, keep_alive: bool
) -> None:
    """An HTTP/1.1-only server that answers 426 Upgrade: h2c but cannot speak it.

    It answers the HTTP/2 preface with an HTTP/1.1 400: that is a failure of
    the upgraded exchange (not HTTP/2), not a target that could not be
    evaluated, whether or not the server then closes the connection.
    """
    behaviour = raw_servers.h2c_endpoint(prior_knowledge=False, keep_alive=keep_alive)
    with raw_servers.raw_server(behaviour) as url:
        result = run_live(pytester, "h2c", url)
    assert_fails_with(result, "h2c", {"upgraded-succeeds", "upgraded-protocol"})
    result.stdout.fnmatch_lines(
        [
            "*✘ upgraded-succeeds*",
            "*diagnosis: The cleartext port does not speak HTTP/2 with prior knowledge*",
            "*✘ upgraded-protocol*did not speak HTTP/2 after the connection preface*",
            "*ℹ h2c-upgrade-handshake [[]info*Upgrade: h2c is not accepted (426)*",
        ]
    )


def test_h2c_upgrade_handshake_is_information_only(pytester: pytest.Pytester) -> None:
    """Prior knowledge works; the deprecated Upgrade: h2c is refused: the test still passes."""
    report = pytester.path / "report.json"
    with raw_servers.raw_server(raw_servers.h2c_endpoint(prior_knowledge=True)) as url:
        result = run_live(pytester, "h2c", url, f"--upgrade-report={report}")
    result.assert_outcomes(passed=1)
    checks = report_checks(report, "h2c")
    # Every answer is a 426 or HTTP/2: upgrade-unswitchable has nothing to judge.
    # The refused Upgrade: h2c is noted (information), neither passed nor failed.
    assert {i: c["outcome"] for i, c in checks.items() if c["outcome"] != "passed"} == {
        "upgrade-unswitchable": "skipped",
        "h2c-upgrade-handshake": "noted",
    }
    info = checks["h2c-upgrade-handshake"]
    assert info["severity"] == "info"
    assert info["message"].startswith("Upgrade: h2c is not accepted (426)")


@pytest.mark.parametrize("status", [302, 307])
def test_a_temporary_redirect_to_the_same_resource_refuses_cleartext(
    pytester: pytest.Pytester, status: int
) -> None:
    # nginx `return 302 https://$host$request_uri;`, Spring's requiresSecure(): no
    # content is served over cleartext, but clients keep the http URL (RFC 9110 §15.4.3).
    report = pytester.path / "report.json"
    result = run_suite(
        pytester,
        "TLS/1.2",
        f"--upgrade-report={report}",
        tls={"status": status, "location": "https://127.0.0.1/secure", **NOT_SERVED},
    )
    result.assert_outcomes(passed=1, warnings=1)
    checks = report_checks(report, "TLS/1.2")
    assert checks["status-426"]["outcome"] == "passed"
    assert checks["cleartext-refused"]["outcome"] == "passed"
    assert checks["redirect-permanent"]["outcome"] == "warned"
    assert checks["hsts"]["outcome"] == "passed"


def test_without_hsts_the_https_answers_warn(pytester: pytest.Pytester) -> None:
    report = pytester.path / "report.json"
    result = run_suite(
        pytester, "TLS/1.2", f"--upgrade-report={report}", tls={"hsts": "max-age=600"}
    )
    result.assert_outcomes(passed=1, warnings=1)
    hsts = report_checks(report, "TLS/1.2")["hsts"]
    assert hsts["outcome"] == "warned"
    assert "max-age=600" in hsts["message"]
