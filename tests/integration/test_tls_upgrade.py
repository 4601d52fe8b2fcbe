"""The in-band TLS upgrade (RFC 2817): tls-upgrade-performed and tls-upgrade-switch, end to end.

Against the tests' own asyncio server (tests/support/tls_upgrade_server.py), in each
of its modes, as a live cleartext target; and against the bundled hypercorn,
which cannot perform the upgrade, so the checks are skipped naming it.
"""

from __future__ import annotations

import json
import pathlib
import socket
from typing import Any

import pytest

from pytest_upgrade import BundledCA, UpgradeServer
from pytest_upgrade.probes.endpoint import ClientTrust, Endpoint
from pytest_upgrade.probes.spec import ConnectionSpec, Request
from pytest_upgrade.probes.tls_upgrade import tls_upgrade_exchanges
from pytest_upgrade.protocols.tls import TLS_UPGRADE, TLS_UPGRADED
from support.protocol_apps import protocol_app_source, protocol_conftest_source
from support.tls_upgrade_server import tls_upgrade_server

TEST = """
import pytest

@pytest.mark.requires_upgrade({protocol!r}, path="/secure")
def test_endpoint():
    pass
"""


def _checks(report: pathlib.Path) -> dict[str, dict[str, Any]]:
    (entry,) = json.loads(report.read_text())["results"]
    return {check["id"]: check for check in entry["checks"]}


def run_live(
    pytester: pytest.Pytester, mode: str, *args: str, protocol: str = "TLS/1.2"
) -> tuple[pytest.RunResult, dict[str, dict[str, Any]]]:
    report = pytester.path / "report.json"
    pytester.makepyfile(test_suite=TEST.format(protocol=protocol))
    with tls_upgrade_server(mode) as (url, cafile):
        result = pytester.runpytest(
            "-p",
            "no:cacheprovider",
            "-rA",  # the compliance section lists passed requirements too
            "--upgrade-timeout=5",
            f"--upgrade-target={url}",
            f"--upgrade-ca={cafile}",
            f"--upgrade-report={report}",
            *args,
        )
    return result, _checks(report)


def test_the_in_band_upgrade_passes(pytester: pytest.Pytester) -> None:
    result, checks = run_live(pytester, "switch")
    result.assert_outcomes(passed=1)
    assert checks["cleartext-refused"]["outcome"] == "passed"
    assert checks["tls-upgrade-performed"]["outcome"] == "passed"
    switch = checks["tls-upgrade-switch"]
    assert switch["outcome"] == "passed", switch
    assert switch["actual"] == "TLSv1.3, then HTTP/1.1 200 OK"
    result.stdout.fnmatch_lines(
        [
            # Only an http:// URL: what needs the https URL is said not to have run.
            "PASSED  TLS/1.2 GET /secure (3 must-checks not run: upgraded-succeeds,"
            " upgraded-protocol (the target has no https URL, *); tls-legacy-refused (*))"
            "  test_suite.py::test_endpoint",
        ]
    )


def test_the_exchanges_and_reproduce_command(pytester: pytest.Pytester) -> None:
    """The report shows both exchanges; curl reproduces the OPTIONS * (it cannot go on)."""
    result, _ = run_live(pytester, "untrusted")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "* tls-upgrade: OPTIONS http://127.0.0.1:* (OPTIONS * with Upgrade: TLS/1.2"
            " (RFC 2817 §3.2) over cleartext) → HTTP/1.1 101 Switching Protocols",
            "*tls-upgraded: GET http://127.0.0.1:*/secure (HTTP/1.1 over TLS started in-band on"
            " the cleartext connection (TLS/1.2, RFC 2817), TLSv1.2 or later) → after the 101,"
            " the TLS handshake: certificate verify failed*",
            "*curl -sv --http1.1 -X OPTIONS --request-target '[*]' -H 'Upgrade: TLS/1.2'"
            " -H 'Connection: Upgrade' -o /dev/null http://127.0.0.1:*",
        ]
    )


@pytest.mark.parametrize(
    ("mode", "check_id", "outcome", "message"),
    [
        pytest.param(
            "refuse-400",
            "tls-upgrade-performed",
            "warned",
            "the 426 names TLS/1.2, but the in-band upgrade it points to was not performed"
            " (HTTP/1.1 400 Bad Request",
            id="advertised-but-400",
        ),
        pytest.param(
            "refuse-426",
            "tls-upgrade-performed",
            "warned",
            "the 426 names TLS/1.2, but the in-band upgrade it points to was not performed"
            " (HTTP/1.1 426 Upgrade Required",
            id="advertised-but-426-again",
        ),
        pytest.param(
            "close",
            "tls-upgrade-performed",
            "warned",
            "the 426 names TLS/1.2, but the in-band upgrade it points to was not performed"
            " (the server closed the connection without answering)",
            id="advertised-but-closes",
        ),
        pytest.param(
            "101-then-close",
            "tls-upgrade-switch",
            "failed",
            "the server answered 101 but the upgraded connection failed: after the 101, the TLS"
            " handshake:",
            id="101-then-no-tls",
        ),
        pytest.param(
            "untrusted",
            "tls-upgrade-switch",
            "failed",
            "the server answered 101 but the upgraded connection failed: after the 101, the TLS"
            " handshake: certificate verify failed",
            id="101-then-untrusted-certificate",
        ),
        pytest.param(
            "no-tls-token",
            "tls-upgrade-switch",
            "failed",
            "the 101 does not name TLS in its Upgrade field",
            id="101-without-tls-token",
        ),
    ],
)
def test_failure_modes(
    pytester: pytest.Pytester, mode: str, check_id: str, outcome: str, message: str
) -> None:
    result, checks = run_live(pytester, mode)
    check = checks[check_id]
    assert check["outcome"] == outcome, check
    assert check["message"].startswith(message), check["message"]
    # The 426 itself is still judged as before.
    assert checks["cleartext-refused"]["outcome"] == "passed"
    if outcome == "warned":
        result.assert_outcomes(passed=1, warnings=1)
        result.stdout.fnmatch_lines(["*PytestUpgradeWarning*tls-upgrade-performed*"])
        assert "308 redirect to the https URL" in check["diagnosis"]
        assert checks["tls-upgrade-switch"]["outcome"] == "skipped"
    else:
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines([f"*✘ {check_id} [[]must, RFC 2817 §3.3]*"])
        assert checks["tls-upgrade-performed"]["outcome"] == "passed"


def test_tls13_requirement_negotiates_tls13_in_band(pytester: pytest.Pytester) -> None:
    # The 426 names TLS/1.2 only: cleartext-refused fails, the switch itself is judged.
    result, checks = run_live(pytester, "switch", protocol="TLS/1.3")
    result.assert_outcomes(failed=1)
    assert checks["cleartext-refused"]["outcome"] == "failed"
    assert checks["tls-upgrade-switch"]["outcome"] == "passed"
    assert checks["tls-upgrade-switch"]["actual"].startswith("TLSv1.3")


def test_a_redirect_to_https_is_judged_as_before(pytester: pytest.Pytester) -> None:
    result, checks = run_live(pytester, "redirect")
    result.assert_outcomes(passed=1)
    assert checks["cleartext-refused"]["outcome"] == "passed"
    for check_id in ("tls-upgrade-performed", "tls-upgrade-switch"):
        assert checks[check_id]["outcome"] == "skipped", checks[check_id]
    assert "is not a 426 naming TLS/1.x" in checks["tls-upgrade-performed"]["message"]


def test_bundled_server_skips_naming_hypercorn(pytester: pytest.Pytester) -> None:
    report = pytester.path / "report.json"
    pytester.makeconftest(protocol_conftest_source())
    pytester.makepyfile(test_suite=TEST.format(protocol="TLS/1.2"))
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--upgrade-timeout=5", f"--upgrade-report={report}"
    )
    result.assert_outcomes(passed=1)
    checks = _checks(report)
    performed = checks["tls-upgrade-performed"]
    assert performed["outcome"] == "skipped"
    assert "the bundled server (hypercorn) cannot switch" in performed["message"]
    assert "--upgrade-target" in performed["message"]
    assert "{'tls_upgrade': True}" in performed["message"]
    assert checks["tls-upgrade-switch"]["outcome"] == "skipped"
    (entry,) = json.loads(report.read_text())["results"]
    assert not [e for e in entry["exchanges"] if e["role"].startswith("tls-upgrade")]


# -- the bundled server, opted in ------------------------------------------------------

TLS_UPGRADE_SERVER = "{'tls_upgrade': True}"


def run_bundled(
    pytester: pytest.Pytester, test_source: str, *args: str, **conftest: Any
) -> tuple[pytest.RunResult, pathlib.Path]:
    report = pytester.path / "report.json"
    pytester.makeconftest(protocol_conftest_source(server_options=TLS_UPGRADE_SERVER, **conftest))
    pytester.makepyfile(test_suite=test_source)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--upgrade-timeout=5", f"--upgrade-report={report}", *args
    )
    return result, report


@pytest.mark.parametrize("xdist", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_bundled_server_performs_the_upgrade_when_told(
    pytester: pytest.Pytester, xdist: tuple[str, ...]
) -> None:
    """The app is served over the upgraded connection as over https; nothing else changes."""
    suite = "import pytest\n" + "".join(
        f"""
@pytest.mark.requires_upgrade({protocol!r}, path={path!r})
def test_{name}():
    pass
"""
        for name, protocol, path in (
            ("tls12", "TLS/1.2", "/secure"),
            ("websocket", "websocket", "/ws"),  # a cleartext ws:// handshake passes through
            ("h2c", "h2c", "/internal"),  # and so does Upgrade: h2c
        )
    )
    result, report = run_bundled(pytester, suite, *xdist)
    result.assert_outcomes(passed=3)
    results = json.loads(report.read_text())["results"]
    (tls,) = [r for r in results if r["requirement"]["protocol"] == "TLS/1.2"]
    checks = {c["id"]: c for c in tls["checks"]}
    assert checks["tls-upgrade-performed"]["outcome"] == "passed"
    assert checks["tls-upgrade-switch"]["outcome"] == "passed"
    assert checks["tls-upgrade-switch"]["actual"] == "TLSv1.3, then HTTP/1.1 200"
    assert checks["cleartext-refused"]["outcome"] == "passed"  # the plain request still 426


def test_bundled_server_survives_clients_that_leave_midway() -> None:
    """A head cut short, or a 101 not followed by TLS: the server serves the next client."""
    namespace: dict[str, Any] = {}
    exec(protocol_app_source(), namespace)
    ca = BundledCA()
    try:
        with UpgradeServer(namespace["app"], ca=ca, tls_upgrade=True) as server:
            address = ("127.0.0.1", Endpoint.from_url(server.http_url).port)
            with socket.create_connection(address, timeout=5) as sock:
                sock.sendall(b"OPTIONS * HTTP/1.1\r\nHost: x\r\n")  # no blank line: EOF
                sock.shutdown(socket.SHUT_WR)
                assert sock.recv(65536) == b""
            with socket.create_connection(address, timeout=5) as sock:
                sock.sendall(
                    b"OPTIONS * HTTP/1.1\r\nHost: x\r\nUpgrade: TLS/1.2\r\n"
                    b"Connection: Upgrade\r\n\r\n"
                )
                assert sock.recv(65536).startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
                sock.sendall(b"not a ClientHello\r\n")  # the handshake fails: disconnected
                assert sock.recv(65536) == b""
            _, upgraded = tls_upgrade_exchanges(
                ConnectionSpec(Endpoint.from_url(server.http_url), ClientTrust(str(ca.ca_pem)), 5),
                Request("GET", "/secure"),
                token="TLS/1.2",
                tls_minimum="TLSv1.2",
                role=TLS_UPGRADE,
                upgraded_role=TLS_UPGRADED,
            )
            assert upgraded.response is not None
            assert upgraded.response.status == 200
            assert server.drain_errors() == []
    finally:
        ca.close()
