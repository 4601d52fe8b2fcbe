"""Client certificates against Apache httpd 2.4 with ``SSLVerifyClient require``.

Unlike nginx, Apache's mod_ssl fails the handshake when no certificate is given
(OpenSSL's SSL_VERIFY_FAIL_IF_NO_PEER_CERT), as seen here (Debian 12, OpenSSL 3.0):

- TLS 1.2: the CertificateRequest in the server's first flight, then the alert
  ``handshake_failure`` during the handshake;
- TLS 1.3: the client's handshake completes, then the alert ``certificate_required``;
- a certificate from a CA it does not trust: ``unknown_ca``.

Apache is skipped with its reason where it is not installed (.ci/run installs it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import trustme

from support.matrix_servers import (
    Certificates,
    free_ports,
    report_entry,
    requirement_test,
    run_plugin,
    serve_apache,
)

SUITE = requirement_test("h2", "/v2/orders")
MODULES = ("mpm_event", "authz_core", "mime", "ssl", "http2", "rewrite", "headers")

ERROR_DOCUMENT = """
ErrorDocument 426 '{"title": "Upgrade Required", "status": 426, "detail": "Use HTTP/2."}'
"""
HOST = """
<VirtualHost 127.0.0.1:{port}>
  SSLEngine on
  SSLCertificateFile {cert}
  SSLCertificateKeyFile {key}
  SSLProtocol -all +{protocol}
  SSLCACertificateFile {client_ca}
  SSLVerifyClient require
  Protocols h2 http/1.1
  RewriteEngine on
  RewriteCond %{{SERVER_PROTOCOL}} !^HTTP/2
  RewriteRule ^/v2/orders$ - [R=426,L]
</VirtualHost>
"""


@pytest.fixture(scope="module")
def apache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    server = Certificates(tmp_path_factory.mktemp("apache-mtls-server"))
    keys = tmp_path_factory.mktemp("apache-mtls-client")
    keys.chmod(0o700)
    client_ca, other = trustme.CA(), trustme.CA()
    files = {name: str(keys / f"{name}.pem") for name in ("client_ca", "good", "stranger")}
    client_ca.cert_pem.write_to_path(files["client_ca"])
    client_ca.issue_cert("client@example.test").private_key_and_cert_chain_pem.write_to_path(
        files["good"]
    )
    other.issue_cert("client@example.test").private_key_and_cert_chain_pem.write_to_path(
        files["stranger"]
    )
    workdir = tmp_path_factory.mktemp("apache-mtls")
    tls12, tls13 = free_ports(2)
    common = {"cert": server.cert, "key": server.key, "client_ca": files["client_ca"]}
    hosts = ERROR_DOCUMENT + "".join(
        HOST.format(port=port, protocol=protocol, **common)
        for port, protocol in ((tls12, "TLSv1.2"), (tls13, "TLSv1.3"))
    )
    ports = [tls12, tls13]
    for _ in serve_apache(workdir, hosts, ports, MODULES, ["v2/orders"], needs="ssl"):
        yield {
            "ca": server.ca,
            "TLSv1.2": f"https://127.0.0.1:{tls12}",
            "TLSv1.3": f"https://127.0.0.1:{tls13}",
            **files,
        }


def _run(
    pytester: pytest.Pytester, apache: dict[str, Any], version: str, *options: str
) -> tuple[pytest.RunResult, dict[str, Any]]:
    result, _ = run_plugin(pytester, [apache[version]], apache["ca"], SUITE, *options)
    return result, report_entry(pytester)


NONE_GIVEN = {"TLSv1.2": "handshake_failure", "TLSv1.3": "certificate_required"}


@pytest.mark.parametrize("version", NONE_GIVEN)
def test_with_the_certificate_it_is_judged(
    pytester: pytest.Pytester, apache: dict[str, Any], version: str
) -> None:
    # Judged on what Apache answers (this configuration sends no Upgrade field: the
    # 426 checks that read it fail), not an error.
    _, entry = _run(pytester, apache, version, f"--upgrade-client-cert={apache['good']}")
    assert "error" not in entry
    checks = {c["id"]: c["outcome"] for c in entry["checks"]}
    assert (checks["status-426"], checks["upgraded-succeeds"]) == ("passed", "passed")


@pytest.mark.parametrize("version", NONE_GIVEN)
def test_without_one_the_alert_is_named(
    pytester: pytest.Pytester, apache: dict[str, Any], version: str
) -> None:
    result, entry = _run(pytester, apache, version)
    result.assert_outcomes(errors=1)
    assert (
        f"the server requires a client certificate and none was given (alert {NONE_GIVEN[version]})"
    ) in entry["error"]


@pytest.mark.parametrize("version", NONE_GIVEN)
def test_a_certificate_of_another_ca_is_refused_with_unknown_ca(
    pytester: pytest.Pytester, apache: dict[str, Any], version: str
) -> None:
    result, entry = _run(pytester, apache, version, f"--upgrade-client-cert={apache['stranger']}")
    result.assert_outcomes(errors=1)
    assert f"refused the client certificate {apache['stranger']} (alert " in entry["error"]
