"""Client certificates refused with a TLS alert: a Python TLS server requiring one
(``ssl.CERT_REQUIRED``, OpenSSL 3), pinned to TLS 1.3 and to TLS 1.2.

What the probes see (and how it is reported), checked here:

- TLS 1.3, no certificate: the client's handshake completes (its Finished is
  sent with an empty Certificate), then the server sends ``certificate_required``
  (RFC 8446 §4.4.2.4) and closes: the probe reads the alert as the answer to its
  request, or finds the connection reset while sending it and reads the alert
  that came first;
- TLS 1.2, no certificate: ``handshake_failure`` during the handshake, after
  the server's CertificateRequest (RFC 5246 §7.4.4), which the probe saw;
- a certificate from another CA: ``unknown_ca`` (after the handshake in TLS 1.3,
  during it in TLS 1.2).

Each is an error of the requirement (never a pass, never a failed 426 check)
that names the alert and says how to give a certificate. The server answers
HTTP/1.0 with 426 and HTTP/1.1 with 200, so with the right certificate the
``HTTP/1.1`` requirement passes.
"""

from __future__ import annotations

import contextlib
import pathlib
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
import trustme

from support.hostile import hostile_server, linger, read_head
from support.matrix_servers import report_entry, requirement_test, run_plugin
from support.tls_upgrade_server import tls_upgrade_server

VERSIONS = {"TLSv1.3": ssl.TLSVersion.TLSv1_3, "TLSv1.2": ssl.TLSVersion.TLSv1_2}
# The alert a server sends when no certificate was given, by version.
NONE_GIVEN = {"TLSv1.3": "certificate_required", "TLSv1.2": "handshake_failure"}

_426 = (
    b"HTTP/1.1 426 Upgrade Required\r\nUpgrade: HTTP/1.1\r\nConnection: upgrade, close\r\n"
    b"Cache-Control: no-store\r\nContent-Type: application/problem+json\r\n"
    b"Content-Length: 87\r\n\r\n"
    b'{"title": "Upgrade Required", "status": 426, "detail": "Use HTTP/1.1, not HTTP/1.0."}  '
)
_200 = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
SUITE = requirement_test("HTTP/1.1", "/")


class Files:
    def __init__(self, directory: pathlib.Path) -> None:
        directory.chmod(0o700)
        self.server_ca, self.client_ca, other = trustme.CA(), trustme.CA(), trustme.CA()
        self.server_cafile = str(directory / "server-ca.pem")
        self.server_ca.cert_pem.write_to_path(self.server_cafile)
        self.good = str(directory / "client.pem")
        self.stranger = str(directory / "stranger.pem")
        leaf = self.client_ca.issue_cert("client@example.test")
        leaf.private_key_and_cert_chain_pem.write_to_path(self.good)
        strange = other.issue_cert("client@example.test")
        strange.private_key_and_cert_chain_pem.write_to_path(self.stranger)
        for path in (self.good, self.stranger):
            pathlib.Path(path).chmod(0o600)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    return Files(tmp_path_factory.mktemp("mtls-alerts"))


@contextlib.contextmanager
def requiring_server(files: Files, version: str) -> Iterator[str]:
    """A TLS server that requires a client certificate of ``files.client_ca``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    files.server_ca.issue_cert("127.0.0.1").configure_cert(context)
    files.client_ca.configure_trust(context)
    context.verify_mode = ssl.CERT_REQUIRED
    context.minimum_version = context.maximum_version = VERSIONS[version]

    def behaviour(conn: Any) -> None:
        with contextlib.suppress(OSError):
            conn.settimeout(5)
            with context.wrap_socket(conn, server_side=True) as tls:
                head = read_head(tls)
                tls.sendall(
                    _426 if b" HTTP/1.0\r\n" in head.split(b"\r\n", 1)[0] + b"\r\n" else _200
                )
                linger(tls, 1)

    with hostile_server(behaviour) as port:
        yield f"https://127.0.0.1:{port}"


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    """Each TLS version the requiring server is pinned to, in turn."""
    return str(request.param)


def _run(
    pytester: pytest.Pytester, files: Files, version: str, *options: str
) -> tuple[pytest.RunResult, dict[str, Any]]:
    """The HTTP/1.1 requirement against ``requiring_server`` at ``version``."""
    with requiring_server(files, version) as url:
        result, _ = run_plugin(pytester, [url], files.server_cafile, SUITE, *options)
    return result, report_entry(pytester)


def test_with_the_certificate_it_passes(
    pytester: pytest.Pytester, files: Files, version: str
) -> None:
    result, entry = _run(pytester, files, version, f"--upgrade-client-cert={files.good}")
    result.assert_outcomes(passed=1)
    assert entry["verdict"] == "passed", entry


def test_without_one_the_alert_is_an_error_with_the_advice(
    pytester: pytest.Pytester, files: Files, version: str
) -> None:
    result, entry = _run(pytester, files, version)
    result.assert_outcomes(errors=1)
    assert entry["verdict"] == "error"
    alert = NONE_GIVEN[version]
    assert (
        f"the server requires a client certificate and none was given (alert {alert}):"
        " give one with --upgrade-client-cert=PEM"
    ) in entry["error"]
    kinds = {e["failure"]["kind"] for e in entry["exchanges"] if e["failure"]}
    assert kinds == {"client-certificate"}
    assert [c["id"] for c in entry["checks"] if c["outcome"] == "failed"] == []


def test_a_certificate_of_another_ca_is_an_error_naming_the_alert(
    pytester: pytest.Pytester, files: Files, version: str
) -> None:
    result, entry = _run(pytester, files, version, f"--upgrade-client-cert={files.stranger}")
    result.assert_outcomes(errors=1)
    assert (
        f"the server refused the client certificate {files.stranger} (alert unknown_ca):"
        " it does not trust the CA that issued it"
    ) in entry["error"]


@pytest.mark.parametrize("protocol", ["h2", "websocket", "TLS/1.3"])
def test_every_kind_of_probe_reports_it_the_same(
    pytester: pytest.Pytester, files: Files, protocol: str
) -> None:
    # HTTP/2 (ALPN h2), a WebSocket handshake over TLS, a TLS-minimum request:
    # each probe reads the same alert, and the requirement errors with it.
    with requiring_server(files, "TLSv1.3") as url:
        pytester.makepyfile(test_suite=requirement_test(protocol, "/"))
        result = pytester.runpytest(
            "-p",
            "no:cacheprovider",
            "--upgrade-timeout=5",
            f"--upgrade-target={url}",
            f"--upgrade-ca={files.server_cafile}",
        )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["ERROR * the server requires a client certificate and none was given (alert *"]
    )


def test_the_in_band_tls_upgrade_offers_it_after_the_101(
    pytester: pytest.Pytester, files: Files
) -> None:
    # RFC 2817: the TLS handshake starts on the cleartext connection after the 101;
    # the certificate is offered there too, and without it the alert ends the probe.
    source = requirement_test("TLS/1.2", "/secure")
    outcomes = {}
    for name, given in (("with", [f"--upgrade-client-cert={files.good}"]), ("without", [])):
        with tls_upgrade_server("switch", client_ca=files.client_ca) as (url, cafile):
            result, _ = run_plugin(pytester, [url], cafile, source, *given)
        outcomes[name] = (result.ret, report_entry(pytester))
    ret, entry = outcomes["with"]
    checks = {c["id"]: c["outcome"] for c in entry["checks"]}
    assert (ret, checks["tls-upgrade-switch"]) == (pytest.ExitCode.OK, "passed"), entry
    ret, entry = outcomes["without"]
    assert entry["verdict"] == "error"
    # asyncio's TLS closes without an alert after its CertificateRequest got no certificate.
    assert (
        "after the 101, the TLS handshake" in entry["error"]
        or "the answer to OPTIONS *" in entry["error"]
    )
    assert (
        "the server asked for a client certificate in the TLS handshake, none was given,"
        in (entry["error"])
    )
