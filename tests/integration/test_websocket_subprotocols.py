"""WebSocket subprotocols (RFC 6455 §4.1, §4.2.2 step 5.4), as users declare and use them.

A Starlette app under the bundled server, written as Starlette's docs show:
a GraphQL-over-WebSocket route that accepts with ``subprotocol=`` the one it
speaks, a route that refuses a handshake offering none, and a route that
accepts and closes at once. The plugin runs as users run it (pytester), with
``subprotocols=`` on the marker, ``Sec-WebSocket-Protocol`` in ``headers=``,
and on declared lines; and the test body uses ``upgrade.websocket.subprotocol``.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

from support.check_fields import expect
from support.raw_servers import raw_server, response, websocket_endpoint
from support.websocket_suites import deflate_echo

pytest.importorskip("starlette", reason="starlette is in the test extra (pip install -e .[test])")

STARLETTE_APP = """
import json

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocketDisconnect

PROBLEM = json.dumps({
    "type": "about:blank", "title": "Upgrade Required", "status": 426,
    "detail": "This endpoint is a WebSocket (subprotocol graphql-transport-ws).",
})


async def refuse_plain(request):
    # RFC 9110 §15.5.22: a plain GET to a WebSocket route gets 426 and Upgrade.
    return Response(PROBLEM, status_code=426, media_type="application/problem+json",
                    headers={"Upgrade": "websocket", "Connection": "Upgrade"})


async def graphql(websocket):
    offered = websocket.scope["subprotocols"]
    # Selects the one it speaks, when offered; none otherwise (RFC 6455 §4.2.2).
    chosen = "graphql-transport-ws" if "graphql-transport-ws" in offered else None
    await websocket.accept(subprotocol=chosen)
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass


async def needs_subprotocol(websocket):
    if "graphql-transport-ws" not in websocket.scope["subprotocols"]:
        await websocket.close()  # before accept: the handshake is refused (403)
        return
    await websocket.accept(subprotocol="graphql-transport-ws")
    await websocket.close()


async def wrong(websocket):
    await websocket.accept(subprotocol="mqtt")  # never offered: clients must fail it
    await websocket.close()


async def accept_then_close(websocket):
    await websocket.accept()
    await websocket.close(1000)


async def echo_until_disconnect(websocket):
    # As Starlette's docs write an echo: receive_text() raises WebSocketDisconnect
    # when the client goes away, and nothing catches it.
    await websocket.accept()
    while True:
        await websocket.send_text(await websocket.receive_text())


async def boom(websocket):
    await websocket.accept()
    raise ValueError("boom")


app = Starlette(routes=[
    Route("/graphql", refuse_plain),
    WebSocketRoute("/graphql", graphql),
    Route("/needs", refuse_plain),
    WebSocketRoute("/needs", needs_subprotocol),
    Route("/wrong", refuse_plain),
    WebSocketRoute("/wrong", wrong),
    Route("/close", refuse_plain),
    WebSocketRoute("/close", accept_then_close),
    Route("/echo", refuse_plain),
    WebSocketRoute("/echo", echo_until_disconnect),
    # No plain route: a plain GET gets 404, so the report is printed.
    WebSocketRoute("/bare-echo", echo_until_disconnect),
    WebSocketRoute("/boom", boom),
])
"""

CONFTEST = """
import pytest

from starlette_app import app


@pytest.fixture(scope="session")
def upgrade_app():
    return app
"""

SUITE = """
import pytest

GRAPHQL = ["graphql-transport-ws"]


@pytest.mark.requires_upgrade("websocket", path="/graphql", subprotocols=GRAPHQL)
def test_marker(upgrade):
    assert upgrade.websocket.subprotocol == "graphql-transport-ws"
    upgrade.websocket.send("ping")
    assert upgrade.websocket.recv(timeout=5) == "ping"


@pytest.mark.requires_upgrade(
    "websocket", path="/graphql", headers={"Sec-WebSocket-Protocol": "graphql-transport-ws"}
)
def test_header(upgrade):
    assert upgrade.websocket.subprotocol == "graphql-transport-ws"


@pytest.mark.requires_upgrade("websocket", path="/graphql", subprotocols=GRAPHQL)
@pytest.mark.asyncio
async def test_async(upgrade):
    websocket = await upgrade.async_websocket()
    assert websocket.subprotocol == "graphql-transport-ws"


@pytest.mark.requires_upgrade("websocket", path="/needs", subprotocols=GRAPHQL)
def test_needs(upgrade):
    assert upgrade.websocket.subprotocol == "graphql-transport-ws"
"""


def _run(
    pytester: pytest.Pytester, suite: str, *options: str
) -> tuple[pytest.RunResult, dict[str, dict[str, dict[str, Any]]]]:
    pytester.makepyfile(starlette_app=STARLETTE_APP, conftest=CONFTEST, test_suite=suite)
    report = pytester.path / "report.json"
    # 15 s: inside this suite's own -n 2 the processes share two cores, and a
    # test body's handshake waited out 5 s once in CI (websockets 16).
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--upgrade-timeout=15", f"--upgrade-report={report}", *options
    )
    by_test: dict[str, dict[str, dict[str, Any]]] = {}
    for entry in json.loads(pathlib.Path(report).read_text())["results"]:
        name = entry["nodeid"].split("::")[-1]
        by_test[name] = {check["id"]: check for check in entry["checks"]}
    return result, by_test


def _empty_tests(**paths: str) -> str:
    """A module of tests with empty bodies (taking ``upgrade``), each marked to
    require a WebSocket at its path: ``_empty_tests(test_close="/close")``."""
    return "\nimport pytest\n" + "".join(
        f'\n@pytest.mark.requires_upgrade("websocket", path="{path}")\n'
        f"def {name}(upgrade):\n    pass\n"
        for name, path in paths.items()
    )


def _handshake_fields(check: dict[str, Any]) -> str:
    return str(check.get("actual", ""))


def test_a_subprotocol_server_passes(pytester: pytest.Pytester) -> None:
    result, checks = _run(pytester, SUITE)
    result.assert_outcomes(passed=4)
    for name in ("test_marker", "test_header", "test_async", "test_needs"):
        found = checks[name]
        assert found["upgraded-protocol"]["outcome"] == "passed", found["upgraded-protocol"]
        subprotocol = found["websocket-subprotocol"]
        assert subprotocol["outcome"] == "passed", subprotocol
        # Over wss://, ws:// and RFC 8441 (the bundled server enables extended CONNECT).
        assert subprotocol["message"].count("selected graphql-transport-ws") == 3
        assert found["websocket-over-h2"]["outcome"] == "passed"
        assert found["websocket-version"]["outcome"] == "skipped"  # hypercorn answers it


def test_the_offer_is_sent_once_and_reproduced(pytester: pytest.Pytester) -> None:
    # headers= and subprotocols= give the same offer: one field, one value each.
    suite = """
import pytest

@pytest.mark.requires_upgrade(
    "websocket",
    path="/graphql",
    subprotocols=["graphql-transport-ws"],
    headers={"Sec-WebSocket-Protocol": "graphql-transport-ws, graphql-ws"},
)
def test_both(upgrade):
    assert upgrade.websocket.subprotocol == "graphql-transport-ws"

@pytest.mark.requires_upgrade("websocket", path="/needs", subprotocols=["graphql-ws"])
def test_refused(upgrade):
    pass
"""
    result, _ = _run(pytester, suite, "-rA")
    result.assert_outcomes(passed=1, failed=1)
    # The reproduce commands of the failure carry the offer, once.
    lines = [line for line in result.outlines if "curl" in line and "Sec-WebSocket-Key" in line]
    assert lines
    for line in lines:
        assert line.count("Sec-WebSocket-Protocol") == 1, line
        assert "-H 'Sec-WebSocket-Protocol: graphql-ws'" in line, line
        assert "Origin: " in line


def test_a_server_selecting_an_unoffered_subprotocol_fails(pytester: pytest.Pytester) -> None:
    # hypercorn (wsproto) refuses to accept with a subprotocol the client did not
    # offer, so this server is a raw one: its 101 always names mqtt.
    suite = """
import pytest

@pytest.mark.requires_upgrade("websocket", path="/ws", subprotocols=["graphql-transport-ws"])
def test_offered(upgrade):
    pass

@pytest.mark.requires_upgrade("websocket", path="/ws")
def test_none_offered(upgrade):
    pass
"""
    version_answer = response(426, "Upgrade Required", [("Sec-WebSocket-Version", "13")])
    endpoint = websocket_endpoint(version_answer=version_answer, subprotocol="mqtt")
    with raw_server(endpoint) as url:
        pytester.makepyfile(test_suite=suite)
        report = pytester.path / "report.json"
        result = pytester.runpytest(
            "-p", "no:cacheprovider", "--upgrade-timeout=5", f"--upgrade-target={url}",
            f"--upgrade-report={report}",
        )  # fmt: skip
    result.assert_outcomes(failed=2)
    checks = {
        entry["nodeid"].split("::")[-1]: {check["id"]: check for check in entry["checks"]}
        for entry in json.loads(report.read_text())["results"]
    }
    offered = checks["test_offered"]["websocket-subprotocol"]
    assert offered["outcome"] == "failed"
    assert "selected mqtt, which was not offered" in offered["message"]
    # RFC 6455 §4.1: the client fails the connection, so the switch did not happen.
    upgraded = checks["test_offered"]["upgraded-protocol"]
    assert upgraded["outcome"] == "failed"
    assert "unsupported subprotocol: mqtt" in upgraded["message"]
    none = checks["test_none_offered"]["websocket-subprotocol"]
    assert none["outcome"] == "failed"
    assert "although none was offered" in none["message"]
    assert checks["test_none_offered"]["upgraded-protocol"]["outcome"] == "failed"
    result.stdout.fnmatch_lines(["*websocket-subprotocol*selected mqtt, which was not offered*"])


def test_a_route_refusing_a_handshake_without_subprotocol(pytester: pytest.Pytester) -> None:
    result, checks = _run(pytester, _empty_tests(test_needs="/needs"))
    result.assert_outcomes(failed=1)
    found = checks["test_needs"]
    expect(
        found["upgraded-succeeds"],
        "failed",
        message=("answered with 403",),
        diagnosis=("Origin check",),
    )
    assert found["websocket-subprotocol"]["outcome"] == "skipped"


def test_declared_lines_offer_subprotocols(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(starlette_app=STARLETTE_APP, conftest=CONFTEST)
    ini = pytester.path / "tox.ini"  # the outer conftest's INNER_INI
    ini.write_text(
        ini.read_text().rstrip("\n")
        + "\nupgrade_requirements =\n    websocket /graphql subprotocols=graphql-transport-ws,x\n"
    )
    report = pytester.path / "report.json"
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--upgrade-timeout=5", f"--upgrade-report={report}"
    )
    result.assert_outcomes(passed=1)
    (entry,) = json.loads(report.read_text())["results"]
    checks = {check["id"]: check for check in entry["checks"]}
    assert checks["websocket-subprotocol"]["outcome"] == "passed"


def test_selecting_none_of_the_offer_is_noted_not_passed(pytester: pytest.Pytester) -> None:
    suite = """
import pytest

@pytest.mark.requires_upgrade("websocket", path="/graphql", subprotocols=["graphql-ws"])
def test_other(upgrade):
    assert upgrade.websocket.subprotocol is None
"""
    result, checks = _run(pytester, suite)
    result.assert_outcomes(passed=1)
    check = checks["test_other"]["websocket-subprotocol"]
    assert check["outcome"] == "noted"
    assert "selected none of the offered subprotocols (graphql-ws)" in check["message"]


def test_accept_then_close_over_http2_passes(pytester: pytest.Pytester) -> None:
    # RFC 6455 §5.5.1: the route's clean Close came through the RFC 8441 stream.
    result, checks = _run(pytester, _empty_tests(test_close="/close"))
    result.assert_outcomes(passed=1)
    closed = ("closed the WebSocket cleanly",)
    expect(checks["test_close"]["websocket-over-h2"], "passed", message=closed)


def test_the_policy_server_records_the_offered_subprotocols() -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    from pytest_upgrade.server.policy import PolicyServer

    policy = PolicyServer("h2")
    try:
        uri = policy.http_url.replace("http://", "ws://", 1) + "/graphql"
        # Its routes answer HTTP only: hypercorn answers the handshake with 500.
        with pytest.raises(InvalidStatus):
            connect(uri, subprotocols=["graphql-transport-ws"], proxy=None, open_timeout=5)
        (recorded,) = policy.exchanges
    finally:
        policy.stop()
    assert (recorded.path, recorded.scheme, recorded.status) == ("/graphql", "ws", 500)
    assert recorded.subprotocols == ("graphql-transport-ws",)
    assert recorded.subprotocol is None


def test_permessage_deflate_offered_in_headers_is_negotiated(pytester: pytest.Pytester) -> None:
    # hypercorn (wsproto) accepts the offer (RFC 7692 §5); the probes' client and
    # the test body's, having made it, negotiate it instead of refusing the 101.
    result, checks = _run(pytester, deflate_echo("/echo"))
    result.assert_outcomes(passed=1)
    found = checks["test_deflate"]
    assert found["upgraded-protocol"]["outcome"] == "passed"
    assert found["websocket-over-h2"]["outcome"] == "passed"


def test_the_probes_own_disconnects_are_not_app_errors(pytester: pytest.Pytester) -> None:
    # The probes close right after the handshake (and the Ping over RFC 8441): an
    # echo that reads on gets Starlette's WebSocketDisconnect(1006). Not listed;
    # a real exception of the app still is.
    result, _ = _run(pytester, _empty_tests(test_echo="/bare-echo", test_boom="/boom"))
    result.assert_outcomes(failed=2)
    # Each failure's report (pytest's captured log sections left out).
    text = result.stdout.str()
    reports = {
        name: text.split(f"_ {name} _")[1].split("- Captured")[0].split("\n_")[0]
        for name in ("test_echo", "test_boom")
    }
    assert "the app raised" not in reports["test_echo"]
    assert "WebSocketDisconnect" not in text
    assert "the app raised" in reports["test_boom"]
    assert "ValueError: boom" in reports["test_boom"]


def test_the_offer_and_origin_from_upgrade_header(pytester: pytest.Pytester) -> None:
    # --upgrade-header fields are the same offer (sent once) and override the Origin.
    suite = """
import pytest

@pytest.mark.requires_upgrade("websocket", path="/graphql")
def test_graphql(upgrade):
    assert upgrade.websocket.subprotocol == "graphql-transport-ws"

@pytest.mark.requires_upgrade("websocket", path="/bare-echo", subprotocols=["x"])
def test_refused(upgrade):  # a plain GET gets 404: the report and its commands are shown
    pass
"""
    result, checks = _run(
        pytester,
        suite,
        "--upgrade-header=Sec-WebSocket-Protocol: graphql-transport-ws",
        "--upgrade-header=Origin: https://app.example",
    )
    result.assert_outcomes(passed=1, failed=1)
    assert checks["test_graphql"]["websocket-subprotocol"]["outcome"] == "passed"
    lines = [line for line in result.outlines if "curl" in line and "Sec-WebSocket-Key" in line]
    assert lines
    for line in lines:
        assert line.count("Origin:") == 1, line
        assert "Origin: https://app.example" in line, line
        assert line.count("Sec-WebSocket-Protocol") == 1, line
        assert "Sec-WebSocket-Protocol: x, graphql-transport-ws" in line, line
