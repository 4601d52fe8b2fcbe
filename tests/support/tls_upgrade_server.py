"""A cleartext HTTP/1.1 server that performs the in-band TLS upgrade (RFC 2817), or fails to.

Few servers still perform it (Apache httpd 2.4.71's ``SSLEngine optional``
does not; hypercorn cannot), so the tests write their own, on asyncio: a
request without ``Upgrade`` gets 426 ``Upgrade: TLS/1.2``; one with
``Upgrade: TLS/1.x`` and ``Connection: Upgrade`` gets 101, then TLS is started
on the same transport (``StreamWriter.start_tls``) and the server continues
with the response to that request (RFC 2817 §3.3) and serves further requests
over TLS. Each :data:`MODES` entry breaks one step. The server runs its own
event loop in a thread; ``tls_upgrade_server(mode)`` yields its http URL and
the CA file that verifies its certificate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import pathlib
import ssl
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import trustme

MODES = (
    "switch",  # RFC 2817 §3.3 done right
    "refuse-400",  # advertises TLS/1.2 in its 426, answers the upgrade with 400
    "refuse-426",  # answers the upgrade with the same 426 again
    "close",  # closes the connection on the upgrade request
    "101-then-close",  # 101, then closes instead of the TLS handshake
    "untrusted",  # 101, then TLS with a certificate of a CA the client does not trust
    "no-tls-token",  # 101 whose Upgrade names only HTTP/1.1
    "redirect",  # cleartext answered with 308 to https: no in-band upgrade advertised
)

_PROBLEM = json.dumps(
    {
        "type": "about:blank",
        "title": "Upgrade Required",
        "status": 426,
        "detail": "This endpoint requires TLS 1.2 or later (https).",
    }
).encode()


def _answer(status: int, reason: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers)]
    if status >= 200:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


REFUSAL = _answer(
    426,
    "Upgrade Required",
    [
        ("Upgrade", "TLS/1.2, HTTP/1.1"),
        ("Connection", "Upgrade"),
        ("Content-Type", "application/problem+json"),
        ("Cache-Control", "no-store"),
    ],
    _PROBLEM,
)
SWITCH = _answer(
    101, "Switching Protocols", [("Upgrade", "TLS/1.2, HTTP/1.1"), ("Connection", "Upgrade")]
)
OK = _answer(200, "OK", [("Content-Type", "application/json")], b'{"ok": true}')


@dataclass(frozen=True)
class _Head:
    method: str
    target: str
    fields: dict[str, str]

    @property
    def asks_for_tls(self) -> bool:
        connection = {t.strip().lower() for t in self.fields.get("connection", "").split(",")}
        return "upgrade" in connection and "tls/" in self.fields.get("upgrade", "").lower()


def _parse(head: bytes) -> _Head:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    fields: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
    return _Head(method, target, fields)


class _Server:
    def __init__(self, mode: str, trusted: ssl.SSLContext, untrusted: ssl.SSLContext) -> None:
        self.mode = mode
        self.trusted = trusted
        self.untrusted = untrusted
        self.writers: set[asyncio.StreamWriter] = set()

    def _cleartext_answer(self, head: _Head) -> bytes | None:
        """The answer before any switch; None to switch to TLS."""
        if self.mode == "redirect":
            return _answer(
                308, "Permanent Redirect", [("Location", f"https://127.0.0.1{head.target}")]
            )
        if not head.asks_for_tls:
            return REFUSAL
        if self.mode == "refuse-400":
            return _answer(400, "Bad Request", [("Content-Type", "text/plain")], b"no upgrade")
        if self.mode == "refuse-426":
            return REFUSAL
        return None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        with contextlib.suppress(OSError, ssl.SSLError, asyncio.IncompleteReadError, ValueError):
            while True:
                head = _parse(await reader.readuntil(b"\r\n\r\n"))
                if writer.get_extra_info("ssl_object") is not None:
                    writer.write(OK)  # over TLS: every request is served
                    await writer.drain()
                    continue
                answer = self._cleartext_answer(head)
                if answer is not None:
                    writer.write(answer)
                    await writer.drain()
                    continue
                if self.mode == "close":
                    break
                writer.write(
                    SWITCH.replace(b"TLS/1.2, HTTP/1.1", b"HTTP/1.1")
                    if self.mode == "no-tls-token"
                    else SWITCH
                )
                await writer.drain()
                if self.mode == "101-then-close":
                    break
                context = self.untrusted if self.mode == "untrusted" else self.trusted
                await writer.start_tls(context)
                # RFC 2817 §3.3: continue with the response to the original request.
                writer.write(_answer(200, "OK", [("Allow", "OPTIONS, GET")]))
                await writer.drain()
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()


def _context(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return context


@contextlib.contextmanager
def tls_upgrade_server(
    mode: str, *, client_ca: trustme.CA | None = None
) -> Iterator[tuple[str, str]]:
    """Run the server in ``mode``; yields (its http:// URL, the CA file that trusts it).

    ``client_ca``: once upgraded, the server requires a client certificate it issued.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; one of {MODES}")
    with tempfile.TemporaryDirectory(prefix="tls-upgrade-") as name:
        authority = trustme.CA()
        cafile = pathlib.Path(name) / "ca.pem"
        authority.cert_pem.write_to_path(str(cafile))
        trusted = _context(authority)
        if client_ca is not None:
            client_ca.configure_trust(trusted)
            trusted.verify_mode = ssl.CERT_REQUIRED
        server = _Server(mode, trusted, _context(trustme.CA()))
        loop = asyncio.new_event_loop()
        listener = loop.run_until_complete(asyncio.start_server(server.handle, "127.0.0.1", 0))
        port = listener.sockets[0].getsockname()[1]
        thread = threading.Thread(target=loop.run_forever, name=f"tls-upgrade-{mode}")
        thread.start()
        try:
            yield f"http://127.0.0.1:{port}", str(cafile)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.run_until_complete(_shutdown(listener, server.writers))
            loop.close()


async def _shutdown(listener: asyncio.Server, writers: set[asyncio.StreamWriter]) -> None:
    """Close every connection and let its handler end by itself (a cancelled one is logged)."""
    listener.close()
    for writer in writers:
        writer.transport.abort()
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    if tasks:
        await asyncio.wait(tasks, timeout=5)
    await listener.wait_closed()
