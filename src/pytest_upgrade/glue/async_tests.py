"""Async tests: close the ``upgrade`` fixture's async clients in the loop of the test's body.

The fixture's teardown runs outside the event loop that ran the body, too
late to close a connection pool or a WebSocket properly. So the runner
(pytest-asyncio, anyio's plugin, whichever) is handed the test function
wrapped in a coroutine that awaits the body, then closes what it opened. Both
runners read ``item.obj`` when they run the test and run whatever coroutine
function they find there; the original is put back afterwards.

A module of its own, listed in ``plugin.pytest_plugins``: pytest imports it
(and nothing else does) to register its hook.
"""

from __future__ import annotations

import inspect
from collections.abc import Generator

import pytest

from .._async_clients import ASYNC_CLIENTS

__all__: list[str] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    clients = item.stash.get(ASYNC_CLIENTS, None)
    if (
        clients is None
        or not isinstance(item, pytest.Function)
        or not inspect.iscoroutinefunction(item.obj)
        # hypothesis runs the coroutine its own way (obj.hypothesis.inner_test).
        or hasattr(item.obj, "hypothesis")
    ):
        return (yield)
    test = item.obj
    item.obj = clients.closing_after(test)
    try:
        return (yield)
    finally:
        item.obj = test
