"""The Flask service's protocol requirements."""

import pytest


@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_orders_require_http2(upgrade):
    assert upgrade.legacy.response.status == 426
    response = upgrade.client.get("/v2/orders")
    assert response.http_version == "HTTP/2"
    assert response.json()["orders"]


@pytest.mark.requires_upgrade("HTTP/1.1", path="/catalogue")
def test_catalogue_no_longer_serves_http10(upgrade):
    response = upgrade.client.get("/catalogue")
    assert response.http_version == "HTTP/1.1"
    assert response.json()["items"]
