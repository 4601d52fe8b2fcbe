"""Async test bodies: the upgraded clients as httpx.AsyncClient and websockets' asyncio client.

Each suite is written as a user would write it for one runner (pytest-asyncio
in strict or auto mode, anyio's plugin the way FastAPI's docs use it), run
with pytester against the demo app under the bundled server, and checked end
to end: every protocol spoken by the async client, the clients closed when
the test body ends, and the wrong client for the context refused in one line.
"""

from __future__ import annotations

import pathlib

import pytest

DEMO_APP = pathlib.Path(__file__).parents[2] / "examples" / "demo" / "app.py"

CONFTEST = """
import pytest

from app import app


@pytest.fixture(scope="session")
def upgrade_app():
    return app
"""

ANYIO_BACKEND = """

@pytest.fixture
def anyio_backend():
    return "asyncio"
"""

# {mark} decorates each async test: "@pytest.mark.asyncio", "@pytest.mark.anyio" or "".
ASYNC_SUITE = """
import asyncio

import httpx
import pytest
from websockets.protocol import State

OPENED = []


def tls_version(response):
    return response.extensions["network_stream"].get_extra_info("ssl_object").version()


async def get(upgrade, path):
    # GET path with the test's async client, recorded to check that it is closed.
    OPENED.append(upgrade.async_client)
    return await upgrade.async_client.get(path)


{mark}
@pytest.mark.requires_upgrade("h2", path="/v2/orders")
async def test_h2(upgrade):
    client = upgrade.async_client
    OPENED.append(client)
    assert isinstance(client, httpx.AsyncClient)
    assert client is upgrade.async_client  # one client per test
    response = await client.get("/v2/orders")
    assert response.http_version == "HTTP/2"
    assert str(response.url).startswith("https://")
    assert response.json()["orders"]


{mark}
@pytest.mark.requires_upgrade("h2c", path="/internal/stock")
async def test_h2c(upgrade):
    response = await get(upgrade, "/internal/stock")
    assert response.http_version == "HTTP/2"
    assert str(response.url).startswith("http://")


{mark}
@pytest.mark.requires_upgrade("TLS/1.2", path="/secure/payments")
async def test_tls(upgrade):
    response = await get(upgrade, "/secure/payments")
    assert response.status_code == 200
    assert tls_version(response) in ("TLSv1.2", "TLSv1.3")


{mark}
@pytest.mark.requires_upgrade("HTTP/1.1", path="/legacy/catalogue")
async def test_http11(upgrade):
    response = await get(upgrade, "/legacy/catalogue")
    assert response.http_version == "HTTP/1.1"


{mark}
@pytest.mark.requires_upgrade("websocket", path="/ws")
async def test_websocket(upgrade):
    first = await upgrade.async_websocket()
    second = await upgrade.async_websocket()  # each call: a new connection
    OPENED.extend([first, second])
    assert first is not second
    assert first.request.path == "/ws"
    assert first.transport.get_extra_info("sslcontext") is not None  # wss://
    await first.send("hello")
    await second.send("again")
    async with asyncio.timeout(5):
        assert await first.recv() == "echo: hello"
        assert await second.recv() == "echo: again"


def test_every_client_was_closed_when_its_test_ended():
    assert len(OPENED) == 6
    http_clients = [c for c in OPENED if isinstance(c, httpx.AsyncClient)]
    assert len(http_clients) == 4
    assert all(c.is_closed for c in http_clients)
    assert all(c.state is State.CLOSED for c in OPENED if c not in http_clients)
"""

SUITE_TESTS = 6  # the five protocols and the check that every client was closed


# Without pytest-asyncio its loop-scope option would be an unknown option.
NO_PYTEST_ASYNCIO_INI = """
[pytest]
addopts = -p no:hypothesispytest -p no:asyncio
"""


def write_suite(pytester: pytest.Pytester, mark: str, conftest_extra: str = "") -> None:
    if mark == "@pytest.mark.anyio":
        pytester.makeini(NO_PYTEST_ASYNCIO_INI)
    pytester.makepyfile(app=DEMO_APP.read_text())
    pytester.makeconftest(CONFTEST + conftest_extra)
    pytester.makepyfile(test_async=ASYNC_SUITE.format(mark=mark))


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # -W error: no unclosed socket, transport or coroutine is left behind.
    return pytester.runpytest("-p", "no:cacheprovider", "--upgrade-timeout=5", "-W", "error", *args)


def run_anyio(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # In a process of its own: with pytest-asyncio 0.24 loaded in this one, the
    # event loop anyio's runner leaves set (closed) would be replaced here by a
    # fresh one that nobody closes.
    return pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--upgrade-timeout=5", "-W", "error", *args
    )


def test_pytest_asyncio_strict_mode(pytester: pytest.Pytester) -> None:
    write_suite(pytester, "@pytest.mark.asyncio")
    result = run(pytester, "--asyncio-mode=strict", "-rA")
    result.assert_outcomes(passed=SUITE_TESTS)
    result.stdout.fnmatch_lines(["*upgrade compliance*", "PASSED  h2 GET /v2/orders  *"])


def test_pytest_asyncio_auto_mode(pytester: pytest.Pytester) -> None:
    write_suite(pytester, "")
    result = run(pytester, "--asyncio-mode=auto")
    result.assert_outcomes(passed=SUITE_TESTS)


def test_anyio_plugin_as_fastapi_docs_use_it(pytester: pytest.Pytester) -> None:
    write_suite(pytester, "@pytest.mark.anyio", ANYIO_BACKEND)
    # Without pytest-asyncio at all: anyio comes with httpx.
    result = run_anyio(pytester)
    result.assert_outcomes(passed=SUITE_TESTS)


def test_under_xdist(pytester: pytest.Pytester) -> None:
    write_suite(pytester, "@pytest.mark.asyncio")
    # The closing check reads what the other tests opened: keep the file on one worker.
    result = run(pytester, "-n", "2", "--dist=loadfile")
    result.assert_outcomes(passed=SUITE_TESTS)


WRONG_CONTEXT = """
import pytest


@pytest.mark.requires_upgrade("h2", path="/v2/orders")
async def test_blocking_client_in_async_test(upgrade):
    upgrade.client


@pytest.mark.requires_upgrade("websocket", path="/ws")
async def test_blocking_websocket_in_async_test(upgrade):
    upgrade.websocket


@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_async_client_in_sync_test(upgrade):
    upgrade.async_client


@pytest.mark.requires_upgrade("websocket", path="/ws")
def test_async_websocket_in_sync_test(upgrade):
    import asyncio

    loop = asyncio.new_event_loop()  # a loop of the test's own, not the runner's
    try:
        loop.run_until_complete(upgrade.async_websocket())
    finally:
        loop.close()


@pytest.fixture
async def orders(upgrade):
    return upgrade.async_client


@pytest.mark.requires_upgrade("h2", path="/v2/orders")
async def test_async_client_from_an_async_fixture(orders):
    pass


@pytest.mark.requires_upgrade("h2", path="/v2/orders")
async def test_async_websocket_for_an_h2_requirement(upgrade):
    await upgrade.async_websocket()


@pytest.mark.requires_upgrade("websocket", path="/ws")
async def test_async_client_for_a_websocket_requirement(upgrade):
    upgrade.async_client
"""


def test_the_wrong_client_for_the_context_is_a_clear_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # whole messages in the short summary
    pytester.makepyfile(app=DEMO_APP.read_text())
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_wrong=WRONG_CONTEXT)
    result = run(pytester, "--asyncio-mode=auto", "-rfE")
    result.assert_outcomes(failed=6, errors=1)
    result.stdout.fnmatch_lines_random(
        [
            "FAILED *test_blocking_client_in_async_test - RuntimeError: upgrade.client is a"
            " blocking client: in an async test it would block the event loop;"
            " use upgrade.async_client (an httpx.AsyncClient)",
            "FAILED *test_blocking_websocket_in_async_test - RuntimeError: upgrade.websocket is"
            " a blocking client: * use await upgrade.async_websocket()",
            "FAILED *test_async_client_in_sync_test - RuntimeError: upgrade.async_client is for"
            " async tests (async def, run by pytest-asyncio or anyio); this code is not running"
            " in an event loop: a sync test uses upgrade.client",
            "FAILED *test_async_websocket_in_sync_test - RuntimeError: upgrade.async_websocket()"
            " lives in the event loop of an async test's body *",
            "ERROR *test_async_client_from_an_async_fixture - RuntimeError: upgrade.async_client"
            " lives in the event loop of an async test's body and is closed when the body ends:"
            " use it in the body of an async test, not in a fixture*",
            "FAILED *test_async_websocket_for_an_h2_requirement - ValueError:"
            " upgrade.async_websocket() is for a websocket requirement",
            "FAILED *test_async_client_for_a_websocket_requirement - ValueError: a websocket"
            " requirement has no HTTP client: *",
        ]
    )


POLICY_SUITE = """
import httpx
import pytest


@pytest.mark.anyio
async def test_async_client_against_the_policy_server(upgrade_policy_server):
    policy = upgrade_policy_server("h2", routes={"/orders": (200, {"orders": []})})
    async with httpx.AsyncClient(verify=policy.ssl_context(), trust_env=False) as client:
        refused = await client.get(policy.https_url + "/orders")
    async with httpx.AsyncClient(
        verify=policy.ssl_context(), trust_env=False, http1=False, http2=True
    ) as client:
        served = await client.get(policy.https_url + "/orders")
    assert (refused.status_code, served.status_code) == (426, 200)
    assert served.json() == {"orders": []}
    policy.assert_retried_after_426("/orders")
    policy.assert_only_upgraded_after_426()


@pytest.mark.anyio
async def test_bundled_server_helpers(upgrade_server):
    async with httpx.AsyncClient(
        verify=upgrade_server.ssl_context(), trust_env=False, http2=True
    ) as client:
        response = await client.get(upgrade_server.https_url + "/v2/orders")
    assert response.http_version == "HTTP/2"
"""


def test_policy_server_and_bundled_server_from_async_tests(pytester: pytest.Pytester) -> None:
    pytester.makeini(NO_PYTEST_ASYNCIO_INI)
    pytester.makepyfile(app=DEMO_APP.read_text())
    pytester.makeconftest(CONFTEST + ANYIO_BACKEND)
    pytester.makepyfile(test_policy=POLICY_SUITE)
    result = run_anyio(pytester)
    result.assert_outcomes(passed=2)


SYNC_SUITE = """
import pytest


@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_h2(upgrade):
    assert upgrade.client.get("/v2/orders").http_version == "HTTP/2"


@pytest.mark.requires_upgrade("websocket", path="/ws")
def test_websocket(upgrade):
    upgrade.websocket.send("hello")
    assert upgrade.websocket.recv(timeout=5) == "echo: hello"
"""


def test_a_sync_suite_needs_no_async_plugin_and_no_asyncio_setting(
    pytester: pytest.Pytester,
) -> None:
    # No asyncio_default_fixture_loop_scope line, and -W error: nothing to warn about.
    pytester.makeini(NO_PYTEST_ASYNCIO_INI)
    pytester.makepyfile(app=DEMO_APP.read_text())
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_sync=SYNC_SUITE)
    result = run(pytester, "-p", "no:anyio")
    result.assert_outcomes(passed=2)
