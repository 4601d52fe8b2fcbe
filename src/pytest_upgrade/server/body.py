"""Reading a request body to the end, bounded, before answering it.

A server that answers before it has read the request body and then closes
the connection makes the client's send fail (a reset, or ``SSLEOFError``
over TLS) before the client reads the answer: the client never sees the 426
(RFC 9112 §9.6: a server should read the request it answers before it
closes). The enforcer and the policy server answer without looking at the
body, so they read it here and throw it away, up to a bound in bytes and in
time; past the bound they answer anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["DISCARD_LIMIT", "DISCARD_SECONDS", "discard_body", "discard_wsgi_input"]

# At most this many bytes of a body are read and thrown away (64 MiB).
DISCARD_LIMIT = 64 * 2**20
# And for at most this long: a client that stops sending gets its answer anyway.
DISCARD_SECONDS = 10.0
_CHUNK = 2**16


async def discard_body(receive: Callable[[], Awaitable[dict[str, Any]]]) -> int:
    """Read an ASGI request body to its end (or the bound); the bytes read."""
    read = 0
    try:
        async with asyncio.timeout(DISCARD_SECONDS):
            while read <= DISCARD_LIMIT:
                message = await receive()
                if message["type"] != "http.request":
                    break  # http.disconnect: nobody is left to answer
                read += len(message.get("body", b""))
                if not message.get("more_body", False):
                    break
    except TimeoutError:
        pass
    return read


def discard_wsgi_input(environ: dict[str, Any]) -> int:
    """Read a WSGI request body (``wsgi.input``, CONTENT_LENGTH bytes) up to DISCARD_LIMIT."""
    stream = environ.get("wsgi.input")
    try:
        length = min(int(environ.get("CONTENT_LENGTH") or 0), DISCARD_LIMIT)
    except ValueError:
        length = 0
    read = 0
    while stream is not None and read < length:
        chunk = stream.read(min(_CHUNK, length - read))
        if not chunk:
            break
        read += len(chunk)
    return read
