"""The FastAPI service's protocol requirements."""

import pytest


@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_orders_require_http2(upgrade):
    assert upgrade.legacy.response.status == 426
    response = upgrade.client.get("/v2/orders")
    assert response.http_version == "HTTP/2"
    assert response.json() == {"orders": [{"id": 1, "item": "widget"}]}


@pytest.mark.requires_upgrade("h2", path="/v2/orders", method="POST")
def test_order_creation_requires_http2(upgrade):
    assert upgrade.upgraded.response.status == 201


@pytest.mark.requires_upgrade("websocket", path="/ws")
def test_live_updates_are_a_websocket(upgrade):
    upgrade.websocket.send("hello")
    assert upgrade.websocket.recv(timeout=5) == "echo: hello"
