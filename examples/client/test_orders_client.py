"""Testing a client against the day HTTP/1.1 goes away, with pytest-upgrade's policy server."""

import pytest
from orders_client import OrdersClient, UpgradeRequired

ROUTES = {"/orders": (200, {"orders": [{"id": 1}]})}


@pytest.fixture
def policy(upgrade_policy_server):
    # Enforces HTTP/2 over TLS with a textbook 426; records every exchange.
    return upgrade_policy_server("h2", routes=ROUTES)


def test_client_upgrades_after_426_and_stays_upgraded(policy):
    client = OrdersClient(policy.https_url, verify=policy.ssl_context())
    try:
        assert client.get("/orders") == {"orders": [{"id": 1}]}
        assert client.get("/orders") == {"orders": [{"id": 1}]}
    finally:
        client.close()
    policy.assert_retried_after_426("/orders")
    policy.assert_only_upgraded_after_426()
    assert [e.protocol for e in policy.exchanges] == ["HTTP/1.1", "HTTP/2", "HTTP/2"]


def test_client_that_cannot_upgrade_surfaces_the_problem_detail(policy):
    client = OrdersClient(policy.https_url, verify=policy.ssl_context(), can_upgrade=False)
    try:
        with pytest.raises(UpgradeRequired) as refused:
            client.get("/orders")
    finally:
        client.close()
    assert refused.value.detail == policy.problem_detail("/orders")
    assert refused.value.upgrade == "HTTP/2.0"
    policy.assert_no_request_over("HTTP/1.0")
