"""Rehearsing the cutover: enforcement on a whole suite, the policy server, the proxy diagnosis."""

from __future__ import annotations

import contextlib
import json
import pathlib
import socket

import pytest

from support.check_fields import expect_run
from support.enforcing import run_enforcing
from support.listening import accepting
from support.proxy import stripping_proxy
from support.suites import marked, suite

DEMO_APP = pathlib.Path(__file__).parents[2] / "examples" / "demo" / "app.py"

# An orders app that has not retired anything yet: it serves every protocol.
CONFTEST = """
import json

import pytest


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = json.dumps({"via": "HTTP/" + scope["http_version"]}).encode()
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="session")
def upgrade_app():
    return app
"""

FUNCTIONAL_TESTS = """
import httpx

def test_list_orders(upgrade_server):
    with httpx.Client(verify=upgrade_server.ssl_context(), trust_env=False, http2={http2}) as c:
        response = c.get(upgrade_server.https_url + "/v2/orders/")
    assert response.status_code == 200

def test_create_order(upgrade_server):
    with httpx.Client(verify=upgrade_server.ssl_context(), trust_env=False, http2={http2}) as c:
        response = c.post(upgrade_server.https_url + "/v2/orders/", json={{"item": "widget"}})
    assert response.status_code == 200
"""


def functional_suite(pytester: pytest.Pytester, *, http2: bool) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_functional=FUNCTIONAL_TESTS.format(http2=http2))


def test_enforcing_h2_reveals_the_http11_client(pytester: pytest.Pytester) -> None:
    functional_suite(pytester, http2=False)
    # Today the suite passes: the app serves HTTP/1.1.
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)
    # Rehearsing the day HTTP/1.1 goes away shows every place that still uses it.
    enforced, refused = run_enforcing(pytester, "h2")
    enforced.assert_outcomes(failed=2)
    enforced.stdout.fnmatch_lines(
        [
            "*upgrade enforcement*",
            "enforcing h2: 2 legacy request(s) refused with 426",
            "  POST /v2/orders/ (HTTP/1.1 over https; needs HTTP/2 over TLS)"
            "  test_functional.py::test_create_order",
            "  GET /v2/orders/ (HTTP/1.1 over https; needs HTTP/2 over TLS)"
            "  test_functional.py::test_list_orders",
        ]
    )
    assert {(r["method"], r["test"]) for r in refused} == {
        ("GET", "test_functional.py::test_list_orders"),
        ("POST", "test_functional.py::test_create_order"),
    }


def test_enforcing_h2_passes_an_http2_client(pytester: pytest.Pytester) -> None:
    functional_suite(pytester, http2=True)
    result = pytester.runpytest("-p", "no:cacheprovider", "--upgrade-enforce=h2")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["enforcing h2: no legacy request reached the bundled server"])


def test_enforcement_answers_a_textbook_426(pytester: pytest.Pytester) -> None:
    functional_suite(pytester, http2=False)
    # The enforcer made part of the app (as a team could deploy it): its 426 is
    # then the app's, and it passes every check of the catalogue.
    pytester.makeconftest(
        CONFTEST
        + """

from pytest_upgrade.server.enforce import Enforcer, enforcing_app

@pytest.fixture(scope="session")
def upgrade_app():
    return enforcing_app(app, Enforcer(session=("HTTP/1.1",)), asgi=True)
"""
    )
    pytester.makepyfile(
        test_marked="""
import pytest

@pytest.mark.requires_upgrade("HTTP/1.1", path="/anything")
def test_enforced_route_is_compliant():
    pass
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "test_marked.py")
    result.assert_outcomes(passed=1)


def test_enforcement_does_not_answer_a_marked_tests_probes(pytester: pytest.Pytester) -> None:
    functional_suite(pytester, http2=False)
    pytester.makepyfile(
        test_marked="""
import pytest

@pytest.mark.upgrade_enforce("HTTP/1.1")
@pytest.mark.requires_upgrade("HTTP/1.1", path="/anything")
def test_enforced_route():
    pass
"""
    )
    # The app serves HTTP/1.0: the marker's enforcement does not certify it.
    result = pytester.runpytest("-p", "no:cacheprovider", "test_marked.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["judged: the app's own answers (the bundled server enforces*"])


# -- the policy server -------------------------------------------------------------

CLIENT = '''
import httpx


class UpgradeRequired(Exception):
    """The server refused the protocol; ``detail`` is what it said."""

    def __init__(self, detail):
        super().__init__(detail)
        self.detail = detail


def fetch(base_url, path, ctx, *, upgrades=True):
    """GET path; on 426 asking for HTTP/2, retry over HTTP/2 (if ``upgrades``)."""
    with httpx.Client(verify=ctx, trust_env=False) as client:
        response = client.get(base_url + path)
    if response.status_code == 426:
        if not upgrades or "HTTP/2" not in response.headers.get("upgrade", ""):
            raise UpgradeRequired(response.json().get("detail"))
        with httpx.Client(verify=ctx, trust_env=False, http1=False, http2=True) as client:
            response = client.get(base_url + path)
    response.raise_for_status()
    return response.json()
'''

POLICY_TESTS = """
import pytest
from client import UpgradeRequired, fetch


def test_the_client_upgrades(upgrade_policy_server):
    policy = upgrade_policy_server("h2", routes={{"/orders": (200, {{"orders": [1]}})}})
    assert fetch(policy.https_url, "/orders", policy.ssl_context(), upgrades={upgrades}) == {{
        "orders": [1]
    }}
    policy.assert_retried_after_426("/orders", method="GET")
    policy.assert_only_upgraded_after_426()
    policy.assert_no_request_over("HTTP/1.0")
    (refused,) = policy.refused()
    assert refused.protocol == "HTTP/1.1" and refused.tls_version.startswith("TLSv1.")
    (upgraded,) = policy.upgraded()
    assert upgraded.protocol == "HTTP/2" and upgraded.connection != refused.connection


def test_the_client_surfaces_the_detail(upgrade_policy_server):
    policy = upgrade_policy_server("h2")
    with pytest.raises(UpgradeRequired) as excinfo:
        fetch(policy.https_url, "/orders", policy.ssl_context(), upgrades=False)
    assert excinfo.value.detail == policy.problem_detail("/orders")
    assert "requires HTTP/2 over TLS" in excinfo.value.detail
"""


def test_policy_helpers_pass_for_a_client_that_upgrades(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(client=CLIENT, test_client=POLICY_TESTS.format(upgrades=True))
    pytester.syspathinsert()
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_policy_helpers_fail_for_a_client_that_does_not(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        client=CLIENT,
        test_client="""
from client import UpgradeRequired, fetch


def test_the_client_upgrades(upgrade_policy_server):
    policy = upgrade_policy_server("h2")
    try:
        fetch(policy.https_url, "/orders", policy.ssl_context(), upgrades=False)
    except UpgradeRequired:
        pass
    policy.assert_retried_after_426("/orders")
""",
    )
    pytester.syspathinsert()
    lines = [
        "*AssertionError: no retry over h2 after a 426 was seen for any method /orders*",
        "*policy server enforcing h2, exchanges:*",
        "*#1 GET /orders over HTTP/1.1 (https TLSv1.*, connection 127.0.0.1:*) -> 426*",
    ]
    # The failure points at the test, not inside the plugin.
    inside_the_plugin = ("_policy.py",)
    expect_run(
        pytester.runpytest("-p", "no:cacheprovider"), lines, absent=inside_the_plugin, failed=1
    )


def test_policy_server_for_http11_records_http10(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_client="""
import socket

def test_http10_is_refused(upgrade_policy_server):
    policy = upgrade_policy_server("HTTP/1.1")
    port = int(policy.http_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /x HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 426")
    policy.assert_no_request_over("HTTP/1.0")
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*1 request(s) were made over HTTP/1.0*", "*#1 GET /x over HTTP/1.0 (http, *) -> 426*"]
    )


# -- a reverse proxy that strips Upgrade/Connection ------------------------------


def test_stripping_proxy_is_diagnosed_and_the_direct_app_passes(
    pytester: pytest.Pytester, live_server
) -> None:
    server = live_server(DEMO_APP.read_text())  # its /ws answers 426 and accepts handshakes
    pytester.makepyfile(
        test_ws="""
import pytest

@pytest.mark.requires_upgrade("websocket", path="/ws")
def test_ws():
    pass
"""
    )
    direct = pytester.runpytest(
        "-p", "no:cacheprovider", f"--upgrade-target={server.http_url}",
        "--upgrade-skip-checks=websocket-version",  # hypercorn's own 400 (see README)
    )  # fmt: skip
    direct.assert_outcomes(passed=1)
    upstream_port = int(server.http_url.rsplit(":", 1)[1])
    with stripping_proxy(upstream_port) as port:
        proxied = pytester.runpytest(
            "-p", "no:cacheprovider", f"--upgrade-target=http://127.0.0.1:{port}",
            "--upgrade-skip-checks=websocket-version",
        )  # fmt: skip
    proxied.assert_outcomes(failed=1)
    proxied.stdout.fnmatch_lines(
        [
            "*✘ upgrade-stripped [[]must*the proper WebSocket handshake to ws://*did not reach"
            " the server as sent: it was answered 426 with Upgrade: websocket*",
            "*diagnosis: Something between the client and the WebSocket server dropped the"
            " hop-by-hop Upgrade and Connection fields*proxy_set_header Upgrade $http_upgrade*",
        ]
    )


# -- diagnoses for the behaviour that causes them ---------------------------------


def _refuse_alpn(conn: socket.socket) -> None:
    # What a server does when no ALPN protocol it accepts is offered (RFC 7301
    # §3.2): a fatal no_application_protocol alert (120) instead of a ServerHello.
    # hypercorn cannot be made to do it: OpenSSL then continues without ALPN.
    alert = bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 120])
    with conn:
        conn.settimeout(5)
        with contextlib.suppress(OSError):
            conn.recv(65536)  # the ClientHello
            conn.sendall(alert)


def test_alpn_refusal_is_diagnosed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_h2=suite(marked("test_h2", "h2", "/v2/orders")))
    with socket.create_server(("127.0.0.1", 0)) as listener, accepting(listener, _refuse_alpn):
        port = listener.getsockname()[1]
        result = pytester.runpytest(
            "-p", "no:cacheprovider", f"--upgrade-target=https://127.0.0.1:{port}"
        )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*✘ status-426*refused during the TLS handshake*",
            "*actual:    the server refused the TLS handshake: alert no_application_protocol*",
            "*diagnosis: The server refuses HTTP/1.1 over TLS, ALPN http/1.1 at the TLS/ALPN"
            " layer, so old clients see a handshake error instead of an actionable 426*",
        ]
    )


@pytest.mark.parametrize(
    ("as_of", "when"), [("2027-03-11", "passed 10 day(s) ago"), ("2027-03-01", "is today")]
)
def test_deadline_passed_and_still_served_is_diagnosed(
    pytester: pytest.Pytester, as_of: str, when: str
) -> None:
    from support.apps import conftest_source

    pytester.makeconftest(conftest_source(legacy_status=200))
    pytester.makepyfile(
        test_h2="""
import pytest

@pytest.mark.requires_upgrade("h2", path="/v2/orders", after="2027-03-01")
def test_h2():
    pass
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", f"--upgrade-as-of={as_of}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [f"*diagnosis: The deadline 2027-03-01 {when} and the old protocol is still served*"]
    )


def test_client_that_cannot_offer_old_tls_is_named(pytester: pytest.Pytester) -> None:
    from support.apps import conftest_source

    pytester.makeconftest(
        conftest_source()
        + """

import ssl

import pytest_upgrade.probes.endpoint as probes


@pytest.fixture(scope="session", autouse=True)
def _old_tls_unavailable():
    # As on an OpenSSL built without TLS 1.0/1.1.
    original = probes._pin_version

    def refuse(context, version):
        raise ssl.SSLError("no protocols available")

    probes._pin_version = refuse
    yield
    probes._pin_version = original
"""
    )
    pytester.makepyfile(
        test_h2="""
import pytest

@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_h2():
    pass
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--upgrade-strict", "-rs")
    # Inconclusive is never passed: the check is skipped, and says why.
    report = pytester.path / "r.json"
    pytester.runpytest("-p", "no:cacheprovider", f"--upgrade-report={report}")
    checks = {c["id"]: c for c in json.loads(report.read_text())["results"][0]["checks"]}
    assert checks["tls-legacy-refused"]["outcome"] == "skipped"
    assert "this client's TLS cannot offer TLSv1" in checks["tls-legacy-refused"]["message"]
    assert result.ret == pytest.ExitCode.OK


def test_a_tls_policy_server_is_a_textbook_target(pytester: pytest.Pytester) -> None:
    # The policy server's cleartext 426 and its https answers (with HSTS, RFC 6797)
    # pass the TLS/1.2 checks when the plugin probes it as a live target; its
    # hypercorn cannot perform the in-band upgrade (RFC 2817) the 426 names.
    from pytest_upgrade.server.policy import PolicyServer

    policy = PolicyServer("TLS/1.2")
    try:
        report = pytester.path / "report.json"
        result = pytester.runpytest(
            "-p",
            "no:cacheprovider",
            "--upgrade-timeout=5",
            f"--upgrade-target={policy.https_url}",
            f"--upgrade-target={policy.http_url}",
            f"--upgrade-ca={policy.ca_pem}",
            f"--upgrade-report={report}",
            "--upgrade-require=TLS/1.2 /orders",
        )
    finally:
        policy.stop()
    result.assert_outcomes(passed=1, warnings=1)
    (entry,) = json.loads(report.read_text())["results"]
    checks = {check["id"]: check for check in entry["checks"]}
    assert checks["hsts"]["outcome"] == "passed", checks["hsts"]
    assert checks["cleartext-refused"]["outcome"] == "passed"
    not_passed = {i for i, c in checks.items() if c["outcome"] in ("failed", "warned")}
    assert not_passed == {"tls-upgrade-performed"}
