"""The example suite: what a team retiring HTTP/1.1 writes."""

import pytest


@pytest.mark.requires_upgrade("h2", path="/v2/orders")
def test_orders_require_http2(upgrade):
    # The checks ran before the body; the body can use what they recorded.
    assert upgrade.legacy.response.status == 426
    response = upgrade.client.get("/v2/orders")
    assert response.http_version == "HTTP/2"
    assert response.json()["orders"]


@pytest.mark.requires_upgrade("h2", path="/v2/orders", method="POST")
def test_order_creation_requires_http2():
    pass


# Deliberately failing: /reports still answers HTTP/1.1 with 200. The report
# of this test is the demo's point.
@pytest.mark.requires_upgrade("h2", path="/reports")
def test_reports_require_http2():
    pass
