"""The async clients of the ``upgrade`` fixture, tied to the event loop of the test's body.

An async test (``async def``, run by pytest-asyncio or by anyio's pytest
plugin) gets ``upgrade.async_client`` (an ``httpx.AsyncClient``) and
``await upgrade.async_websocket()`` (websockets' asyncio client). Both belong
to the event loop that runs the test body: they are created there on first
use, and closed there when the body ends — not in the fixture's teardown,
which runs outside that loop (a connection pool or a WebSocket cannot be
closed properly from outside the loop it was opened in).

To close them in the body's own loop and task, ``glue.async_tests`` hands the
runner the test function wrapped by :meth:`AsyncClients.closing_after`.

The other way round is refused with a clear error rather than left to block:
the blocking clients inside a running event loop, the async ones outside the
body of an async test.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from ._model import Requirement
from .probes.target import Target

if TYPE_CHECKING:
    import httpx
    from websockets.asyncio.client import ClientConnection as AsyncClientConnection

__all__ = ["ASYNC_CLIENTS", "AsyncClients", "refuse_in_event_loop"]


def running_event_loop() -> tuple[str, object] | None:
    """The async library whose event loop runs in this thread now, and that loop.

    Neither asyncio nor trio (anyio's other backend) is imported here: a loop
    of a library nobody imported cannot be running.
    """
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None:
        try:
            return "asyncio", asyncio.get_running_loop()
        except RuntimeError:
            pass
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            return "trio", trio.lowlevel.current_trio_token()
        except RuntimeError:
            pass
    return None


def refuse_in_event_loop(name: str, instead: str) -> None:
    """Raise when a blocking client is asked for inside a running event loop."""
    if running_event_loop() is not None:
        raise RuntimeError(
            f"upgrade.{name} is a blocking client: in an async test it would block the"
            f" event loop; use {instead}"
        )


class AsyncClients:
    """The async clients of one test, tied to the event loop of its body."""

    def __init__(self, target: Target, timeout: float) -> None:
        self._target = target
        self._timeout = timeout
        self._body_loop: tuple[str, object] | None = None  # while an async test's body runs
        self._client: httpx.AsyncClient | None = None
        self._websockets: list[AsyncClientConnection] = []

    def _check_in_body(self, name: str) -> None:
        running = running_event_loop()
        if running is None:
            raise RuntimeError(
                f"upgrade.{name} is for async tests (async def, run by pytest-asyncio or"
                " anyio); this code is not running in an event loop: a sync test uses"
                f" {'upgrade.client' if name == 'async_client' else 'upgrade.websocket'}"
            )
        if running != self._body_loop:
            raise RuntimeError(
                f"upgrade.{name} lives in the event loop of an async test's body and is"
                " closed when the body ends: use it in the body of an async test, not in a"
                " fixture, a sync test or an event loop of your own"
            )

    def client(self, requirement: Requirement) -> httpx.AsyncClient:
        self._check_in_body("async_client")
        if self._client is None:
            from ._clients import upgraded_async_client  # noqa: PLC0415 (lazy: heavy)

            self._client = upgraded_async_client(requirement, self._target, self._timeout)
        return self._client

    async def websocket(self, requirement: Requirement) -> AsyncClientConnection:
        self._check_in_body("async_websocket()")
        running = running_event_loop()
        if running is None or running[0] != "asyncio":
            raise RuntimeError(
                "upgrade.async_websocket() is websockets' asyncio client: it needs an asyncio"
                " event loop (with anyio, the 'asyncio' backend)"
            )
        from ._clients import open_async_websocket  # noqa: PLC0415 (lazy: heavy)

        connection = await open_async_websocket(requirement, self._target, self._timeout)
        self._websockets.append(connection)
        return connection

    async def aclose(self) -> None:
        """Close every client, in the loop that opened them (each close is bounded)."""
        client, self._client = self._client, None
        connections, self._websockets = self._websockets, []
        try:
            for connection in connections:
                await connection.close()  # bounded by close_timeout
        finally:
            if client is not None:
                await client.aclose()

    def closing_after(self, test: Callable[..., Any]) -> Callable[..., Any]:
        """``test`` as a coroutine function that closes these clients when its body ends."""

        @functools.wraps(test)
        async def body_then_close(*args: Any, **kwargs: Any) -> Any:
            self._body_loop = running_event_loop()
            try:
                return await test(*args, **kwargs)
            finally:
                self._body_loop = None
                await self.aclose()

        return body_then_close


ASYNC_CLIENTS = pytest.StashKey[AsyncClients]()
