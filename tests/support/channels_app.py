"""A Django Channels application as Channels' tutorial writes one, served by daphne in tests.

``AllowedHostsOriginValidator`` wraps the WebSocket routes, as the tutorial
recommends: a handshake whose ``Origin`` is missing or names a host outside
``ALLOWED_HOSTS`` is refused (daphne answers 403), as RFC 6455 §10.2 lets a
server do. Plain HTTP to any path gets a 426 problem document.

Serve it with ``python -m daphne ... channels_app:application`` (``tests/support`` on
PYTHONPATH).
"""

from __future__ import annotations

from typing import Any

import django
from django.conf import settings

settings.configure(
    ALLOWED_HOSTS=["127.0.0.1"],
    INSTALLED_APPS=["daphne", "channels"],
    SECRET_KEY="tests-only",
    USE_TZ=True,
)
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402
from matrix_python_app_servers import PROBLEM  # noqa: E402 (the same 426 problem document)


class Echo(AsyncWebsocketConsumer):  # type: ignore[misc]
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.send(text_data=text_data)


async def refuse_plain(scope: dict[str, Any], receive: Any, send: Any) -> None:
    headers = [
        (b"upgrade", b"websocket"),
        (b"connection", b"Upgrade"),
        (b"content-type", b"application/problem+json"),
    ]
    await send({"type": "http.response.start", "status": 426, "headers": headers})
    await send({"type": "http.response.body", "body": PROBLEM})


application = ProtocolTypeRouter(
    {
        "http": refuse_plain,
        "websocket": AllowedHostsOriginValidator(URLRouter([path("ws", Echo.as_asgi())])),
    }
)
