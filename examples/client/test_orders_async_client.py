"""The async client against the policy server, in async tests (anyio's pytest plugin)."""

import pytest
from orders_async_client import AsyncOrdersClient, UpgradeRequired

ROUTES = {"/orders": (200, {"orders": [{"id": 1}]})}


@pytest.fixture
def policy(upgrade_policy_server):
    # The policy server runs in a thread of its own: a sync fixture serves async tests too.
    return upgrade_policy_server("h2", routes=ROUTES)


@pytest.mark.anyio
async def test_async_client_upgrades_after_426_and_stays_upgraded(policy):
    async with AsyncOrdersClient(policy.https_url, verify=policy.ssl_context()) as client:
        assert await client.get("/orders") == {"orders": [{"id": 1}]}
        assert await client.get("/orders") == {"orders": [{"id": 1}]}
    policy.assert_retried_after_426("/orders")
    policy.assert_only_upgraded_after_426()
    assert [e.protocol for e in policy.exchanges] == ["HTTP/1.1", "HTTP/2", "HTTP/2"]


@pytest.mark.anyio
async def test_async_client_that_cannot_upgrade_surfaces_the_problem_detail(policy):
    async with AsyncOrdersClient(
        policy.https_url, verify=policy.ssl_context(), can_upgrade=False
    ) as client:
        with pytest.raises(UpgradeRequired) as refused:
            await client.get("/orders")
    assert refused.value.detail == policy.problem_detail("/orders")
    assert refused.value.upgrade == "HTTP/2.0"
    policy.assert_no_request_over("HTTP/1.0")
