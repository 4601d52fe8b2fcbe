"""The example suite: what a team in the middle of its protocol migrations writes."""

import pytest


@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_orders_require_http2(upgrade):
    # The checks ran before the body; the body can use what they recorded...
    assert upgrade.legacy.response.status == 426
    # ...and a client already speaking the upgraded protocol.
    response = upgrade.client.get("/v2/orders")
    assert response.http_version == "HTTP/2"
    assert response.json()["orders"]


@pytest.mark.requires_upgrade("h2", path="/v2/orders", method="POST")
def test_order_creation_requires_http2():
    pass


@pytest.mark.requires_upgrade("h2c", path="/internal/stock")
def test_internal_calls_require_h2c():
    pass


@pytest.mark.requires_upgrade("websocket", path="/ws")
def test_live_updates_are_a_websocket(upgrade):
    upgrade.websocket.send("hello")
    assert upgrade.websocket.recv(timeout=5) == "echo: hello"


@pytest.mark.requires_upgrade("TLS/1.2", path="/secure/payments")
@pytest.mark.requires_upgrade("h2", path="/secure/payments")
def test_payments_require_tls_and_http2():
    pass


@pytest.mark.requires_upgrade("HTTP/1.1", path="/legacy/catalogue")
def test_catalogue_drops_http10():
    pass


# Deliberately failing: /reports still answers HTTP/1.1 with 200. The report
# of this test is the demo's point.
@pytest.mark.requires_upgrade("h2", path="/reports")
def test_reports_require_http2():
    pass
