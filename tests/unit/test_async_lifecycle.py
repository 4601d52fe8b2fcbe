"""The async clients' lifecycle without a socket: created in the body's loop, closed as it ends."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx
import pytest

from pytest_upgrade._async_clients import AsyncClients, refuse_in_event_loop
from pytest_upgrade._requirements import parse_declared
from pytest_upgrade.probes.target import Target

# Nothing listens there: creating a client opens no connection.
TARGET = Target.from_urls(("https://127.0.0.1:9", "http://127.0.0.1:9"))
T = TypeVar("T")
H2 = parse_declared("h2 /v2/orders")
H2C = parse_declared("h2c /internal")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` without touching the thread's event loop: pytest-asyncio before 1.0
    leaves an unclosed loop there after each async test, and ``asyncio.run`` would orphan it
    (a ResourceWarning in whichever later test collects it: pytest-asyncio issue #724)."""
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        return runner.run(coroutine)


def test_the_client_is_created_in_the_body_and_closed_when_it_ends() -> None:
    clients = AsyncClients(TARGET, timeout=1.0)
    seen: list[httpx.AsyncClient] = []

    async def body() -> str:
        client = clients.client(H2)
        assert clients.client(H2) is client  # one per test
        assert not client.is_closed
        assert str(client.base_url) == "https://127.0.0.1:9"
        seen.append(client)
        return "done"

    assert _run(clients.closing_after(body)()) == "done"
    assert seen[0].is_closed


def test_the_client_is_closed_when_the_body_fails() -> None:
    clients = AsyncClients(TARGET, timeout=1.0)
    seen: list[httpx.AsyncClient] = []

    async def body() -> None:
        seen.append(clients.client(H2C))
        raise AssertionError("the test failed")

    with pytest.raises(AssertionError, match="the test failed"):
        _run(clients.closing_after(body)())
    assert seen[0].is_closed
    assert str(seen[0].base_url) == "http://127.0.0.1:9"


def test_outside_any_event_loop_the_async_client_is_refused() -> None:
    with pytest.raises(RuntimeError, match=r"for async tests .* a sync test uses upgrade\.client"):
        AsyncClients(TARGET, timeout=1.0).client(H2)


def test_in_a_loop_that_is_not_the_bodys_the_async_client_is_refused() -> None:
    clients = AsyncClients(TARGET, timeout=1.0)

    async def elsewhere() -> None:
        clients.client(H2)

    with pytest.raises(RuntimeError, match="lives in the event loop of an async test's body"):
        _run(elsewhere())


def test_after_the_body_the_async_client_is_refused() -> None:
    clients = AsyncClients(TARGET, timeout=1.0)

    async def body() -> None:
        clients.client(H2)

    async def later() -> None:
        await clients.closing_after(body)()
        clients.client(H2)

    with pytest.raises(RuntimeError, match="closed when the body ends"):
        _run(later())


def test_a_blocking_client_is_refused_only_inside_an_event_loop() -> None:
    refuse_in_event_loop("client", "upgrade.async_client")  # no loop: nothing to refuse

    async def inside() -> None:
        refuse_in_event_loop("client", "upgrade.async_client")

    with pytest.raises(RuntimeError, match=r"blocking client: .* use upgrade\.async_client"):
        _run(inside())
