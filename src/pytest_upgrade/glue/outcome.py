"""What the ``upgrade`` fixture gives a marked test: :class:`UpgradeOutcome`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._async_clients import AsyncClients, refuse_in_event_loop
from .._model import Exchange, Finding, Requirement
from ..judge import RequirementResult
from ..probes.target import Target
from ..protocols import protocol_for
from ..protocols.roles import LEGACY, UPGRADED

if TYPE_CHECKING:
    # Heavy imports (httpx, websockets) wait until a test needs them.
    import httpx
    from websockets.asyncio.client import ClientConnection as AsyncClientConnection
    from websockets.sync.client import ClientConnection


__all__ = ["UpgradeOutcome"]


class UpgradeOutcome:
    """What the ``upgrade`` fixture gives a marked test.

    ``results`` holds one :class:`RequirementResult` per requirement. With a
    single requirement, ``legacy``, ``upgraded``, ``findings`` and
    ``requirement`` are shortcuts to it, and ``client`` is an httpx client
    already set up to speak the upgraded protocol to the target (in an async
    test: ``async_client`` and ``await async_websocket()``).
    """

    def __init__(
        self,
        results: list[RequirementResult],
        target: Target,
        timeout: float,
        async_clients: AsyncClients,
    ) -> None:
        self.results = tuple(results)
        self.target = target
        self._timeout = timeout
        self._async = async_clients
        self._client: httpx.Client | None = None
        self._websocket: ClientConnection | None = None

    def result(self, protocol: str | None = None) -> RequirementResult:
        if protocol is None:
            if len(self.results) != 1:
                raise ValueError(
                    f"this test has {len(self.results)} requirements; name one:"
                    f" upgrade.result({self.results[0].requirement.protocol!r})"
                )
            return self.results[0]
        for result in self.results:
            if result.requirement.protocol == protocol:
                return result
        raise KeyError(protocol)

    @property
    def requirement(self) -> Requirement:
        return self.result().requirement

    @property
    def legacy(self) -> Exchange | None:
        return self.result().observation.exchange(LEGACY)

    @property
    def upgraded(self) -> Exchange | None:
        return self.result().observation.exchange(UPGRADED)

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.result().findings

    @property
    def client(self) -> httpx.Client:
        """An httpx client speaking the upgraded protocol (HTTP/2, h2c, TLS ≥ 1.x, HTTP/1.1)."""
        refuse_in_event_loop("client", "upgrade.async_client (an httpx.AsyncClient)")
        if self._client is None:
            from .._clients import upgraded_client  # noqa: PLC0415 (lazy: heavy)

            self._client = upgraded_client(self.requirement, self.target, self._timeout)
        return self._client

    @property
    def websocket(self) -> ClientConnection:
        """An open WebSocket connection to the path (websocket requirements)."""
        if not protocol_for(self.requirement.protocol).websocket_client:
            raise ValueError("upgrade.websocket is for a websocket requirement")
        refuse_in_event_loop("websocket", "await upgrade.async_websocket()")
        if self._websocket is None:
            from .._clients import open_websocket  # noqa: PLC0415 (lazy: heavy)

            self._websocket = open_websocket(self.requirement, self.target, self._timeout)
        return self._websocket

    @property
    def async_client(self) -> httpx.AsyncClient:
        """The same client as ``client``, as an ``httpx.AsyncClient`` (async tests only).

        Created on first use in the event loop running the test, closed there
        when the test's body ends.
        """
        return self._async.client(self.requirement)

    async def async_websocket(self) -> AsyncClientConnection:
        """Open a WebSocket connection to the path with websockets' asyncio client.

        Async tests only (an asyncio event loop); each call opens a new
        connection, and all are closed when the test's body ends.
        """
        if not protocol_for(self.requirement.protocol).websocket_client:
            raise ValueError("upgrade.async_websocket() is for a websocket requirement")
        return await self._async.websocket(self.requirement)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._websocket is not None:
            self._websocket.close()
            self._websocket = None
