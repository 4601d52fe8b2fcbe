"""Client certificates (mTLS) against nginx 1.22 with ``ssl_verify_client on``.

A trustme CA of the test's own issues the client certificates (``CA.issue_cert``
makes client certificates too); nginx trusts it with ``ssl_client_certificate``.
What nginx does, seen here with Python's ssl and curl (Debian 12, OpenSSL 3.0):

- with the certificate: the handshake completes and the request is served;
- without one: the handshake completes all the same (``on`` does not make
  OpenSSL fail it), and every request is answered
  ``400 No required SSL certificate was sent`` (nginx's 496);
- with one from another CA: the handshake completes, and every request is
  answered ``400 The SSL certificate error`` (nginx's 495), no alert sent.

nginx is skipped with its reason where it is not installed (.ci/run installs it).
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import trustme

from support.matrix_servers import (
    Certificates,
    Running,
    free_ports,
    nginx_h2_location,
    outcomes,
    report_entry,
    requirement_test,
    run_plugin,
    start_nginx,
)


@dataclass
class ClientFiles:
    """The client CA nginx trusts, a certificate it issued and one from another CA."""

    ca: str
    good: str  # certificate and key in one file
    good_cert: str
    good_key: str
    stranger: str  # issued by a CA nginx does not trust


def _client_files(directory: pathlib.Path) -> ClientFiles:
    directory.chmod(0o700)
    authority, other = trustme.CA(), trustme.CA()
    leaf = authority.issue_cert("client@example.test")
    stranger = other.issue_cert("client@example.test")
    paths = {name: directory / f"{name}.pem" for name in ("ca", "good", "cert", "key", "stranger")}
    authority.cert_pem.write_to_path(str(paths["ca"]))
    leaf.private_key_and_cert_chain_pem.write_to_path(str(paths["good"]))
    leaf.cert_chain_pems[0].write_to_path(str(paths["cert"]))
    leaf.private_key_pem.write_to_path(str(paths["key"]))
    stranger.private_key_and_cert_chain_pem.write_to_path(str(paths["stranger"]))
    for path in paths.values():
        path.chmod(0o600)
    return ClientFiles(
        str(paths["ca"]),
        str(paths["good"]),
        str(paths["cert"]),
        str(paths["key"]),
        str(paths["stranger"]),
    )


SUITE = requirement_test("h2", "/v2/orders")

NGINX_MTLS = """
  server {{
    listen 127.0.0.1:{port} ssl http2;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_protocols {protocols};
    ssl_ciphers {ciphers};
    ssl_client_certificate {client_ca};
    ssl_verify_client on;{orders}
  }}
"""


@dataclass
class Mtls:
    running: Running
    server: Certificates
    client: ClientFiles
    modern: str  # https URL: TLS 1.2 and 1.3
    legacy: str  # https URL: TLS 1.0 to 1.3 (a retirement half done)


@pytest.fixture(scope="module")
def mtls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mtls]:
    server = Certificates(tmp_path_factory.mktemp("mtls-server"))
    client = _client_files(tmp_path_factory.mktemp("mtls-client"))
    modern, legacy = free_ports(2)
    common = {
        "cert": server.cert,
        "key": server.key,
        "client_ca": client.ca,
        "orders": nginx_h2_location('{"ok": true}'),
    }
    servers = NGINX_MTLS.format(
        port=modern, protocols="TLSv1.2 TLSv1.3", ciphers="HIGH:!aNULL", **common
    ) + NGINX_MTLS.format(
        port=legacy,
        protocols="TLSv1 TLSv1.1 TLSv1.2 TLSv1.3",
        ciphers='"DEFAULT:@SECLEVEL=0"',
        **common,
    )
    running = start_nginx(tmp_path_factory.mktemp("nginx-mtls"), servers, [modern, legacy])
    try:
        yield Mtls(
            running,
            server,
            client,
            f"https://127.0.0.1:{modern}",
            f"https://127.0.0.1:{legacy}",
        )
    finally:
        running.stop()


def _run(
    pytester: pytest.Pytester, mtls: Mtls, url: str, *options: str
) -> tuple[pytest.RunResult, dict[str, Any]]:
    result, _ = run_plugin(pytester, [url], mtls.server.ca, SUITE, *options)
    return result, report_entry(pytester)


def _outcomes(entry: dict[str, Any]) -> dict[str, str]:
    return outcomes({check["id"]: check for check in entry["checks"]})


def test_with_the_certificate_the_requirement_is_judged_and_passes(
    pytester: pytest.Pytester, mtls: Mtls
) -> None:
    result, entry = _run(pytester, mtls, mtls.modern, f"--upgrade-client-cert={mtls.client.good}")
    result.assert_outcomes(passed=1)
    assert entry["verdict"] == "passed"
    assert _outcomes(entry)["status-426"] == "passed"
    assert _outcomes(entry)["upgraded-succeeds"] == "passed"
    assert entry["route"] == {"client_cert": mtls.client.good}
    assert all(f"--cert {mtls.client.good}" in c for c in entry["reproduce"] if "curl" in c)
    assert all(f"-cert {mtls.client.good}" in c for c in entry["reproduce"] if "openssl" in c)


def test_a_separate_key_file_works_the_same(pytester: pytest.Pytester, mtls: Mtls) -> None:
    result, entry = _run(
        pytester,
        mtls,
        mtls.modern,
        f"--upgrade-client-cert={mtls.client.good_cert}",
        f"--upgrade-client-key={mtls.client.good_key}",
    )
    result.assert_outcomes(passed=1)
    assert entry["route"] == {
        "client_cert": mtls.client.good_cert,
        "client_key": mtls.client.good_key,
    }


def test_a_targets_file_line_gives_its_own_certificate(
    pytester: pytest.Pytester, mtls: Mtls
) -> None:
    targets = pytester.path / "targets.txt"
    targets.write_text(f"{mtls.modern} ca={mtls.server.ca} cert={mtls.client.good} name=api\n")
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("-p", "no:cacheprovider", f"--upgrade-targets-file={targets}")
    result.assert_outcomes(passed=1)


def test_the_tls_version_handshakes_offer_it_and_see_tls_1_0_accepted(
    pytester: pytest.Pytester, mtls: Mtls
) -> None:
    # A server asking for client certificates still chose TLS 1.0 in its ServerHello:
    # the old version is accepted, whatever the certificate exchange after it.
    result, entry = _run(pytester, mtls, mtls.legacy, f"--upgrade-client-cert={mtls.client.good}")
    result.assert_outcomes(failed=1)
    assert _outcomes(entry)["tls-legacy-refused"] == "failed"
    versions = {h["version"]: h["outcome"] for h in entry["handshakes"]}
    assert versions == {"TLSv1": "accepted", "TLSv1.1": "accepted"}


def test_a_bad_client_certificate_option_is_a_usage_error(
    pytester: pytest.Pytester, mtls: Mtls
) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest(
        f"--upgrade-target={mtls.modern}", f"--upgrade-client-cert={mtls.client.good_cert}"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"ERROR: --upgrade-client-cert: no PEM private key in {mtls.client.good_cert}, *"]
    )
    assert "PRIVATE KEY-----" not in result.stderr.str() + result.stdout.str()


def test_without_a_certificate_the_400s_are_an_error_with_the_advice(
    pytester: pytest.Pytester, mtls: Mtls
) -> None:
    # nginx completes the handshake and answers 400 "No required SSL certificate
    # was sent": an error only because the probes saw its CertificateRequest.
    result, entry = _run(pytester, mtls, mtls.modern)
    result.assert_outcomes(errors=1)
    assert entry["verdict"] == "error"
    assert (
        "the server asked for a client certificate in the TLS handshake, none was given"
        in (entry["error"])
    )
    assert "give one with --upgrade-client-cert=PEM" in entry["error"]
    statuses = {e["role"]: (e["response"] or {}).get("status") for e in entry["exchanges"]}
    assert statuses["legacy"] == 400
    result.stdout.fnmatch_lines(["*a client certificate is required; give one with*"])
    # No check judges nginx's 400s: status-426 and upgraded-succeeds say why.
    assert [c["id"] for c in entry["checks"] if c["outcome"] == "failed"] == []
    assert _outcomes(entry)["status-426"] == "skipped"


def test_a_certificate_of_another_ca_is_an_error_naming_it(
    pytester: pytest.Pytester, mtls: Mtls
) -> None:
    # nginx answers 400 "The SSL certificate error" (its 495), no alert.
    result, entry = _run(
        pytester, mtls, mtls.modern, f"--upgrade-client-cert={mtls.client.stranger}"
    )
    result.assert_outcomes(errors=1)
    assert f"answered 400 to every request made with {mtls.client.stranger}" in entry["error"]
    assert "does not accept that certificate" in entry["error"]


def test_without_one_the_version_handshakes_still_see_tls_1_0_accepted(
    pytester: pytest.Pytester, mtls: Mtls
) -> None:
    # The requirement errors (nginx's 400s after its CertificateRequest), and the
    # version handshakes say what the ServerHello said: TLS 1.0 and 1.1 accepted.
    result, entry = _run(pytester, mtls, mtls.legacy)
    result.assert_outcomes(errors=1)
    versions = {h["version"]: h["outcome"] for h in entry["handshakes"]}
    assert versions == {"TLSv1": "accepted", "TLSv1.1": "accepted"}


def test_the_upgraded_clients_of_a_test_body_offer_it_too(
    pytester: pytest.Pytester, mtls: Mtls
) -> None:
    pytester.makepyfile(
        test_suite="""
import pytest

@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_orders(upgrade):
    response = upgrade.client.get("/v2/orders")
    assert (response.http_version, response.status_code) == ("HTTP/2", 200)
"""
    )
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        f"--upgrade-target={mtls.modern}",
        f"--upgrade-ca={mtls.server.ca}",
        f"--upgrade-client-cert={mtls.client.good}",
    )
    result.assert_outcomes(passed=1)
