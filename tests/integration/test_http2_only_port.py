"""A cleartext port that speaks only HTTP/2 (prior knowledge) is named as such.

nginx 1.22 with ``listen 127.0.0.1:PORT http2;`` and no ``ssl`` speaks HTTP/2
with prior knowledge only (RFC 9113 §3.3). Taken by hand first:

    $ curl -sv --http1.1 http://127.0.0.1:PORT/  -> "Received HTTP/0.9 when not allowed"
    $ curl -s --http2-prior-knowledge http://127.0.0.1:PORT/  -> ok
    (the raw answer to "GET / HTTP/1.1": a SETTINGS frame, a WINDOW_UPDATE, a GOAWAY
    with PROTOCOL_ERROR: 000012 04 00 00000000 ...)

so an HTTP/1.x probe says "this port speaks HTTP/2 only", not "illegal request line".
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.matrix_servers import Running, binary, free_ports, requirement_test, start

CONF = """daemon off; worker_processes 1; pid {w}/nginx.pid; error_log {w}/error.log;
events {{}}
http {{
    access_log off;
    client_body_temp_path {w}; proxy_temp_path {w}; fastcgi_temp_path {w};
    uwsgi_temp_path {w}; scgi_temp_path {w};
    server {{ listen 127.0.0.1:{port} http2; location / {{ return 200 "ok"; }} }}
}}
"""


@pytest.fixture(scope="module")
def nginx_h2c_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    executable = binary("nginx")
    workdir = tmp_path_factory.mktemp("nginx-h2")
    (port,) = free_ports(1)
    (workdir / "nginx.conf").write_text(CONF.format(w=workdir, port=port))
    argv = [executable, "-p", str(workdir), "-c", str(workdir / "nginx.conf")]
    running = start("nginx", [*argv, "-e", str(workdir / "error.log")], workdir, [port])
    yield running
    running.stop()


def test_an_http2_only_cleartext_port_is_named(
    pytester: pytest.Pytester, nginx_h2c_only: Running
) -> None:
    pytester.makepyfile(test_suite=requirement_test("HTTP/1.1", "/"))
    url = f"http://127.0.0.1:{nginx_h2c_only.ports[0]}"
    result = pytester.runpytest("-p", "no:cacheprovider", f"--upgrade-target={url}")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*this port speaks HTTP/2 only: it answered the HTTP/1.x*"])
    assert "illegal request line" not in result.stdout.str()
