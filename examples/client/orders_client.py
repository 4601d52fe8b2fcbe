"""A small orders client that survives the day the server retires HTTP/1.1.

It speaks HTTP/1.1 by default (as many deployed clients do). When a server
answers 426 Upgrade Required naming HTTP/2 (RFC 9110 §15.5.22), it retries the
request once over HTTP/2 and keeps using HTTP/2; when it cannot upgrade, it
raises UpgradeRequired with the server's problem detail (RFC 9457), so the
application can show the user what the server said.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx


class UpgradeRequired(Exception):
    """The server refused the protocol and the client could not switch."""

    def __init__(self, detail: str, upgrade: str) -> None:
        super().__init__(f"{detail} (server asks for: {upgrade})")
        self.detail = detail
        self.upgrade = upgrade


def _names_http2(upgrade: str) -> bool:
    # Upgrade is a comma-separated list of protocol tokens (RFC 9110 §7.8).
    tokens = {item.strip().lower() for item in upgrade.split(",")}
    return bool(tokens & {"http/2.0", "http/2", "h2"})


class OrdersClient:
    def __init__(self, base_url: str, *, verify: ssl.SSLContext, can_upgrade: bool = True) -> None:
        self._base_url = base_url
        self._verify = verify
        self._can_upgrade = can_upgrade
        self._client = httpx.Client(base_url=base_url, verify=verify, trust_env=False)

    def close(self) -> None:
        self._client.close()

    def _switch_to_http2(self) -> None:
        self._client.close()
        self._client = httpx.Client(
            base_url=self._base_url, verify=self._verify, trust_env=False, http1=False, http2=True
        )

    def get(self, path: str) -> Any:
        response = self._client.get(path)
        if response.status_code == 426:
            upgrade = response.headers.get("upgrade", "")
            if not (self._can_upgrade and _names_http2(upgrade)):
                detail = response.json().get("detail", "") if response.content else ""
                raise UpgradeRequired(detail, upgrade)
            self._switch_to_http2()
            response = self._client.get(path)
        response.raise_for_status()
        return response.json()
