"""The h3 requirement end to end: the bundled server serving HTTP/3 (hypercorn + aioquic),
apps that advertise it wrongly, and Caddy as a live third-party target.

Each case writes a conftest whose ASGI app sets ``Alt-Svc`` itself (a
template: ``{h3}`` the bundled QUIC port, ``{silent}`` a UDP port that never
answers, ``{free}`` one nothing listens on, ``{foreign}`` the QUIC port of a
second server whose certificate the probes do not trust), runs pytest on a
marked test and asserts the outcome and the check ids. Everything listens on
127.0.0.1.
"""

from __future__ import annotations

import re
import sys
import textwrap
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from support.apps import SERVED_WITH_OPTIONS
from support.matrix_servers import free_ports, outcomes, requirement_test, run_plugin, start_caddy
from support.suites import marked, suite

if TYPE_CHECKING:  # annotations only
    from support.matrix_servers import Certificates, Running

try:
    import aioquic  # noqa: F401

    HAVE_AIOQUIC = True
except ImportError:
    HAVE_AIOQUIC = False
needs_aioquic = pytest.mark.skipif(
    not HAVE_AIOQUIC, reason="aioquic is not installed (pip install 'pytest-upgrade[h3]')"
)

CONFTEST = (
    """
import socket

import pytest

ALT_SVC = {alt_svc!r}
H3_STATUS = {h3_status!r}
H3_HEADERS = {h3_headers!r}
PORTS = {{}}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"text/plain")]
    if ALT_SVC is not None and scope["http_version"] != "3":
        headers.append((b"alt-svc", ALT_SVC.format(**PORTS).encode()))
    status = H3_STATUS if scope["http_version"] == "3" and H3_STATUS else 200
    if scope["http_version"] == "3":
        headers += H3_HEADERS
    await send({{"type": "http.response.start", "status": status, "headers": headers}})
    await send({{"type": "http.response.body", "body": b"over " + scope["http_version"].encode()}})
"""
    + SERVED_WITH_OPTIONS
    + """

@pytest.fixture(scope="session", autouse=True)
def _ports(upgrade_server):
    from pytest_upgrade import BundledCA, UpgradeServer

    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # bound, never read
    silent.bind(("127.0.0.1", 0))
    free = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    free.bind(("127.0.0.1", 0))
    PORTS.update(
        h3=upgrade_server.h3_port,
        tls=int(upgrade_server.https_url.rsplit(":", 1)[1]),
        silent=silent.getsockname()[1],
        free=free.getsockname()[1],
    )
    free.close()  # nothing listens there now: ICMP port unreachable
    other_ca = BundledCA()
    other = UpgradeServer(app, ca=other_ca) if {foreign} else None
    if other is not None:
        other.start()
        PORTS["foreign"] = other.h3_port
    try:
        yield PORTS
    finally:
        if other is not None:
            other.stop()
        other_ca.close()
        silent.close()
"""
)


def conftest(
    alt_svc: str | None = None,
    *,
    h3_status: int | None = None,
    h3_headers: list[tuple[bytes, bytes]] | None = None,
    server_options: dict[str, Any] | None = None,
    foreign: bool = False,
) -> str:
    options = {"advertise_h3": False} if alt_svc is not None else {}
    options.update(server_options or {})
    return CONFTEST.format(
        alt_svc=alt_svc,
        h3_status=h3_status,
        h3_headers=h3_headers or [],
        server_options=repr(options),
        foreign=foreign,
    )


def marked_test(path: str = "/", token: str = "h3") -> str:
    return f"""
import pytest

@pytest.mark.requires_upgrade({token!r}, path={path!r})
def test_endpoint(upgrade):
    pass
"""


def run(
    pytester: pytest.Pytester, source: str, *args: str, timeout: float = 5, test: str = ""
) -> pytest.RunResult:
    """The conftest ``source`` and the test module ``test`` (the marked test unless given)."""
    pytester.makeconftest(source)
    pytester.makepyfile(test_suite=test or marked_test())
    return pytester.runpytest(
        "-p", "no:cacheprovider", "-rA", f"--upgrade-timeout={timeout:g}", *args
    )


def summary(result: pytest.RunResult) -> tuple[str, set[str]]:
    section = result.stdout.str().split(" upgrade compliance ", 1)[1]
    match = re.search(r"^(\w+)\s+h3 GET /(?: \[([^\]]*)\])?", section, re.MULTILINE)
    assert match is not None, section
    return match[1], set(filter(None, (match[2] or "").split(", ")))


# -- the bundled server --------------------------------------------------------------


@needs_aioquic
def test_the_bundled_server_serves_http3_and_advertises_it() -> None:
    import httpx

    from pytest_upgrade import BundledCA, UpgradeServer
    from pytest_upgrade._model import FailureKind
    from pytest_upgrade.probes.endpoint import ClientTrust, Endpoint
    from pytest_upgrade.probes.quic import h3_exchange
    from pytest_upgrade.probes.spec import ConnectionSpec, Request

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            # An interim 103 first (RFC 8297): the probe records the final answer.
            link = [(b"link", b"</style.css>; rel=preload")]
            await send({"type": "http.response.early_hint", "links": [b"</style.css>"]})
            await send({"type": "http.response.start", "status": 200, "headers": link})
            await send({"type": "http.response.body", "body": scope["http_version"].encode()})

    ca = BundledCA()
    try:
        with UpgradeServer(app, ca=ca) as server:
            assert server.h3_port is not None
            assert server.h3_url == f"https://127.0.0.1:{server.h3_port}"
            with httpx.Client(verify=server.ssl_context(), trust_env=False) as client:
                alt_svc = client.get(server.https_url).headers["alt-svc"]
            assert alt_svc == f'h3=":{server.h3_port}"; ma=86400'
            origin = Endpoint.from_url(server.https_url)
            trusted = ConnectionSpec(origin, ClientTrust(str(ca.ca_pem)), 5)
            alternative = ("127.0.0.1", server.h3_port)
            get = Request("GET", "/")
            exchange = h3_exchange(trusted, get, role="upgraded", alternative=alternative)
            assert exchange.response is not None, exchange.failure
            assert (exchange.response.status, exchange.response.body) == (200, b"3")
            # Without the bundled CA the system's store is used: verification stays on.
            untrusted = h3_exchange(
                ConnectionSpec(origin, ClientTrust(None), 5),
                get,
                role="upgraded",
                alternative=alternative,
            )
            assert untrusted.failure is not None
            # This client's TLS alert (bad_certificate, CRYPTO_ERROR 0x12a: RFC 9001 §4.8).
            assert untrusted.failure.kind is FailureKind.CERTIFICATE
            assert "did not verify (bad_certificate" in untrusted.failure.message
            # The server closes with an HTTP/3 application error (RFC 9114 §8.1) when
            # the request is malformed (a connection-specific field, §4.2): reported
            # as the server's close with its name, never as a TLS alert.
            refused = h3_exchange(
                trusted,
                Request("GET", "/", (("connection", "close"),)),
                role="upgraded",
                alternative=alternative,
            )
            assert refused.failure is not None
            assert refused.failure.kind is FailureKind.CLOSED
            assert (
                f"127.0.0.1:{server.h3_port} (UDP) closed the HTTP/3 connection with"
                " H3_MESSAGE_ERROR (0x10e) (RFC 9114 §8.1)"
            ) in refused.failure.message
        with UpgradeServer(app, ca=ca, h3=False) as server:
            assert server.h3_port is None
            assert server.h3_url is None
    finally:
        ca.close()


@needs_aioquic
def test_a_correct_app_passes(pytester: pytest.Pytester) -> None:
    report = pytester.path / "report.json"
    result = run(pytester, conftest(), f"--upgrade-report={report}")
    result.assert_outcomes(passed=1)
    assert summary(result) == ("PASSED", set())
    result.stdout.fnmatch_lines(["*h3 GET /*"])
    text = report.read_text()
    for check_id in ("alt-svc-h3", "alt-svc-max-age", "h3-same-status", "upgraded-succeeds"):
        assert f'"id": "{check_id}"' in text


UPGRADED_OVER_HTTP3 = """
import pytest

@pytest.mark.requires_upgrade("HTTP/3", path="/x")
def test_body(upgrade):
    assert upgrade.upgraded.response.http_version == "3"
    assert upgrade.upgraded.response.body == b"over 3"
    assert upgrade.legacy.response.headers
    with pytest.raises(ValueError, match="httpx does not speak HTTP/3"):
        upgrade.client
"""


@needs_aioquic
def test_the_upgraded_exchange_is_http3_and_there_is_no_http_client(
    pytester: pytest.Pytester,
) -> None:
    result = run(pytester, conftest(), test=UPGRADED_OVER_HTTP3)
    result.assert_outcomes(passed=1)


# -- what goes wrong, one case at a time ------------------------------------------------


@needs_aioquic
@pytest.mark.parametrize(
    ("alt_svc", "words"),
    [
        pytest.param("", "does not advertise HTTP/3", id="alt-svc-missing"),
        pytest.param('h3-29=":{h3}"; ma=3600', "only draft versions of HTTP/3 (h3-29)", id="draft"),
        pytest.param("clear", "withdraws every alternative", id="clear"),
        pytest.param("h3=:{h3}", "malformed", id="malformed"),
    ],
)
def test_advertisement_faults_fail(pytester: pytest.Pytester, alt_svc: str, words: str) -> None:
    # "" stands for no field at all (the server adds none either).
    result = run(pytester, conftest(alt_svc or None, server_options={"advertise_h3": False}))
    result.assert_outcomes(failed=1)
    assert summary(result) == ("FAILED", {"alt-svc-h3"})
    result.stdout.fnmatch_lines([f"*✘ alt-svc-h3 [[]must*{words}*"])
    # Nothing advertised, nothing probed over QUIC: skipped, not passed.
    result.stdout.fnmatch_lines(["*○ upgraded-succeeds*skipped: no answer advertised an h3*"])


@needs_aioquic
def test_ma_zero_warns_and_fails_under_strict(pytester: pytest.Pytester) -> None:
    result = run(pytester, conftest('h3=":{h3}"; ma=0'))
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*alt-svc-max-age: the h3 alternative of the HTTP/* has ma=0*"])
    strict = run(pytester, conftest('h3=":{h3}"; ma=0'), "--upgrade-strict")
    strict.assert_outcomes(failed=1)
    strict.stdout.fnmatch_lines(["*stale as soon as it arrives*"])


@needs_aioquic
def test_ma_missing_is_noted(pytester: pytest.Pytester) -> None:
    result = run(pytester, conftest('h3=":{h3}"'), "-rA")
    result.assert_outcomes(passed=1)
    assert summary(result) == ("PASSED", set())


@needs_aioquic
def test_http3_answering_differently_fails(pytester: pytest.Pytester) -> None:
    result = run(pytester, conftest(h3_status=404))
    result.assert_outcomes(failed=1)
    assert summary(result) == ("FAILED", {"h3-same-status"})
    result.stdout.fnmatch_lines(["*HTTP/3 answers 404, HTTP/1.1 answers 200*"])


@needs_aioquic
def test_connection_specific_fields_over_http3_are_the_apps_fault(
    pytester: pytest.Pytester,
) -> None:
    # The demo's mistake: a 426 carrying Upgrade/Connection over HTTP/3 too. The
    # probe's HTTP/3 layer rejects the answer and closes the connection with the
    # application error H3_MESSAGE_ERROR (0x10e): not a TLS alert (RFC 9001 §4.8).
    fields = [(b"upgrade", b"HTTP/2.0"), (b"connection", b"upgrade")]
    result = run(pytester, conftest(h3_status=426, h3_headers=fields), "--upgrade-report=r.json")
    result.assert_outcomes(failed=1)
    assert summary(result) == ("FAILED", {"upgraded-succeeds"})
    result.stdout.fnmatch_lines(
        [
            "*the HTTP/3 answer from 127.0.0.1:* (UDP) is malformed: it carries the"
            " connection-specific field upgrade, which HTTP/3 forbids (RFC 9114 §4.2): the app"
            " (or its server) set it on an HTTP/3 answer*H3_MESSAGE_ERROR (0x10e)*",
            "*diagnosis: The HTTP/3 answer breaks HTTP/3's message rules*",
        ]
    )
    assert "TLS alert" not in result.stdout.str()
    import json

    (entry,) = json.loads((pytester.path / "r.json").read_text())["results"]
    (upgraded,) = [e for e in entry["exchanges"] if e["role"] == "upgraded"]
    assert upgraded["failure"]["kind"] == "protocol"
    assert (upgraded["tls_version"], upgraded["alpn"]) == ("TLSv1.3", "h3")


@needs_aioquic
@pytest.mark.parametrize(
    ("source", "lines"),
    [
        pytest.param(
            conftest('h3=":{free}"; ma=60', server_options={"h3": False}),
            [
                "*nothing listens on 127.0.0.1:*(UDP)*",
                "*diagnosis: Nothing listens on the advertised*",
            ],
            id="nothing-listens-on-the-udp-port",
        ),
        pytest.param(
            conftest('h3=":{free}"; ma=60'),
            ["*h3-direct: GET https://127.0.0.1:*→ HTTP/3 200*", "*advertises the wrong port*"],
            id="wrong-port-advertised",
        ),
        pytest.param(
            # A finding about the h3 endpoint, not an error.
            conftest('h3=":{foreign}"; ma=60', foreign=True),
            ["*presented over QUIC did not verify*", "*must be authoritative*RFC 7838 §2.1*"],
            id="certificate-not-trusted-over-quic",
        ),
    ],
)
def test_an_advertised_endpoint_that_fails_the_upgrade_is_named(
    pytester: pytest.Pytester, source: str, lines: list[str]
) -> None:
    result = run(pytester, source)
    result.assert_outcomes(failed=1)
    assert summary(result) == ("FAILED", {"upgraded-succeeds"})
    result.stdout.fnmatch_lines(lines)


@needs_aioquic
def test_a_silent_udp_port_is_reported_within_the_timeout(pytester: pytest.Pytester) -> None:
    started = time.monotonic()
    result = run(
        pytester, conftest('h3=":{silent}"; ma=60', server_options={"h3": False}), timeout=2
    )
    elapsed = time.monotonic() - started
    result.assert_outcomes(failed=1)
    assert summary(result) == ("FAILED", {"upgraded-succeeds"})
    result.stdout.fnmatch_lines(
        [
            "*no answer to the QUIC handshake from 127.0.0.1:* (UDP) within 2 s*",
            "*diagnosis: Nothing answered QUIC at the advertised endpoint*",
        ]
    )
    # The probe timeout bounds the wait (generously: a loaded 2-core machine).
    assert elapsed < 30


# -- usage -----------------------------------------------------------------------------


def test_a_deadline_on_h3_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=suite(marked("test_x", "h3", after="2030-01-01")))
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*h3 has no such date*remove after=*"])


def test_the_policy_server_does_not_cover_h3() -> None:
    from pytest_upgrade.server.policy import PolicyServer

    with pytest.raises(ValueError, match="cannot enforce h3"):
        PolicyServer("HTTP/3")


def test_without_aioquic_h3_is_skipped_naming_the_extra(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Real in the "minimum" environment (python3 dev.py test-min has no aioquic);
    # here the import is made to fail.
    monkeypatch.setitem(sys.modules, "aioquic", None)
    monkeypatch.setitem(sys.modules, "aioquic.asyncio", None)
    pytester.makeconftest(conftest())
    pytester.makepyfile(
        test_suite=marked_test()
        + textwrap.dedent(
            """
            def test_the_server_starts_as_before(upgrade_server):
                assert upgrade_server.h3_port is None
            """
        )
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*no check could run*pip install 'pytest-upgrade[[]h3[]]'*"])
    assert summary(result)[0] == "SKIPPED"


# -- Caddy, a third-party server that serves HTTP/3 by default ---------------------------

CADDYFILE = """
{{
	auto_https off
	admin off
}}
https://127.0.0.1:{tls} {{
	bind 127.0.0.1
	tls {cert} {key}
	@h3differs {{
		path /differs
		protocol http/3
	}}
	respond @h3differs "not over HTTP/3" 404
	respond "hello"
}}
"""


@pytest.fixture(scope="module")
def caddy(
    tmp_path_factory: pytest.TempPathFactory, certificates: Certificates
) -> Iterator[Running]:
    workdir = tmp_path_factory.mktemp("caddy-h3")
    (tls,) = free_ports(1)
    conf = CADDYFILE.format(tls=tls, cert=certificates.cert, key=certificates.key)
    # bind 127.0.0.1: Caddy then knows which address a QUIC packet came to and
    # can pick the certificate issued for it (no SNI is sent for an IP address).
    running = start_caddy(workdir, conf, tls)
    try:
        yield running
    finally:
        running.stop()


@needs_aioquic
def test_caddy_serves_and_advertises_http3(
    pytester: pytest.Pytester, caddy: Running, certificates: Certificates
) -> None:
    # Caddy 2.6 sends Alt-Svc: h3=":PORT"; ma=2592000 on HTTP/1.1 and HTTP/2.
    url = f"https://127.0.0.1:{caddy.ports[0]}"
    result, checks = run_plugin(pytester, [url], certificates.ca, requirement_test("h3", "/"))
    result.assert_outcomes(passed=1)
    assert outcomes(checks) == {
        "upgrade-unswitchable": "passed",
        "upgraded-succeeds": "passed",
        "upgraded-protocol": "passed",
        "alt-svc-h3": "passed",
        "alt-svc-max-age": "passed",
        "h3-same-status": "passed",
    }
    assert f'h3=":{caddy.ports[0]}"; ma=2592000' in checks["alt-svc-h3"]["message"]


@needs_aioquic
def test_caddy_answering_differently_over_http3_fails(
    pytester: pytest.Pytester, caddy: Running, certificates: Certificates
) -> None:
    url = f"https://127.0.0.1:{caddy.ports[0]}"
    result, checks = run_plugin(
        pytester, [url], certificates.ca, requirement_test("h3", "/differs")
    )
    result.assert_outcomes(failed=1)
    assert checks["h3-same-status"]["outcome"] == "failed"
    assert "HTTP/3 answers 404" in checks["h3-same-status"]["message"]
