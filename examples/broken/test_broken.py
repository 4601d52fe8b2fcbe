"""Both tests fail: their reports are the ones the documentation explains."""

import pytest


@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_orders_require_http2():
    pass


@pytest.mark.requires_upgrade("websocket", path="/ws")
def test_live_updates_are_a_websocket():
    pass
