"""TLS requirements against nginx answering cleartext with redirects (RFC 9110 §15.4, RFC 6797).

nginx 1.22 (Debian 12), configured as operators do: `return 30x
https://$host:PORT$request_uri;` on the cleartext server, and
`add_header Strict-Transport-Security ... always;` on the TLS one. Taken by
hand with curl before the test was written, for /r302/orders:

    $ curl -si http://127.0.0.1:PLAIN/r302/orders
    HTTP/1.1 302 Moved Temporarily
    Server: nginx/1.22.1
    Location: https://127.0.0.1:TLS/r302/orders

and on the https side, `strict-transport-security: max-age=31536000` on
every answer except under /hsts-none/ (none) and /hsts-short/ (one day).
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

from support.matrix_servers import Certificates, Running, free_ports, start_nginx

SERVERS = """
  server {{
    listen 127.0.0.1:{plain};
    location /r301/ {{ return 301 https://$host:{tls}$request_uri; }}
    location /r302/ {{ return 302 https://$host:{tls}$request_uri; }}
    location /r307/ {{ return 307 https://$host:{tls}$request_uri; }}
    location /r308/ {{ return 308 https://$host:{tls}$request_uri; }}
    # the path is dropped: every deep link lands on the home page
    location /root/ {{ return 301 https://$host:{tls}/; }}
    location / {{ return 308 https://$host:{tls}$request_uri; }}
  }}
  server {{
    listen 127.0.0.1:{tls} ssl http2;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    location /hsts-none/ {{ return 200 '{{"ok": true}}'; }}
    location /hsts-short/ {{
      add_header Strict-Transport-Security "max-age=86400" always;
      return 200 '{{"ok": true}}';
    }}
    location / {{
      add_header Strict-Transport-Security "max-age=31536000" always;
      return 200 '{{"ok": true}}';
    }}
  }}
"""


@pytest.fixture(scope="module")
def nginx(
    tmp_path_factory: pytest.TempPathFactory, certificates: Certificates
) -> Iterator[Running]:
    tls, plain = free_ports(2)
    servers = SERVERS.format(tls=tls, plain=plain, cert=certificates.cert, key=certificates.key)
    workdir = tmp_path_factory.mktemp("nginx-redirects")
    running = start_nginx(workdir, servers, [tls, plain])
    try:
        yield running
    finally:
        running.stop()


CHECKS = ("status-426", "cleartext-refused", "redirect-permanent", "redirect-keeps-method", "hsts")


def verdicts(
    pytester: pytest.Pytester, nginx: Running, certificates: Certificates, *lines: str
) -> tuple[pytest.RunResult, dict[str, dict[str, str]]]:
    """Run the declared TLS/1.2 ``lines``; each line's outcome of each of CHECKS."""
    report = pytester.path / "report.json"
    tls, plain = nginx.ports
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--upgrade-timeout=5",
        f"--upgrade-target=https://127.0.0.1:{tls}",
        f"--upgrade-target=http://127.0.0.1:{plain}",
        f"--upgrade-ca={certificates.ca}",
        f"--upgrade-report={report}",
        *(f"--upgrade-require=TLS/1.2 {line}" for line in lines),
    )
    document: dict[str, Any] = json.loads(pathlib.Path(report).read_text())
    found: dict[str, dict[str, str]] = {}
    for entry in document["results"]:
        requirement = entry["requirement"]
        key = f"{requirement['path']} method={requirement['method']}"
        outcomes = {check["id"]: check["outcome"] for check in entry["checks"]}
        found[key] = {check_id: outcomes[check_id] for check_id in CHECKS}
    return result, found


P, F, W, S = "passed", "failed", "warned", "skipped"


def test_every_redirect_status_stands_in_and_its_kind_is_judged(
    pytester: pytest.Pytester, nginx: Running, certificates: Certificates
) -> None:
    paths = ("/r301/orders", "/r302/orders", "/r307/orders", "/r308/orders", "/root/orders")
    lines = [f"{path} method={method}" for path in paths for method in ("GET", "POST")]
    result, found = verdicts(pytester, nginx, certificates, *lines)
    #                                  status cleartext permanent keeps-method hsts
    assert found == {
        "/r301/orders method=GET": dict(zip(CHECKS, (P, P, P, S, P), strict=True)),
        "/r302/orders method=GET": dict(zip(CHECKS, (P, P, W, S, P), strict=True)),
        "/r307/orders method=GET": dict(zip(CHECKS, (P, P, W, S, P), strict=True)),
        "/r308/orders method=GET": dict(zip(CHECKS, (P, P, P, S, P), strict=True)),
        "/root/orders method=GET": dict(zip(CHECKS, (F, F, S, S, P), strict=True)),
        "/r301/orders method=POST": dict(zip(CHECKS, (P, P, P, W, P), strict=True)),
        "/r302/orders method=POST": dict(zip(CHECKS, (P, P, W, W, P), strict=True)),
        "/r307/orders method=POST": dict(zip(CHECKS, (P, P, W, P, P), strict=True)),
        "/r308/orders method=POST": dict(zip(CHECKS, (P, P, P, P, P), strict=True)),
        "/root/orders method=POST": dict(zip(CHECKS, (F, F, S, S, P), strict=True)),
    }
    result.stdout.fnmatch_lines(
        [
            "*✘ cleartext-refused*drops the requested resource (/root/orders becomes /)*",
            "*actual:*301 Moved Permanently, Location: https://127.0.0.1:*/",
        ]
    )


def test_hsts_present_absent_and_too_short(
    pytester: pytest.Pytester, nginx: Running, certificates: Certificates
) -> None:
    _, found = verdicts(
        pytester, nginx, certificates, "/hsts-none/orders", "/hsts-short/orders", "/orders"
    )
    assert {path: checks["hsts"] for path, checks in found.items()} == {
        "/hsts-none/orders method=GET": W,
        "/hsts-short/orders method=GET": W,
        "/orders method=GET": P,
    }
