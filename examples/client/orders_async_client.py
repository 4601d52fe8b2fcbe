"""The orders client of orders_client.py, for asyncio applications (httpx.AsyncClient).

It speaks HTTP/1.1 by default. When a server answers 426 Upgrade Required
naming HTTP/2 (RFC 9110 §15.5.22), it retries the request once over HTTP/2
and keeps using HTTP/2; when it cannot upgrade, it raises UpgradeRequired
with the server's problem detail (RFC 9457).
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx
from orders_client import UpgradeRequired, _names_http2

__all__ = ["AsyncOrdersClient", "UpgradeRequired"]


class AsyncOrdersClient:
    def __init__(self, base_url: str, *, verify: ssl.SSLContext, can_upgrade: bool = True) -> None:
        self._base_url = base_url
        self._verify = verify
        self._can_upgrade = can_upgrade
        self._client = httpx.AsyncClient(base_url=base_url, verify=verify, trust_env=False)

    async def __aenter__(self) -> AsyncOrdersClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _switch_to_http2(self) -> None:
        await self._client.aclose()
        self._client = httpx.AsyncClient(
            base_url=self._base_url, verify=self._verify, trust_env=False, http1=False, http2=True
        )

    async def get(self, path: str) -> Any:
        response = await self._client.get(path)
        if response.status_code == 426:
            upgrade = response.headers.get("upgrade", "")
            if not (self._can_upgrade and _names_http2(upgrade)):
                detail = response.json().get("detail", "") if response.content else ""
                raise UpgradeRequired(detail, upgrade)
            await self._switch_to_http2()
            response = await self._client.get(path)
        response.raise_for_status()
        return response.json()
