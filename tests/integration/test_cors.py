"""CORS on the refusal, against Starlette's CORSMiddleware and nginx (Fetch standard §3.2).

A browser application on https://app.example calls an API that requires
HTTP/2. Ordered before (outside) the protocol check, the CORS middleware
decorates the 426 and answers preflights; ordered after it, the 426 carries no
``Access-Control-Allow-Origin`` and a preflight over HTTP/1.1 gets the 426.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from support.matrix_servers import Certificates, Running, free_ports, start_nginx

APP = "https://app.example"

STARLETTE_APP = """
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route

PROBLEM = {{"type": "about:blank", "title": "Upgrade Required", "status": 426,
           "detail": "This API requires HTTP/2."}}


class RequireHTTP2:
    # The protocol check: an ASGI middleware answering HTTP/1.x with a textbook 426.
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["http_version"] != "2":
            response = JSONResponse(
                PROBLEM, status_code=426, media_type="application/problem+json",
                headers={{"Upgrade": "HTTP/2.0", "Connection": "upgrade"}},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def orders(request):
    return JSONResponse({{"orders": []}})


CORS = Middleware(CORSMiddleware, allow_origins=[{origin!r}], allow_methods=["*"],
                  allow_headers=["*"])
# Starlette runs the first middleware of the list outermost.
ORDER = {order!r}
middleware = [CORS, Middleware(RequireHTTP2)] if ORDER == "cors-first" else [
    Middleware(RequireHTTP2), CORS]
app = Starlette(routes=[Route("/orders", orders, methods=["GET", "PUT"])], middleware=middleware)


@pytest.fixture(scope="session")
def upgrade_app():
    return app
"""

CHECKS = ("cors-on-refusal", "cors-preflight-not-refused")


def run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    report = pytester.path / "report.json"
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--upgrade-timeout=5", f"--upgrade-report={report}", *args
    )
    results = json.loads(report.read_text())["results"]
    found = {
        r["requirement"]["method"]: {c["id"]: c for c in r["checks"] if c["id"] in CHECKS}
        for r in results
    }
    return result, found


def outcomes(found: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {m: {i: c["outcome"] for i, c in checks.items()} for m, checks in found.items()}


LINES = (f"--upgrade-require=h2 /orders origin={APP}", "--upgrade-require=h2 /orders method=PUT")


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        pytest.param(
            "cors-first",
            {
                "GET": {"cors-on-refusal": "passed", "cors-preflight-not-refused": "skipped"},
                "PUT": {"cors-on-refusal": "passed", "cors-preflight-not-refused": "passed"},
            },
            id="cors-middleware-outside",
        ),
        pytest.param(
            "check-first",
            {
                "GET": {"cors-on-refusal": "warned", "cors-preflight-not-refused": "skipped"},
                "PUT": {"cors-on-refusal": "warned", "cors-preflight-not-refused": "warned"},
            },
            id="cors-middleware-inside",
        ),
    ],
)
def test_starlette_cors_middleware_ordered_both_ways(
    pytester: pytest.Pytester, order: str, expected: dict[str, dict[str, str]]
) -> None:
    pytester.makeconftest(STARLETTE_APP.format(origin=APP, order=order))
    result, found = run(pytester, *LINES, f"--upgrade-origin={APP}")
    assert outcomes(found) == expected
    # one PytestUpgradeWarning per warned check
    result.assert_outcomes(passed=2, warnings=0 if order == "cors-first" else 3)
    if order == "check-first":
        on_refusal = found["GET"]["cors-on-refusal"]
        assert "no Access-Control-Allow-Origin" in on_refusal["actual"]
        assert f"upgraded answer: Access-Control-Allow-Origin: {APP}" in on_refusal["actual"]
        assert "426, not an ok status" in found["PUT"]["cors-preflight-not-refused"]["message"]


def test_without_an_origin_nothing_is_sent_and_nothing_changes(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(STARLETTE_APP.format(origin=APP, order="check-first"))
    result, found = run(pytester, "--upgrade-require=h2 /orders method=PUT")
    result.assert_outcomes(passed=1)
    assert outcomes(found) == {"PUT": {}}
    (entry,) = json.loads((pytester.path / "report.json").read_text())["results"]
    assert "origin" not in entry["requirement"]
    assert [e["role"] for e in entry["exchanges"]] == ["legacy", "upgraded"]


def test_enforcement_copies_the_apps_cors_answer(pytester: pytest.Pytester) -> None:
    # The app serves HTTP/1.1; the enforcer's 426 carries what its CORS middleware allows.
    pytester.makeconftest(
        STARLETTE_APP.format(origin=APP, order="cors-first").replace(
            "middleware=middleware", "middleware=[CORS]"
        )
    )
    pytester.makepyfile(
        f"""
        import httpx

        def test_a_page_on_the_app_origin_reads_the_426(upgrade_server):
            with httpx.Client(verify=str(upgrade_server.ca.ca_pem), http2=False) as client:
                url = upgrade_server.https_url + "/orders"
                refused = client.get(url, headers={{"Origin": {APP!r}}})
                assert refused.status_code == 426
                assert refused.headers["access-control-allow-origin"] == {APP!r}
                other = client.get(url, headers={{"Origin": "https://evil.example"}})
                assert other.status_code == 426
                assert "access-control-allow-origin" not in other.headers
                preflight = client.options(url, headers={{
                    "Origin": {APP!r}, "Access-Control-Request-Method": "PUT"}})
                assert preflight.status_code == 200  # answered by the app, never refused
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--upgrade-enforce=h2")
    result.assert_outcomes(passed=1)


# -- nginx ---------------------------------------------------------------------------

SERVERS = """
  server {{
    listen 127.0.0.1:{tls} ssl http2;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    # add_header ... always: on every status; without always, only on 2xx and 3xx.
    location /always/ {{
      if ($server_protocol != "HTTP/2.0") {{
        add_header Upgrade "HTTP/2.0" always;
        add_header Connection "upgrade" always;
        add_header Access-Control-Allow-Origin "{origin}" always;
        return 426 '{{"type": "about:blank", "status": 426, "detail": "HTTP/2 required"}}';
      }}
      add_header Access-Control-Allow-Origin "{origin}" always;
      return 200 '{{"ok": true}}';
    }}
    location /not-always/ {{
      if ($server_protocol != "HTTP/2.0") {{
        add_header Upgrade "HTTP/2.0" always;
        add_header Connection "upgrade" always;
        add_header Access-Control-Allow-Origin "{origin}";
        return 426 '{{"type": "about:blank", "status": 426, "detail": "HTTP/2 required"}}';
      }}
      add_header Access-Control-Allow-Origin "{origin}";
      return 200 '{{"ok": true}}';
    }}
  }}
"""


@pytest.fixture(scope="module")
def nginx(
    tmp_path_factory: pytest.TempPathFactory, certificates: Certificates
) -> Iterator[Running]:
    (tls,) = free_ports(1)
    servers = SERVERS.format(tls=tls, cert=certificates.cert, key=certificates.key, origin=APP)
    running = start_nginx(tmp_path_factory.mktemp("nginx-cors"), servers, [tls])
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.parametrize(
    ("path", "outcome"), [("/always/orders", "passed"), ("/not-always/orders", "warned")]
)
def test_nginx_add_header_with_and_without_always(
    pytester: pytest.Pytester, nginx: Running, certificates: Certificates, path: str, outcome: str
) -> None:
    # curl -si --http1.1 -H 'Origin: https://app.example' https://127.0.0.1:PORT/not-always/orders
    #   HTTP/1.1 426
    #   Upgrade: HTTP/2.0                      <- no Access-Control-Allow-Origin without always
    _, found = run(
        pytester,
        f"--upgrade-target=https://127.0.0.1:{nginx.ports[0]}",
        f"--upgrade-ca={certificates.ca}",
        f"--upgrade-require=h2 {path} origin={APP}",
    )
    assert found["GET"]["cors-on-refusal"]["outcome"] == outcome
