"""The name the bundled server's app sees in ``Host``: a virtual host.

The bundled server listens on 127.0.0.1, so every request reaching the app
names ``127.0.0.1:PORT`` as its host (RFC 9110 §7.2). An app that answers only
its own names (Starlette's and FastAPI's ``TrustedHostMiddleware``, Django's
``ALLOWED_HOSTS``, Flask's ``TRUSTED_HOSTS``) rejects every such request with
400 before it decides anything about protocols. With
``upgrade_server_options={"virtual_host": "api.example.com"}`` the server
hands the app every request as addressed to that name, as a reverse proxy
that sets ``Host`` does; what the probes send on the wire is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["VirtualHostASGI", "VirtualHostWSGI", "check_virtual_host"]


def check_virtual_host(value: object) -> str:
    """``value`` as a Host field value (``name`` or ``name:port``), or ValueError."""
    if not isinstance(value, str) or not value or any(c in value for c in " \t\r\n/\\?#@,"):
        raise ValueError(
            f"virtual_host: expected a host name such as 'api.example.com', got {value!r}"
        )
    return value


class VirtualHostASGI:
    """Sets the ``host`` field of every HTTP and WebSocket scope to ``host``."""

    def __init__(self, app: Callable[..., Any], host: str) -> None:
        self._app = app
        self._host = host.encode("ascii")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = [(n, v) for n, v in scope["headers"] if n.lower() != b"host"]
            scope = {**scope, "headers": [(b"host", self._host), *headers]}
        await self._app(scope, receive, send)


class VirtualHostWSGI:
    """Sets ``HTTP_HOST`` (and ``SERVER_NAME``) of every request to ``host``."""

    def __init__(self, app: Callable[..., Any], host: str) -> None:
        self._app = app
        self._host = host

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ["HTTP_HOST"] = self._host
        environ["SERVER_NAME"] = (
            self._host.rsplit(":", 1)[0] if "]" not in self._host else self._host
        )
        return self._app(environ, start_response)
