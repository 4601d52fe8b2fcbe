"""The plugin against native servers nobody here wrote: nginx, Apache httpd, Caddy, HAProxy.

Each server starts once for this module, from the operating system's
package (.ci/run installs them with apt where it can), with a configuration
written below, and is driven as a live target through ``--upgrade-target``
and ``--upgrade-ca``. Behind the reverse proxies runs the websockets
library's own server (cleartext), as a WebSocket backend commonly sits, and
behind nginx also hypercorn (the bundled server's engine) with the demo app.

For every case the answers were first taken by hand with curl and openssl
(quoted next to the case, trimmed to the lines that matter; Date fields
dropped) against exactly these configurations, on Debian 12 with nginx
1.22.1, Apache httpd 2.4.71, Caddy 2.6.2, HAProxy 2.6.12 and websockets 17.4;
then the plugin's verdict is asserted. A missing binary skips its cases with
the binary's name, never passes them.
"""

from __future__ import annotations

import os
import pathlib
import re
from collections.abc import Iterator
from typing import Any

import pytest

from support.doc_blocks import UPDATE, failure_report, read_block, write_block
from support.expected import H2_OVER_TLS, H2_UPGRADED, NO_426, TEXT_426, WEBSOCKET_UPGRADED
from support.matrix_servers import (
    PYTHON,
    Certificates,
    Running,
    apache_ssl,
    binary,
    caddy_site,
    free_ports,
    outcomes,
    requirement_test,
    run_plugin,
    serve_apache,
    start,
    start_caddy,
    start_nginx,
)

APP_SERVERS = str(pathlib.Path(__file__).parents[1] / "support" / "matrix_python_app_servers.py")

PROBLEM = (
    '{"type": "about:blank", "title": "Upgrade Required", "status": 426,'
    ' "detail": "This endpoint requires HTTP/2."}'
)

# -- servers, once per module --------------------------------------------------------


@pytest.fixture(scope="module")
def websocket_backend(
    tmp_path_factory: pytest.TempPathFactory, certificates: Certificates
) -> Iterator[int]:
    """The websockets library's server, echoing on every path; its cleartext port."""
    tls, plain = free_ports(2)
    argv = [PYTHON, APP_SERVERS, "websockets", certificates.cert, certificates.key]
    server = start(
        "the websockets backend",
        [*argv, str(tls), str(plain)],
        tmp_path_factory.mktemp("backend"),
        [tls, plain],
    )
    yield plain
    server.stop()


DEMO = pathlib.Path(__file__).parents[2] / "examples" / "demo"


@pytest.fixture(scope="module")
def demo_app_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """hypercorn, the bundled server's engine, serving the demo app on cleartext; its port.

    The demo's /ws answers a plain GET with 426 and accepts WebSocket handshakes.
    """
    (port,) = free_ports(1)
    argv = [PYTHON, "-m", "hypercorn", "app:app", "--bind", f"127.0.0.1:{port}"]
    workdir = tmp_path_factory.mktemp("demo-app")
    server = start(
        "hypercorn with the demo app", argv, workdir, [port], env={"PYTHONPATH": str(DEMO)}
    )
    yield port
    server.stop()


def _backend_as_taken() -> None:
    """Skip unless the backend is the websockets version the ground truth was taken with.

    websockets 17 answers an HTTP/1.0 request with 505; 16 closes the
    connection, and nginx then answers 502 itself (the plugin still finds the
    handshake stripped: answered exactly like the plain GET).
    """
    import websockets

    if int(websockets.__version__.split(".")[0]) < 17:
        pytest.skip(f"ground truth taken with websockets 17, not {websockets.__version__}")


def _serve(running: Running) -> Iterator[Running]:
    try:
        yield running
    finally:
        running.stop()


NGINX_SERVERS = """
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  server {{
    listen 127.0.0.1:{tls} ssl http2;
    listen 127.0.0.1:{plain};
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    location = /v2/orders {{
      if ($server_protocol != "HTTP/2.0") {{
        add_header Upgrade "HTTP/2.0" always;
        add_header Connection "Upgrade" always;
        return 426 '{problem}';
      }}
      return 200 '{{"ok": true}}';
    }}
    # The proxy configured as nginx's WebSocket guide says ...
    location /ws-good/ {{
      proxy_pass http://127.0.0.1:{backend};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
    }}
    # The demo app under hypercorn behind the same two configurations.
    location /app-good/ {{
      proxy_pass http://127.0.0.1:{app}/;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
    }}
    location /app-bad/ {{
      proxy_pass http://127.0.0.1:{app}/;
    }}
    # ... and the plain proxy_pass that HTTP/1.0-forwards without Upgrade.
    location /ws-bad/ {{
      proxy_pass http://127.0.0.1:{backend};
    }}
  }}
"""


@pytest.fixture(scope="module")
def nginx(
    tmp_path_factory: pytest.TempPathFactory,
    certificates: Certificates,
    websocket_backend: int,
    demo_app_backend: int,
) -> Iterator[Running]:
    tls, plain = free_ports(2)
    servers = NGINX_SERVERS.format(
        tls=tls,
        plain=plain,
        cert=certificates.cert,
        key=certificates.key,
        backend=websocket_backend,
        app=demo_app_backend,
        problem=PROBLEM,
    )
    yield from _serve(start_nginx(tmp_path_factory.mktemp("nginx"), servers, [tls, plain]))


APACHE_MODULES = (
    "mpm_event",
    "authz_core",
    "mime",
    "env",
    "ssl",
    "http2",
    "rewrite",
    "headers",
    "proxy",
    "proxy_http",
    "proxy_wstunnel",
)

APACHE_HOSTS = """
ErrorDocument 426 '{problem}'
<VirtualHost 127.0.0.1:{tls}>
  {ssl}
  # As the mod_http2 documentation shows it.
  Protocols h2 http/1.1
  RewriteEngine on
  RewriteCond %{{SERVER_PROTOCOL}} !^HTTP/2
  RewriteRule ^/v2/orders$ - [R=426,L]
  <Location "/v2/orders">
    Header always set Upgrade "HTTP/2.0" "expr=%{{REQUEST_STATUS}} == 426"
    Header always set Connection "Upgrade" "expr=%{{REQUEST_STATUS}} == 426"
  </Location>
  ProxyPass /ws-good/ http://127.0.0.1:{backend}/ upgrade=websocket
  # WebSocket over HTTP/2 (RFC 8441, mod_http2 2.4.58+): SETTINGS enable extended CONNECT.
  H2WebSockets on
  ProxyPass /ws-bad/ http://127.0.0.1:{backend}/
  # An old workaround for backends with a broken HTTP/1.1: it also drops the upgrade.
  <Location "/ws-bad/">
    SetEnv force-proxy-request-1.0 1
    SetEnv proxy-nokeepalive 1
  </Location>
</VirtualHost>
<VirtualHost 127.0.0.1:{fixed}>
  {ssl}
  # http/1.1 first: no Upgrade: h2 on HTTP/1.1 answers; the client's ALPN order decides.
  Protocols http/1.1 h2
  ProtocolsHonorOrder off
</VirtualHost>
<VirtualHost 127.0.0.1:{plain}>
  Protocols h2c http/1.1
  RewriteEngine on
  RewriteCond %{{SERVER_PROTOCOL}} !^HTTP/2
  RewriteRule ^/h2c/orders$ - [R=426,L]
  Header always set Upgrade "h2c" "expr=%{{REQUEST_STATUS}} == 426"
</VirtualHost>
"""


@pytest.fixture(scope="module")
def apache(
    tmp_path_factory: pytest.TempPathFactory, certificates: Certificates, websocket_backend: int
) -> Iterator[tuple[Running, list[int]]]:
    tls, fixed, plain = free_ports(3)
    hosts = APACHE_HOSTS.format(
        tls=tls,
        fixed=fixed,
        plain=plain,
        problem=PROBLEM,
        ssl=apache_ssl(certificates),
        backend=websocket_backend,
    )
    workdir = tmp_path_factory.mktemp("apache")
    documents = ("v1/orders", "v2/orders", "h2c/orders")  # two small JSON files each
    ports = [tls, fixed, plain]
    for running in serve_apache(workdir, hosts, ports, APACHE_MODULES, documents, needs="http2"):
        yield running, ports


CADDY_SITE = """\
	@legacy {{
		path /v2/orders
		not protocol http/2+
	}}
	handle @legacy {{
		header Upgrade "HTTP/2.0"
		header Connection "Upgrade"
		header Content-Type "application/problem+json"
		respond `{problem}` 426
	}}
	handle /v2/orders {{
		header Content-Type "application/json"
		respond `{{"ok": true}}` 200
	}}
	handle /ws/* {{
		reverse_proxy 127.0.0.1:{backend}
	}}
	handle /ws-bad/* {{
		reverse_proxy 127.0.0.1:{backend} {{
			header_up -Upgrade
			header_up -Connection
		}}
	}}
"""


@pytest.fixture(scope="module")
def caddy(
    tmp_path_factory: pytest.TempPathFactory, certificates: Certificates, websocket_backend: int
) -> Iterator[Running]:
    workdir = tmp_path_factory.mktemp("caddy")
    (tls,) = free_ports(1)
    directives = CADDY_SITE.format(problem=PROBLEM, backend=websocket_backend)
    conf = caddy_site(tls, certificates, directives)
    yield from _serve(start_caddy(workdir, conf, tls))


HAPROXY_CFG = """
global
    maxconn 100
defaults
    mode http
    timeout connect 5s
    timeout client 10s
    timeout server 10s
    timeout tunnel 30s
frontend fe
    bind 127.0.0.1:{tls} ssl crt {chain} alpn h2,http/1.1 ssl-min-ver TLSv1.2
    http-request return status 426 content-type application/problem+json string '{problem}' \
hdr Upgrade "HTTP/2.0" hdr Connection "Upgrade" if {{ path /v2/orders }} !{{ ssl_fc_alpn -i h2 }}
    http-request return status 200 content-type application/json string '{{"ok": true}}' \
if {{ path /v2/orders }}
    use_backend ws_bad if {{ path_beg /ws-bad/ }}
    default_backend ws
backend ws
    server s1 127.0.0.1:{backend}
backend ws_bad
    http-request del-header Upgrade
    http-request del-header Connection
    server s1 127.0.0.1:{backend}
"""


@pytest.fixture(scope="module")
def haproxy(
    tmp_path_factory: pytest.TempPathFactory, certificates: Certificates, websocket_backend: int
) -> Iterator[Running]:
    executable = binary("haproxy")
    workdir = tmp_path_factory.mktemp("haproxy")
    (tls,) = free_ports(1)
    conf = HAPROXY_CFG.format(
        tls=tls, chain=certificates.chain, problem=PROBLEM, backend=websocket_backend
    )
    (workdir / "haproxy.cfg").write_text(conf)
    argv = [executable, "-db", "-f", str(workdir / "haproxy.cfg")]
    yield from _serve(start("HAProxy", argv, workdir, [tls]))


def https(running: Running, index: int = 0) -> str:
    return f"https://127.0.0.1:{running.ports[index]}"


def http(running: Running, index: int) -> str:
    return f"http://127.0.0.1:{running.ports[index]}"


def _websocket_via_nginx(
    pytester: pytest.Pytester, nginx: Running, certificates: Certificates, path: str
) -> tuple[pytest.RunResult, dict[str, dict[str, Any]]]:
    """A websocket requirement at ``path`` through nginx's https and http listeners,
    asserted to fail (every such case here does); the result and the checks."""
    targets = [https(nginx), http(nginx, 1)]
    suite = requirement_test("websocket", path)
    result, checks = run_plugin(pytester, targets, certificates.ca, suite)
    result.assert_outcomes(failed=1)
    return result, checks


def _websocket_via(
    pytester: pytest.Pytester, server: Running, certificates: Certificates, path: str
) -> tuple[pytest.RunResult, dict[str, dict[str, Any]]]:
    """A websocket requirement at ``path`` through the proxy's https listener."""
    suite = requirement_test("websocket", path)
    return run_plugin(pytester, [https(server)], certificates.ca, suite)


# -- nginx 1.22 ----------------------------------------------------------------------


def test_nginx_h2_over_tls(
    pytester: pytest.Pytester, nginx: Running, certificates: Certificates
) -> None:
    # $ curl -si --http1.1 --cacert ca.pem https://127.0.0.1:PORT/v2/orders
    #   HTTP/1.1 426                       <- nginx knows no reason phrase for 426
    #   Server: nginx/1.22.1
    #   Content-Type: text/plain           <- return's default_type
    #   Connection: keep-alive             <- nginx's own ...
    #   Upgrade: HTTP/2.0
    #   Connection: Upgrade                <- ... and add_header's: two fields
    #   {"type": "about:blank", "title": "Upgrade Required", "status": 426, ...}
    # $ curl -si --http2 ... -> HTTP/2 200, server, date, content-type, content-length
    # $ openssl s_client -tls1 / -tls1_1 -cipher DEFAULT:@SECLEVEL=0
    #   -> "tlsv1 alert protocol version" (alert 70) for both
    result, checks = run_plugin(
        pytester, [https(nginx)], certificates.ca, requirement_test("h2", "/v2/orders")
    )
    result.assert_outcomes(passed=1, warnings=1)
    assert outcomes(checks) == {**TEXT_426, **H2_OVER_TLS}
    # The two Connection fields combine to "keep-alive, Upgrade" (RFC 9110 §5.3).
    assert checks["connection-upgrade"]["actual"] == "Connection: keep-alive, Upgrade"


def test_nginx_websocket_proxy_configured_well(
    pytester: pytest.Pytester, nginx: Running, certificates: Certificates
) -> None:
    # location /ws-good/ with proxy_http_version 1.1 and Upgrade/Connection forwarded:
    # plain GET   -> HTTP/1.1 426 Upgrade Required, Server: nginx/1.22.1,
    #                Connection: keep-alive (nginx replaced the backend's), Upgrade: websocket,
    #                text/plain "Failed to open a WebSocket connection: invalid Connection
    #                header: close." (the map sends Connection: close without Upgrade)
    # handshake   -> HTTP/1.1 101 Switching Protocols, Connection: upgrade, Upgrade: websocket,
    #                Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=  (wss and ws)
    # version 99  -> HTTP/1.1 400 Bad Request, no Sec-WebSocket-Version,
    #                "invalid Sec-WebSocket-Version header: 99."
    _, checks = _websocket_via_nginx(pytester, nginx, certificates, "/ws-good/")
    assert outcomes(checks) == {
        **TEXT_426,
        "connection-upgrade": "failed",  # what clients get: keep-alive, no upgrade option
        **WEBSOCKET_UPGRADED,
        "upgrade-unswitchable": "passed",
        "websocket-version": "failed",  # the websockets library's 400 lists no version
        "websocket-over-h2": "skipped",  # nginx 1.22 does not enable extended CONNECT
    }
    assert "do not enable the extended CONNECT" in checks["websocket-over-h2"]["message"]
    assert "101 Switching Protocols" in checks["upgrade-stripped"]["message"]
    # A live target: the diagnosis names the proxy's part, and the setting.
    assert "add_header Connection" in checks["connection-upgrade"]["diagnosis"]
    assert "Server: nginx/" in checks["connection-upgrade"]["diagnosis"]


def test_nginx_plain_proxy_pass_strips_the_upgrade(
    pytester: pytest.Pytester, nginx: Running, certificates: Certificates
) -> None:
    # location /ws-bad/ { proxy_pass http://backend; } speaks HTTP/1.0 to the backend
    # and drops Upgrade/Connection, so plain GET, handshake and version 99 all get:
    #   HTTP/1.1 505 HTTP Version Not Supported
    #   Server: nginx/1.22.1
    #   Failed to open a WebSocket connection: unsupported HTTP version: HTTP/1.0.
    # This is the false pass of issue 12: upgrade-stripped used to pass here.
    result, checks = _websocket_via_nginx(pytester, nginx, certificates, "/ws-bad/")
    assert checks["upgrade-stripped"]["outcome"] == "failed"  # with any backend version
    _backend_as_taken()
    assert outcomes(checks) == {
        **NO_426,
        "upgrade-stripped": "failed",
        "upgrade-unswitchable": "passed",
        "upgraded-succeeds": "failed",
        "upgraded-protocol": "skipped",
        "websocket-accept": "skipped",
        "websocket-version": "skipped",  # its handshake never reached the server either
        "websocket-over-h2": "skipped",  # nginx 1.22 does not enable extended CONNECT
        "websocket-subprotocol": "skipped",  # no handshake was accepted
    }
    stripped = checks["upgrade-stripped"]
    assert "505" in stripped["message"]
    assert "Server: nginx/1.22.1" in stripped["diagnosis"]
    assert "proxy_http_version 1.1" in stripped["diagnosis"]
    assert "traceback" not in checks["upgraded-succeeds"]["diagnosis"]
    assert "upgrade-stripped" in checks["upgraded-succeeds"]["diagnosis"]
    result.stdout.fnmatch_lines(
        ["*✘ upgrade-stripped [[]must*did not reach the server as sent: it was answered 505*"]
    )
    # The WebSocket how-to and the failure-report reference show this report.
    report = _placeholders(failure_report(result.outlines), nginx, certificates)
    for page in STRIPPING_PAGES:
        if UPDATE:
            write_block(page, "proxy-stripping-report", report)
        assert read_block(page, "proxy-stripping-report") == report, (
            f"{page} no longer shows this report; if the change is intended, run"
            " PYTEST_UPGRADE_UPDATE_DOCS=1 python -m pytest"
            " tests/integration/test_server_matrix_native.py"
        )


DOCS = pathlib.Path(__file__).parents[2] / "docs"
STRIPPING_PAGES = (DOCS / "how-to" / "websocket.md", DOCS / "reference" / "failure-report.md")


def _placeholders(lines: list[str], server: Running, certificates: Certificates) -> list[str]:
    """The per-run parts of a report replaced: ports 8443/8080, the CA path, the keys."""
    text = "\n".join(lines)
    text = re.sub(rf"127\.0\.0\.1:{server.ports[0]}\b", "127.0.0.1:8443", text)
    text = re.sub(rf"127\.0\.0\.1:{server.ports[1]}\b", "127.0.0.1:8080", text)
    text = text.replace(certificates.ca, "/tmp/…/ca.pem")
    text = re.sub(r"Sec-WebSocket-Key: [A-Za-z0-9+/=]+", "Sec-WebSocket-Key: …", text)
    # The pages show the version the matrix was written against.
    text = re.sub(r"Server: nginx/\d+(?:\.\d+)*", "Server: nginx/1.22.1", text)
    return text.splitlines()


def test_the_demo_app_behind_nginx(
    pytester: pytest.Pytester, nginx: Running, certificates: Certificates
) -> None:
    # hypercorn + examples/demo behind location /app-good/ (WebSocket proxying):
    #   plain GET -> HTTP/1.1 426 (no reason phrase), Server: nginx/1.22.1,
    #                Connection: keep-alive, upgrade: websocket, application/problem+json
    #   handshake -> HTTP/1.1 101, Connection: upgrade, upgrade: WebSocket,
    #                sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
    #   version 99 -> hypercorn's own 400, no Sec-WebSocket-Version
    # behind location /app-bad/ (plain proxy_pass): the handshake gets the plain GET's
    #   426, upgrade: websocket, and the same problem document: the app never saw it.
    _, checks = _websocket_via_nginx(pytester, nginx, certificates, "/app-good/ws")
    assert {c: o for c, o in outcomes(checks).items() if o != "passed"} == {
        "connection-upgrade": "failed",  # nginx's keep-alive replaced the app's option
        # Behind a proxy hypercorn's own refusal is the deployment's answer: judged, not
        # skipped as it is when the bundled server answers (README: "What the bundled
        # server answers by itself").
        "websocket-version": "failed",
        # hypercorn behind nginx 1.22: nginx's HTTP/2 does not enable extended CONNECT.
        "websocket-over-h2": "skipped",
    }

    _, checks = _websocket_via_nginx(pytester, nginx, certificates, "/app-bad/ws")
    assert checks["upgrade-stripped"]["outcome"] == "failed"
    assert "asking for the very upgrade" in checks["upgrade-stripped"]["message"]
    assert checks["upgraded-succeeds"]["outcome"] == "failed"
    assert "upgrade-stripped" in checks["upgraded-succeeds"]["diagnosis"]
    assert checks["websocket-version"]["outcome"] == "skipped"


# -- Apache httpd 2.4 with mod_http2 ---------------------------------------------------------


def test_apache_h2_over_tls(
    pytester: pytest.Pytester, apache: tuple[Running, list[int]], certificates: Certificates
) -> None:
    # $ curl -si --http1.1 https://127.0.0.1:TLS/v2/orders
    #   HTTP/1.1 426 Upgrade Required
    #   Server: Apache/2.4.71 (Debian) OpenSSL/3.0.19
    #   Upgrade: HTTP/2.0
    #   Connection: Upgrade
    #   Content-Type: text/html; charset=iso-8859-1   <- ErrorDocument's type
    #   {"type": "about:blank", "title": "Upgrade Required", "status": 426, ...}
    # $ curl -si --http2 ... -> HTTP/2 200 (the document, no connection-specific fields)
    # $ openssl s_client -tls1 ... -> tlsv1 alert protocol version
    server, _ = apache
    result, checks = run_plugin(
        pytester, [https(server)], certificates.ca, requirement_test("h2", "/v2/orders")
    )
    result.assert_outcomes(passed=1, warnings=1)
    # mod_http2 adds no Upgrade: h2 to a 426 (it did to the 200 below): the
    # upgrade-unswitchable of H2_OVER_TLS is skipped.
    assert outcomes(checks) == {**TEXT_426, **H2_OVER_TLS}


def test_apache_advertises_h2_in_upgrade_on_http11_answers(
    pytester: pytest.Pytester, apache: tuple[Running, list[int]], certificates: Certificates
) -> None:
    # With "Protocols h2 http/1.1", during a deprecation period (HTTP/1.1 still served):
    # $ curl -si --http1.1 https://127.0.0.1:TLS/v1/orders
    #   HTTP/1.1 200 OK
    #   Upgrade: h2
    #   Connection: Upgrade
    # "H2Upgrade off" leaves both fields in place (tried by hand); with
    # "Protocols http/1.1 h2" + "ProtocolsHonorOrder off" they are gone and
    # curl --http2 still gets HTTP/2 200 (the FIXED virtual host below).
    server, ports = apache
    suite = requirement_test("h2", "/v1/orders", after="2099-01-01")
    _, checks = run_plugin(pytester, [https(server)], certificates.ca, suite)
    unswitchable = checks["upgrade-unswitchable"]
    assert unswitchable["outcome"] == "warned"
    assert "Upgrade: h2" in unswitchable["actual"]
    assert "ProtocolsHonorOrder off" in unswitchable["diagnosis"]
    assert checks["legacy-still-served"]["outcome"] == "passed"

    fixed = f"https://127.0.0.1:{ports[1]}"
    _, checks = run_plugin(pytester, [fixed], certificates.ca, suite)
    assert checks["upgrade-unswitchable"]["outcome"] == "passed"
    assert checks["upgraded-protocol"]["outcome"] == "passed"  # h2 still by ALPN


def test_apache_h2c(
    pytester: pytest.Pytester, apache: tuple[Running, list[int]], certificates: Certificates
) -> None:
    # $ curl -si --http1.1 http://127.0.0.1:PLAIN/h2c/orders
    #   HTTP/1.1 426 Upgrade Required, Upgrade: h2c, no Connection field, text/html
    # $ curl -si --http2-prior-knowledge ... -> HTTP/2 200
    # $ curl -si --http2 ... (Upgrade: h2c) -> HTTP/1.1 426 (the rewrite answers first)
    _, ports = apache
    result, checks = run_plugin(
        pytester,
        [f"http://127.0.0.1:{ports[2]}"],
        certificates.ca,
        requirement_test("h2c", "/h2c/orders"),
    )
    result.assert_outcomes(failed=1, warnings=1)
    assert outcomes(checks) == {
        **TEXT_426,
        # Header set Upgrade alone: httpd adds no Connection: Upgrade to it.
        "connection-upgrade": "failed",
        **H2_UPGRADED,
        "h2c-upgrade-handshake": "noted",  # info: "not accepted (426)"
    }
    assert "not accepted (426)" in checks["h2c-upgrade-handshake"]["message"]


def test_apache_websocket_proxy(
    pytester: pytest.Pytester, apache: tuple[Running, list[int]], certificates: Certificates
) -> None:
    # ProxyPass ... upgrade=websocket (2.4.71 forwards the upgrade even without it):
    #   plain GET -> 426, Server: Python/3.11 websockets/17.4 (httpd passes the backend's),
    #                Connection: Upgrade (added by httpd), Upgrade: websocket
    #   handshake -> 101 Switching Protocols, Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
    # /ws-bad/ with SetEnv force-proxy-request-1.0: plain GET and handshake both ->
    #   505 HTTP Version Not Supported, Server: Python/3.11 websockets/17.4,
    #   "unsupported HTTP version: HTTP/1.0." (no Via: ProxyVia is off)
    server, _ = apache
    result, checks = _websocket_via(pytester, server, certificates, "/ws-good/")
    assert checks["upgrade-stripped"]["outcome"] == "passed"
    assert checks["connection-upgrade"]["outcome"] == "passed"
    assert checks["upgraded-succeeds"]["outcome"] == "passed"
    # H2WebSockets on: the SETTINGS enable extended CONNECT, mod_http2 turns the CONNECT
    # into the proxied HTTP/1.1 handshake and its 101 into a 200 (RFC 8441 §5).
    h2 = checks["websocket-over-h2"]
    assert h2["outcome"] == "passed", h2
    assert h2["actual"] == "HTTP/2 200, Pong received"

    result, checks = _websocket_via(pytester, server, certificates, "/ws-bad/")
    result.assert_outcomes(failed=1)
    stripped = checks["upgrade-stripped"]
    assert stripped["outcome"] == "failed"  # with any backend version
    _backend_as_taken()
    assert "Server: Python/3.11 websockets/" in stripped["diagnosis"]
    assert "force-proxy-request-1.0" in stripped["diagnosis"]
    # Over HTTP/2 the handshake reaches the backend as HTTP/1.0 too: 505.
    h2 = checks["websocket-over-h2"]
    assert h2["outcome"] == "warned"
    assert h2["message"].endswith("answered the WebSocket CONNECT with 505")
    assert "the HTTP/1.1 handshake fails too" in h2["diagnosis"]


# -- Caddy 2.6 (and HAProxy 2.6 for h2 over TLS) ---------------------------------------


@pytest.mark.parametrize("proxy", ["caddy", "haproxy"])
def test_h2_over_tls_at_caddy_and_haproxy(
    pytester: pytest.Pytester,
    request: pytest.FixtureRequest,
    certificates: Certificates,
    proxy: str,
) -> None:
    # Caddy:
    # $ curl -si --http1.1 https://127.0.0.1:PORT/v2/orders
    #   HTTP/1.1 426 Upgrade Required
    #   Connection: Upgrade
    #   Content-Type: application/problem+json
    #   Server: Caddy
    #   Upgrade: HTTP/2.0
    # $ curl --http2 ... -> HTTP/2 200 {"ok": true}
    # $ openssl s_client -tls1_1 ... -> tlsv1 alert protocol version
    # HAProxy (TLS termination and ALPN):
    # $ openssl s_client -alpn h2 -> "ALPN protocol: h2"; -alpn http/1.1 -> "http/1.1"
    # $ curl -si --http1.1 https://127.0.0.1:PORT/v2/orders
    #   HTTP/1.1 426 Upgrade Required
    #   upgrade: HTTP/2.0
    #   connection: Upgrade
    #   content-type: application/problem+json
    # $ curl --http2 ... -> HTTP/2 200, content-length and content-type only
    # $ openssl s_client -tls1_1 ... -> tlsv1 alert protocol version
    server: Running = request.getfixturevalue(proxy)
    result, checks = run_plugin(
        pytester, [https(server)], certificates.ca, requirement_test("h2", "/v2/orders")
    )
    result.assert_outcomes(passed=1)
    assert {c for c, outcome in outcomes(checks).items() if outcome != "passed"} == {
        "upgrade-unswitchable"  # skipped: only a 426 and an HTTP/2 answer
    }


def test_caddy_websocket_proxy(
    pytester: pytest.Pytester, caddy: Running, certificates: Certificates
) -> None:
    # reverse_proxy (WebSocket by itself):
    #   plain GET -> 426, Server: Caddy + Server: Python/3.11 websockets/17.4, and NO
    #                Upgrade field: Caddy removes it from the forwarded 426 (RFC 9110
    #                §7.6.1 lists Upgrade among the fields a proxy removes)
    #   handshake -> 101, Connection: Upgrade, Upgrade: websocket, Sec-Websocket-Accept
    # reverse_proxy with header_up -Upgrade -Connection (/ws-bad/):
    #   handshake -> the same 426 and body as the plain GET
    result, checks = _websocket_via(pytester, caddy, certificates, "/ws/")
    assert checks["upgrade-present"]["outcome"] == "failed"
    assert "Caddy's reverse_proxy does" in checks["upgrade-present"]["diagnosis"]
    assert checks["upgrade-stripped"]["outcome"] == "passed"
    assert checks["upgraded-succeeds"]["outcome"] == "passed"
    # Caddy 2.6 (Go's HTTP/2) does not enable extended CONNECT: skipped, not passed.
    assert checks["websocket-over-h2"]["outcome"] == "skipped"
    assert "do not enable the extended CONNECT" in checks["websocket-over-h2"]["message"]

    result, checks = _websocket_via(pytester, caddy, certificates, "/ws-bad/")
    result.assert_outcomes(failed=1)
    stripped = checks["upgrade-stripped"]
    assert stripped["outcome"] == "failed"
    assert "exactly like the plain GET" in stripped["message"]
    assert "Server: Caddy, Python/3.11 websockets/" in stripped["diagnosis"]
    assert checks["websocket-version"]["outcome"] == "skipped"


# -- HAProxy 2.6 --------------------------------------------------------------------------


def test_haproxy_websocket_proxy(
    pytester: pytest.Pytester, haproxy: Running, certificates: Certificates
) -> None:
    # default backend (mode http forwards the upgrade):
    #   plain GET -> 426, upgrade: websocket, no connection field (HAProxy removed the
    #                backend's "Connection: close"), server: Python/3.11 websockets/17.4
    #   handshake -> 101, upgrade: websocket, connection: Upgrade, sec-websocket-accept
    # backend with http-request del-header Upgrade / Connection (/ws-bad/):
    #   handshake -> the plain GET's 426, upgrade: websocket
    result, checks = _websocket_via(pytester, haproxy, certificates, "/ws/")
    assert checks["upgrade-stripped"]["outcome"] == "passed"
    assert checks["connection-upgrade"]["outcome"] == "failed"
    # HAProxy 2.6 enables extended CONNECT by itself and hands the backend an HTTP/1.1
    # handshake: WebSocket over HTTP/2 works end to end.
    assert checks["websocket-over-h2"]["outcome"] == "passed"
    assert checks["websocket-over-h2"]["actual"] == "HTTP/2 200, Pong received"

    result, checks = _websocket_via(pytester, haproxy, certificates, "/ws-bad/")
    # ... and over HTTP/2 the stripped handshake gets the backend's 426 too.
    h2 = checks["websocket-over-h2"]
    assert h2["outcome"] == "warned"
    assert h2["message"].endswith("answered the WebSocket CONNECT with 426")
    result.assert_outcomes(failed=1)
    stripped = checks["upgrade-stripped"]
    assert stripped["outcome"] == "failed"
    assert "asking for the very upgrade" in stripped["message"]
    assert "HAProxy" in stripped["diagnosis"]


def test_the_certificate_key_stays_private(certificates: Certificates) -> None:
    assert os.stat(certificates.key).st_mode & 0o077 == 0
