"""The deprecation gate against nginx, Apache httpd and Caddy announcing a deprecation
the way their operators configure it (issue 32).

Each server serves ``/v1/orders`` over HTTP/1.1 and HTTP/2 with Deprecation and
Sunset configured as the server's documentation shows, once the common way
(which the plugin must find) and once corrected as its diagnosis advises
(which must pass). The requirement is ``h2 /v1/orders after=2027-06-01``,
judged as of 2026-12-01. Seen here on Debian 12 with nginx 1.22.1, Apache
httpd 2.4.71 and Caddy 2.6.2:

* nginx, ``add_header ... always`` in the location: both fields on the HTTP/2
  answer too, and the Sunset configured long ago is already past;
* Apache, ``Header set`` and ``Header always set`` of one Sunset: sent twice;
* Caddy, ``header Sunset`` for every protocol with a time later on the
  deadline day than the 00:00 UTC from which the gate expects a 426.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support import matrix_servers
from support.matrix_servers import Certificates, Running, outcomes, requirement_test, run_plugin

AS_OF = "--upgrade-as-of=2026-12-01"
DEADLINE = "2027-06-01"
DEPRECATION = "@1764547200"  # 2025-12-01
SUNSET = "Tue, 01 Jun 2027 00:00:00 GMT"  # the deadline, 00:00 UTC
GATED = requirement_test("h2", "/v1/orders", after=DEADLINE)
FIXED = requirement_test("h2", "/v1/fixed", after=DEADLINE)


def _serve(running: Running) -> Iterator[Running]:
    try:
        yield running
    finally:
        running.stop()


def _configured(template: str, tls: int, certificates: Certificates) -> str:
    """``template`` with the TLS port, the certificate (and Apache's mod_ssl lines for it)
    and the two fields' values."""
    return template.format(
        tls=tls,
        cert=certificates.cert,
        key=certificates.key,
        ssl=matrix_servers.apache_ssl(certificates),
        deprecation=DEPRECATION,
        sunset=SUNSET,
    )


def gate(pytester: pytest.Pytester, url: str, cafile: str, source: str) -> dict[str, dict]:
    result, checks = run_plugin(pytester, [url], cafile, source, AS_OF, "-rA")
    assert "Traceback" not in result.stdout.str()
    return checks


# -- nginx ---------------------------------------------------------------------------

NGINX_SERVERS = """
  # The fields for HTTP/1.x only: nginx sends no field whose value is empty.
  map $server_protocol $deprecation {{ "HTTP/2.0" ""; default "{deprecation}"; }}
  map $server_protocol $sunset {{ "HTTP/2.0" ""; default "{sunset}"; }}
  server {{
    listen 127.0.0.1:{tls} ssl http2;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    # As usually configured: on every answer, written when the migration began.
    location = /v1/orders {{
      add_header Deprecation "{deprecation}" always;
      add_header Sunset "Sun, 01 Nov 2026 00:00:00 GMT" always;
      return 200 '{{"ok": true}}';
    }}
    location = /v1/fixed {{
      add_header Deprecation $deprecation always;
      add_header Sunset $sunset always;
      return 200 '{{"ok": true}}';
    }}
  }}
"""


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory, certificates: Certificates) -> Iterator[str]:
    (tls,) = matrix_servers.free_ports(1)
    servers = _configured(NGINX_SERVERS, tls, certificates)
    running = matrix_servers.start_nginx(tmp_path_factory.mktemp("gate-nginx"), servers, [tls])
    for _ in _serve(running):
        yield f"https://127.0.0.1:{tls}"


def test_nginx_always_on_every_answer(
    pytester: pytest.Pytester, nginx: str, certificates: Certificates
) -> None:
    checks = gate(pytester, nginx, certificates.ca, GATED)
    assert outcomes(checks)["sunset-header"] == "failed"
    assert checks["sunset-header"]["message"].startswith(
        "Sunset (2026-11-01) is already past as of 2026-12-01"
    )
    assert outcomes(checks)["upgraded-not-deprecated"] == "warned"
    assert checks["upgraded-not-deprecated"]["actual"] == (
        f"Deprecation: {DEPRECATION}, Sunset: Sun, 01 Nov 2026 00:00:00 GMT"
    )


# -- Apache httpd ------------------------------------------------------------------------

APACHE_HOST = """
<VirtualHost 127.0.0.1:{tls}>
  {ssl}
  Protocols h2 http/1.1
  # Set once for successful answers and once "always": two tables, both sent.
  <Location "/v1/orders">
    Header set Deprecation "{deprecation}"
    Header set Sunset "{sunset}"
    Header always set Sunset "{sunset}"
  </Location>
  <Location "/v1/fixed">
    Header always set Deprecation "{deprecation}" "expr=%{{SERVER_PROTOCOL}} != 'HTTP/2.0'"
    Header always set Sunset "{sunset}" "expr=%{{SERVER_PROTOCOL}} != 'HTTP/2.0'"
  </Location>
</VirtualHost>
"""
APACHE_MODULES = ("mpm_event", "authz_core", "mime", "ssl", "http2", "headers")


@pytest.fixture(scope="module")
def apache(tmp_path_factory: pytest.TempPathFactory, certificates: Certificates) -> Iterator[str]:
    (tls,) = matrix_servers.free_ports(1)
    host = _configured(APACHE_HOST, tls, certificates)
    workdir = tmp_path_factory.mktemp("gate-apache")
    documents = ("v1/orders", "v1/fixed")
    apache = matrix_servers.serve_apache(
        workdir, host, [tls], APACHE_MODULES, documents, needs="http2"
    )
    for _ in apache:
        yield f"https://127.0.0.1:{tls}"


def test_apache_header_set_and_always_set_send_sunset_twice(
    pytester: pytest.Pytester, apache: str, certificates: Certificates
) -> None:
    checks = gate(pytester, apache, certificates.ca, GATED)
    sunset = checks["sunset-header"]
    assert sunset["outcome"] == "failed"
    assert sunset["message"] == "Sunset appears twice with the same value"
    assert sunset["actual"] == f"Sunset: {SUNSET}, Sunset: {SUNSET}"
    assert "`Header set` plus `Header always set`" in sunset["diagnosis"]
    assert "not an HTTP-date" not in sunset["message"]


# -- Caddy ------------------------------------------------------------------------------

CADDY_SITE = """\
	@legacy {{
		not protocol http/2+
	}}
	# Every protocol, and noon of the deadline day.
	handle /v1/orders {{
		header Deprecation "{deprecation}"
		header Sunset "Tue, 01 Jun 2027 12:00:00 GMT"
		respond `{{"ok": true}}` 200
	}}
	handle /v1/fixed {{
		header @legacy Deprecation "{deprecation}"
		header @legacy Sunset "{sunset}"
		respond `{{"ok": true}}` 200
	}}
"""


@pytest.fixture(scope="module")
def caddy(tmp_path_factory: pytest.TempPathFactory, certificates: Certificates) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("gate-caddy")
    (tls,) = matrix_servers.free_ports(1)
    conf = matrix_servers.caddy_site(tls, certificates, _configured(CADDY_SITE, tls, certificates))
    for _ in _serve(matrix_servers.start_caddy(workdir, conf, tls)):
        yield f"https://127.0.0.1:{tls}"


def test_caddy_sunset_later_on_the_deadline_day(
    pytester: pytest.Pytester, caddy: str, certificates: Certificates
) -> None:
    checks = gate(pytester, caddy, certificates.ca, GATED)
    assert checks["sunset-header"]["outcome"] == "failed"
    assert checks["sunset-header"]["message"] == (
        "Sunset (2027-06-01 12:00:00 UTC) is later than the declared deadline 2027-06-01"
        " (enforced from 00:00 UTC)"
    )
    assert outcomes(checks)["upgraded-not-deprecated"] == "warned"


# -- corrected as the diagnoses advise ------------------------------------------------------

# The checks that must pass at /v1/fixed (the fields on HTTP/1.x answers only), by server.
FIXED_PASSES = {
    "nginx": (
        "sunset-header",
        "deprecation-header",
        "upgraded-not-deprecated",
        "legacy-still-served",
    ),
    "apache": ("sunset-header", "deprecation-header", "upgraded-not-deprecated"),
    "caddy": ("sunset-header", "upgraded-not-deprecated"),
}


@pytest.mark.parametrize("server", FIXED_PASSES)
def test_fields_for_http1_only_pass(
    pytester: pytest.Pytester,
    request: pytest.FixtureRequest,
    certificates: Certificates,
    server: str,
) -> None:
    checks = gate(pytester, request.getfixturevalue(server), certificates.ca, FIXED)
    passes = FIXED_PASSES[server]
    assert {check: outcomes(checks)[check] for check in passes} == dict.fromkeys(passes, "passed")
