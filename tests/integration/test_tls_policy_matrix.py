"""The TLS checks against nginx, Apache httpd, HAProxy, Caddy and lighttpd at each TLS policy.

Every server runs with one listener per policy (``tests/support/tls_policy_servers.py``:
TLS 1.0 and later, the server's default, TLS 1.3 only), and the plugin checks
a ``TLS/1.3`` requirement there: it makes a handshake at TLS 1.0, 1.1, 1.2 and
1.3, and ``tls-legacy-refused`` and ``tls-below-required-refused`` judge them.
Beside each case is the answer taken by hand first, on Debian 12 (nginx 1.22.1,
Apache httpd 2.4.71, HAProxy 2.6.12, Caddy 2.6.2, lighttpd 1.4.69; OpenSSL
3.0.19) with::

    openssl s_client -connect 127.0.0.1:PORT -tls1|-tls1_1|-tls1_2|-tls1_3 \\
        -cipher DEFAULT:@SECLEVEL=0 -alpn h2,http/1.1 -CAfile ca.pem </dev/null

reading ``Cipher is (NONE)`` (refused, with the alert) or a cipher (accepted),
and the session's ``Protocol  :`` line for the version. (The ``New, TLSv1.0,
Cipher is …`` line names the *cipher's* first version, not the one negotiated:
a TLS 1.1 session with ``ECDHE-ECDSA-AES256-SHA`` reads "TLSv1.0" there.)
"70" is the alert protocol_version, "80" internal_error.
A missing binary skips its server's cases with the binary's name.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.matrix_servers import Certificates, report_entry, requirement_test, run_plugin
from support.tls_policy_servers import serve_policies

A, R = "accepted", "refused"

# (server, policy): the handshakes at TLS 1.0, 1.1, 1.2, 1.3 as openssl s_client saw them.
CASES = {
    # ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; ssl_ciphers DEFAULT:@SECLEVEL=0
    # -> Protocol TLSv1 / TLSv1.1 / TLSv1.2 / TLSv1.3
    ("nginx", "legacy"): (A, A, A, A),
    # nothing set (nginx 1.22's default is "TLSv1 TLSv1.1 TLSv1.2", and OpenSSL 3's
    # security level refuses the first two) -> alert 80, alert 80, TLSv1.2, alert 70
    ("nginx", "default"): (R, R, A, R),
    # ssl_protocols TLSv1.3 -> alert 70, 70, 70, TLSv1.3
    ("nginx", "tls13"): (R, R, R, A),
    # SSLProtocol all; SSLCipherSuite DEFAULT:@SECLEVEL=0 -> TLSv1 / 1.1 / 1.2 / 1.3
    ("apache", "legacy"): (A, A, A, A),
    # nothing set -> alert 80, alert 80, TLSv1.2, TLSv1.3
    ("apache", "default"): (R, R, A, A),
    # SSLProtocol -all +TLSv1.3 -> alert 70, 70, 70, TLSv1.3
    ("apache", "tls13"): (R, R, R, A),
    # bind ... ssl-min-ver TLSv1.0 ciphers DEFAULT:@SECLEVEL=0 -> TLSv1 / 1.1 / 1.2 / 1.3
    ("haproxy", "legacy"): (A, A, A, A),
    # nothing set (HAProxy 2.6's minimum is TLS 1.2) -> alert 70, 70, TLSv1.2, TLSv1.3
    ("haproxy", "default"): (R, R, A, A),
    # ssl-min-ver TLSv1.3 -> alert 70, 70, 70, TLSv1.3
    ("haproxy", "tls13"): (R, R, R, A),
    # nothing set (Caddy serves TLS 1.2 and 1.3; it has no setting for 1.0 or 1.1)
    # -> alert 70, 70, TLSv1.2, TLSv1.3
    ("caddy", "default"): (R, R, A, A),
    # tls cert key { protocols tls1.3 } -> alert 70, 70, TLSv1.2 (!), TLSv1.3: Caddy picks
    # a site's TLS policy by SNI, and a client of an IP address sends none (RFC 6066
    # §3), so the default policy answers; only -servername 127.0.0.1 gets alert 70
    ("caddy", "tls13"): (R, R, A, A),
    # ssl.openssl.ssl-conf-cmd = ("MinProtocol" => "TLSv1",
    #   "CipherString" => "DEFAULT:@SECLEVEL=0") -> TLSv1 / 1.1 / 1.2 / 1.3
    ("lighttpd", "legacy"): (A, A, A, A),
    # nothing set -> alert 70, 70, TLSv1.2, TLSv1.3
    ("lighttpd", "default"): (R, R, A, A),
    # ("MinProtocol" => "TLSv1.3") -> alert 70, 70, 70, TLSv1.3
    ("lighttpd", "tls13"): (R, R, R, A),
}
SERVERS = tuple(dict.fromkeys(server for server, _ in CASES))


@pytest.fixture(scope="module", params=SERVERS)
def server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    certificates: Certificates,
) -> Iterator[tuple[str, dict[str, str]]]:
    """One server (each in turn): its name and its https URL by policy."""
    name: str = request.param
    yield from (
        (name, urls) for urls in serve_policies(name, tmp_path_factory.mktemp(name), certificates)
    )


def test_the_tls_checks_agree_with_openssl(
    pytester: pytest.Pytester, server: tuple[str, dict[str, str]], certificates: Certificates
) -> None:
    name, urls = server
    for policy, url in urls.items():
        expected = CASES[(name, policy)]
        _, checks = run_plugin(pytester, [url], certificates.ca, requirement_test("TLS/1.3", "/"))
        entry = report_entry(pytester)
        seen = tuple(h["outcome"] for h in entry["handshakes"])
        assert seen == expected, (name, policy, entry["handshakes"])
        legacy = "failed" if A in expected[:2] else "passed"
        below = "failed" if expected[2] == A else "passed"
        assert checks["tls-legacy-refused"]["outcome"] == legacy, (name, policy)
        assert checks["tls-below-required-refused"]["outcome"] == below, (name, policy)


OPENSSL_WITHOUT_LEGACY_TLS = """openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Protocol = -TLSv1, -TLSv1.1
"""


@pytest.fixture(scope="module")
def policy_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    certificates: Certificates,
) -> Iterator[str]:
    """The https URL of one server at one policy, ``request.param``: "server-policy"."""
    name, policy = str(request.param).split("-")
    workdir = tmp_path_factory.mktemp(request.param)
    yield from (urls[policy] for urls in serve_policies(name, workdir, certificates))


@pytest.mark.parametrize("policy_url", ["nginx-legacy"], indirect=True)
def test_a_client_that_cannot_offer_tls_1_0_leaves_no_silent_green(
    pytester: pytest.Pytester, policy_url: str, certificates: Certificates
) -> None:
    """Issue 33's case: this machine's OpenSSL is configured not to offer TLS 1.0 or 1.1.

    nginx accepts TLS 1.0 (``openssl s_client -tls1``: Cipher is
    ECDHE-ECDSA-AES256-SHA, Protocol : TLSv1). With ``OPENSSL_CONF`` naming the
    configuration below, the same command cannot even start: "Cipher is (NONE)",
    "tls_setup_handshake:no protocols available". The requirement passes on what could be
    checked, but its line, the counts and the report say what was not, and
    --upgrade-require-all-checks fails it.
    """
    conf = pytester.path / "openssl.cnf"
    conf.write_text(OPENSSL_WITHOUT_LEGACY_TLS)
    pytester.makepyfile(test_suite=requirement_test("TLS/1.2", "/"))
    options = ["-p", "no:cacheprovider", "--upgrade-timeout=5", f"--upgrade-target={policy_url}"]
    options.append(f"--upgrade-ca={certificates.ca}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENSSL_CONF", str(conf))
        result = pytester.runpytest_subprocess(*options)
        strict = pytester.runpytest_subprocess(*options, "--upgrade-require-all-checks")
    # Passed (or warned: no HSTS here), exit status 0, and yet not silent.
    assert result.ret == 0
    assert result.parseoutcomes()["passed"] == 1
    result.stdout.fnmatch_lines(
        [
            # (With no http:// URL given, status-426 and cleartext-refused could not run either.)
            "*  TLS/1.2 GET / *(3 must-checks not run: status-426, cleartext-refused (the target"
            " has no cleartext (http) URL, *); tls-legacy-refused (inconclusive, never passed:"
            " TLSv1: client-cannot-offer (this client's OpenSSL cannot offer TLSv1 (no protocols"
            " available)*",
            "1 requirement: 1 * (1 with must-checks not run)",
        ]
    )
    assert strict.parseoutcomes()["failed"] == 1
    strict.stdout.fnmatch_lines(["*must-check* not run: *tls-legacy-refused (inconclusive*"])


@pytest.mark.parametrize("policy_url", ["caddy-default"], indirect=True)
def test_the_http10_probe_offers_no_alpn_and_its_command_reproduces_it(
    pytester: pytest.Pytester, policy_url: str, certificates: Certificates
) -> None:
    # Caddy (Go's TLS) refuses an ALPN offer it shares nothing with:
    # $ curl -sv --http1.0 --cacert ca.pem https://127.0.0.1:PORT/
    #   -> "ALPN: offers http/1.0", "TLS alert, no application protocol", no answer
    # $ curl -sv --http1.0 --no-alpn --cacert ca.pem https://127.0.0.1:PORT/ -> HTTP/1.0 200 OK
    _, checks = run_plugin(
        pytester, [policy_url], certificates.ca, requirement_test("HTTP/1.1", "/")
    )
    entry = report_entry(pytester)
    (legacy,) = [e for e in entry["exchanges"] if e["role"] == "legacy"]
    assert legacy["offered"] == "HTTP/1.0 over TLS"  # no ALPN
    assert legacy["response"]["status_line"] == "HTTP/1.0 200 OK"
    assert entry["reproduce"][0].startswith("curl -sv --http1.0 --no-alpn --cacert ")
    assert checks["status-426"]["outcome"] == "failed"  # HTTP/1.0 is still served
