"""The Starlette service's protocol requirements, async first (pytest-asyncio).

Before each body runs, pytest-upgrade has checked the requirement; the body
then talks to the service with a client already speaking the upgraded
protocol: ``upgrade.async_client`` (an httpx.AsyncClient) and
``await upgrade.async_websocket()`` in async tests, ``upgrade.client`` and
``upgrade.websocket`` in sync ones.
"""

import asyncio

import pytest


@pytest.mark.asyncio
@pytest.mark.requires_upgrade("h2", path="/v2/orders")
async def test_orders_require_http2(upgrade):
    assert upgrade.legacy.response.status == 426
    response = await upgrade.async_client.get("/v2/orders")
    assert response.http_version == "HTTP/2"
    assert response.json()["orders"]


@pytest.mark.asyncio
@pytest.mark.requires_upgrade("websocket", path="/ws")
async def test_live_updates_are_a_websocket(upgrade):
    websocket = await upgrade.async_websocket()
    await websocket.send("hello")
    async with asyncio.timeout(5):
        assert await websocket.recv() == "echo: hello"


# No body needed: the checks are the test.
@pytest.mark.requires_upgrade("h2", path="/v2/orders", method="POST")
def test_order_creation_requires_http2():
    pass


# The same kind of test, synchronous: upgrade.websocket is websockets' sync client.
@pytest.mark.requires_upgrade("websocket", path="/ws")
def test_live_updates_from_a_sync_test(upgrade):
    upgrade.websocket.send("hello")
    assert upgrade.websocket.recv(timeout=5) == "echo: hello"
