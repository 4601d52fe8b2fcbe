"""TLS-version verdicts against Node.js servers that speak only HTTP/2 over TLS.

A server that negotiates HTTP/2 by ALPN and will not serve HTTP/1.1
(``http2.createSecureServer({allowHTTP1: false})``) answers a ClientHello
offering only ALPN ``http/1.1`` with a ``no_application_protocol`` alert
(RFC 7301 §3.2), whatever its TLS versions: the version handshakes must not
take that alert for a refusal of the version (issue 33: a false pass on
TLS 1.0). Each case is the plugin's verdict next to the answer taken by hand
with ``openssl s_client -cipher DEFAULT:@SECLEVEL=0 -CAfile ca.pem`` (Node
20.20, OpenSSL 3.0.19 on both sides), against exactly these servers: the
``Cipher is`` line (a cipher: accepted; ``(NONE)``: refused), the session's
``Protocol  :`` line and the alert ("70" protocol_version, "120"
no_application_protocol). The ``New, TLSv1.0, Cipher is`` line names the
cipher's first version, not the one negotiated.
A missing ``node`` skips the cases, never passes them.
"""

from __future__ import annotations

import json
import pathlib
import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from support.matrix_servers import free_ports, outcomes, requirement_test, run_plugin, start

if TYPE_CHECKING:  # annotations only
    from support.matrix_servers import Certificates, Running

SERVER_JS = str(pathlib.Path(__file__).parents[1] / "support" / "node_tls_server.js")
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"  # OpenSSL 3 serves TLS 1.0/1.1 only at level 0


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, certificates: Certificates) -> Iterator[Any]:
    """Start a Node TLS server: ``node(kind, options)`` -> its https URL (stopped at the end)."""
    executable = shutil.which("node")
    if executable is None:
        pytest.skip("node is not installed (the server under test)")
    running: list[Running] = []

    def serve(kind: str, options: dict[str, Any]) -> str:
        (port,) = free_ports(1)
        argv = [executable, SERVER_JS, kind, json.dumps(options), certificates.cert]
        argv += [certificates.key, str(port)]
        workdir = tmp_path_factory.mktemp("node")
        running.append(start("node", argv, workdir, [port]))
        return f"https://127.0.0.1:{port}"

    yield serve
    for server in running:
        server.stop()


H2_ONLY = {"allowHTTP1": False}


def test_h2_only_server_with_legacy_tls_on_fails_the_legacy_check(
    pytester: pytest.Pytester, node: Any, certificates: Certificates
) -> None:
    # http2.createSecureServer({allowHTTP1: false, minVersion: "TLSv1",
    #                           ciphers: "DEFAULT:@SECLEVEL=0"})
    # $ openssl s_client -tls1 -alpn h2,http/1.1
    #   -> Cipher is ECDHE-ECDSA-AES256-SHA, ALPN protocol: h2, Protocol : TLSv1
    # $ openssl s_client -tls1_1 -alpn h2,http/1.1
    #   -> Cipher is ECDHE-ECDSA-AES256-SHA, ALPN protocol: h2, Protocol : TLSv1.1
    # $ openssl s_client -tls1 -alpn http/1.1 (and -tls1_1, -tls1_2, -tls1_3)
    #   -> alert 120, Cipher is (NONE): what the plugin offered before, taken for "refused"
    # $ openssl s_client -tls1 (no -alpn) -> Cipher is ECDHE-ECDSA-AES256-SHA, Protocol : TLSv1
    url = node("h2", {**H2_ONLY, "minVersion": "TLSv1", "ciphers": LEGACY_CIPHERS})
    for token in ("h2", "TLS/1.2"):
        result, checks = run_plugin(pytester, [url], certificates.ca, requirement_test(token, "/"))
        result.assert_outcomes(failed=1)
        check = checks["tls-legacy-refused"]
        assert check["outcome"] == "failed", check
        assert check["message"] == "the server accepts TLSv1, TLSv1.1"
        assert "TLSv1: accepted (negotiated TLSv1 (ALPN h2))" in check["actual"]


def test_h2_only_server_at_node_defaults_refuses_legacy_tls_and_accepts_1_2(
    pytester: pytest.Pytester, node: Any, certificates: Certificates
) -> None:
    # http2.createSecureServer({allowHTTP1: false}) (Node's minimum: TLS 1.2)
    # $ openssl s_client -tls1 / -tls1_1 -alpn h2,http/1.1 -> alert 70, Cipher is (NONE)
    # $ openssl s_client -tls1_2 -alpn h2,http/1.1
    #   -> Cipher is ECDHE-ECDSA-AES128-GCM-SHA256, ALPN protocol: h2, Protocol : TLSv1.2
    # $ openssl s_client -tls1_2 -alpn http/1.1 -> alert 120 (the old false "refused")
    # $ curl --http2 --tlsv1.2 --tls-max 1.2 -> HTTP/2 200
    url = node("h2", H2_ONLY)
    result, checks = run_plugin(pytester, [url], certificates.ca, requirement_test("h2", "/"))
    assert checks["tls-legacy-refused"]["outcome"] == "passed"
    assert checks["tls-legacy-refused"]["actual"] == (
        "TLSv1: refused (alert protocol_version); TLSv1.1: refused (alert protocol_version)"
    )
    result, checks = run_plugin(pytester, [url], certificates.ca, requirement_test("TLS/1.3", "/"))
    result.assert_outcomes(failed=1)
    check = checks["tls-below-required-refused"]
    assert check["outcome"] == "failed", check
    assert check["actual"] == "TLSv1.2: accepted (negotiated TLSv1.2 (ALPN h2))"
    assert checks["tls-legacy-refused"]["outcome"] == "passed"
    assert checks["upgraded-protocol"]["actual"] == (
        "TLSv1.3; a TLSv1.3-only handshake: accepted (negotiated TLSv1.3 (ALPN h2))"
    )


def test_h2_only_server_at_tls_1_3_passes_the_1_3_requirement(
    pytester: pytest.Pytester, node: Any, certificates: Certificates
) -> None:
    # http2.createSecureServer({allowHTTP1: false, minVersion: "TLSv1.3"})
    # $ openssl s_client -tls1 / -tls1_1 / -tls1_2 -alpn h2,http/1.1
    #   -> alert 70, Cipher is (NONE)
    # $ openssl s_client -tls1_3 -alpn h2,http/1.1
    #   -> Cipher is TLS_AES_256_GCM_SHA384, ALPN protocol: h2
    url = node("h2", {**H2_ONLY, "minVersion": "TLSv1.3"})
    result, checks = run_plugin(pytester, [url], certificates.ca, requirement_test("TLS/1.3", "/"))
    result.assert_outcomes(passed=1)
    assert {check: outcome for check, outcome in outcomes(checks).items() if "tls" in check} == {
        "tls-legacy-refused": "passed",
        "tls-below-required-refused": "passed",
        "tls-upgrade-performed": "skipped",  # the target has no http:// URL
        "tls-upgrade-switch": "skipped",
    }
    assert checks["upgraded-protocol"]["outcome"] == "passed"
    assert (
        checks["tls-below-required-refused"]["actual"]
        == "TLSv1.2: refused (alert protocol_version)"
    )


def test_an_alpn_alert_is_asked_again_without_alpn(
    pytester: pytest.Pytester, node: Any, certificates: Certificates
) -> None:
    # tls.createServer({ALPNProtocols: ["x-unknown"], minVersion: "TLSv1",
    #                   ciphers: "DEFAULT:@SECLEVEL=0"}): no ALPN protocol in common with
    # any HTTP client, every TLS version on
    # $ openssl s_client -tls1 -alpn h2,http/1.1 -> alert 120, Cipher is (NONE)
    # $ openssl s_client -tls1 (no -alpn)
    #   -> Cipher is ECDHE-ECDSA-AES256-SHA, No ALPN negotiated
    url = node(
        "tls", {"ALPNProtocols": ["x-unknown"], "minVersion": "TLSv1", "ciphers": LEGACY_CIPHERS}
    )
    result, checks = run_plugin(pytester, [url], certificates.ca, requirement_test("h2", "/"))
    result.assert_outcomes(failed=1)
    check = checks["tls-legacy-refused"]
    assert check["outcome"] == "failed"
    assert check["actual"].startswith(
        "TLSv1: accepted (with ALPN h2, http/1.1: alert no_application_protocol (about ALPN,"
        " RFC 7301 §3.2); without ALPN: negotiated TLSv1)"
    )
    report = json.loads((pytester.path / "report.json").read_text())
    (reproduce,) = [c for c in report["results"][0]["reproduce"] if "-tls1 " in c]
    assert "-alpn" not in reproduce  # the command offers what the deciding handshake offered


def test_a_request_refused_by_alpn_is_not_blamed_on_the_tls_version(
    pytester: pytest.Pytester, node: Any, certificates: Certificates
) -> None:
    # tls.createServer({ALPNProtocols: ["x-unknown"]}) (Node's minimum, TLS 1.2)
    # $ curl -sv --http2 --tlsv1.2 --cacert ca.pem https://127.0.0.1:PORT/
    #   -> "ALPN: offers h2,http/1.1", "TLS alert, no application protocol (632)", no answer
    # $ openssl s_client -tls1_2 (no -alpn)
    #   -> New, TLSv1.2, Cipher is ECDHE-ECDSA-AES128-GCM-SHA256; Protocol  : TLSv1.2
    url = node("tls", {"ALPNProtocols": ["x-unknown"]})
    result, checks = run_plugin(pytester, [url], certificates.ca, requirement_test("TLS/1.2", "/"))
    result.assert_outcomes(failed=1)
    check = checks["upgraded-succeeds"]
    assert check["outcome"] == "failed"
    assert "alert no_application_protocol" in check["actual"]
    assert check["diagnosis"].startswith("A bare TLSv1.2 handshake was accepted (")
    assert "not the TLS version" in check["diagnosis"]
