"""The FastAPI service's protocol requirements, async first (anyio, as FastAPI's docs test).

Before each body runs, pytest-upgrade has checked the requirement; the body
then talks to the service with a client already speaking the upgraded
protocol: ``upgrade.async_client`` (an httpx.AsyncClient) and
``await upgrade.async_websocket()`` in async tests, ``upgrade.client`` and
``upgrade.websocket`` in sync ones.
"""

import anyio
import pytest


@pytest.mark.anyio
@pytest.mark.requires_upgrade("h2", path="/v2/orders")
async def test_orders_require_http2(upgrade):
    assert upgrade.legacy.response.status == 426
    response = await upgrade.async_client.get("/v2/orders")
    assert response.http_version == "HTTP/2"
    assert response.json() == {"orders": [{"id": 1, "item": "widget"}]}


@pytest.mark.anyio
@pytest.mark.requires_upgrade("websocket", path="/ws")
async def test_live_updates_are_a_websocket(upgrade):
    websocket = await upgrade.async_websocket()
    await websocket.send("hello")
    with anyio.fail_after(5):
        assert await websocket.recv() == "echo: hello"


# The same kind of test, synchronous: upgrade.client is an httpx.Client.
@pytest.mark.requires_upgrade("h2", path="/v2/orders", method="POST")
def test_order_creation_requires_http2(upgrade):
    assert upgrade.upgraded.response.status == 201
    response = upgrade.client.post("/v2/orders")
    assert response.http_version == "HTTP/2"
    assert response.json() == {"id": 2, "item": "gadget"}
