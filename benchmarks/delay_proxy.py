"""A TCP proxy that adds a fixed one-way delay each way: latency on loopback.

    python benchmarks/delay_proxy.py --upstream 127.0.0.1:8443 --delay 0.025 \
        --listeners 3 --lifetime 600

listens on ``--listeners`` ports of 127.0.0.1 (printed as one JSON line on
stdout once all listen), each forwarding every connection to ``--upstream``;
with ``--addresses 127.0.2.1,127.0.2.2,...`` it listens on one port on each of
those loopback addresses instead (the nodes of a pool: one name, one port);
bytes each way arrive ``--delay`` seconds after they were sent, in order.
Connecting costs one round trip, as over a real network: what a client sends
first is held until one round trip after its connection was accepted (the
kernel completes the proxy's own TCP handshake at once), then delayed like
everything else. So a request on a fresh TLS 1.3 connection costs three round
trips (TCP, TLS, the request), the latency floor of one probe.

Loopback only: ``--upstream`` must be a loopback address. The proxy exits
after ``--lifetime`` seconds whatever happens (a benchmark that dies does not
leave it running), or when stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import sys
import threading
from typing import Any

__all__ = ["main"]

_CHUNK = 65536


async def _pump(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    delay: float,
    not_before: float,
) -> None:
    """Copy ``reader`` to ``writer``, each chunk ``delay`` s late, not before ``not_before``."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                with contextlib.suppress(OSError):
                    if writer.can_write_eof():
                        writer.write_eof()
                return
            writer.write(data)
            with contextlib.suppress(OSError):
                await writer.drain()

    delivery = asyncio.ensure_future(deliver())
    try:
        while True:
            try:
                data = await reader.read(_CHUNK)
            except OSError:
                data = b""
            queue.put_nowait((max(loop.time() + delay, not_before), data))
            if not data:
                break
        await delivery
    finally:
        delivery.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await delivery


async def _connection(
    client_reader: asyncio.StreamReader,
    client_writer: asyncio.StreamWriter,
    upstream: tuple[str, int],
    delay: float,
) -> None:
    loop = asyncio.get_running_loop()
    accepted = loop.time()
    try:
        server_reader, server_writer = await asyncio.open_connection(*upstream)
    except OSError:
        client_writer.close()
        return
    try:
        # The client's first bytes leave one round trip after it connected
        # (its SYN and the SYN-ACK), and arrive one delay later.
        await asyncio.gather(
            _pump(client_reader, server_writer, delay, accepted + 3 * delay),
            _pump(server_reader, client_writer, delay, 0.0),
        )
    finally:
        for writer in (client_writer, server_writer):
            writer.close()


async def _serve(
    upstream: tuple[str, int],
    delay: float,
    listeners: int,
    lifetime: float,
    addresses: list[str] | None = None,
) -> None:
    servers = []
    # asyncio keeps only weak references to tasks: the connections' are kept here.
    connections: set[asyncio.Task[Any]] = set()
    for host in addresses or ["127.0.0.1"] * listeners:

        async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            connections.add(task)
            try:
                await _connection(r, w, upstream, delay)
            finally:
                connections.discard(task)

        # Each listener a port of its own; with addresses, every one the first one's port.
        port = servers[0].sockets[0].getsockname()[1] if addresses and servers else 0
        servers.append(await asyncio.start_server(handle, host, port, backlog=1024))
    ports = [s.sockets[0].getsockname()[1] for s in servers]
    print(json.dumps({"ports": ports}), flush=True)
    loop = asyncio.get_running_loop()
    stdin_closed = asyncio.Event()

    def watch_stdin() -> None:
        sys.stdin.read()
        loop.call_soon_threadsafe(stdin_closed.set)

    # A daemon thread: one blocked on stdin must not keep the process alive.
    threading.Thread(target=watch_stdin, daemon=True).start()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stdin_closed.wait(), timeout=lifetime)
    for server in servers:
        server.close()
    # Connections still open end with the proxy, quietly.
    for task in list(connections):
        task.cancel()
    await asyncio.gather(*connections, return_exceptions=True)


def _loopback(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not ipaddress.ip_address(host.strip("[]")).is_loopback:
        raise argparse.ArgumentTypeError(f"{value}: not a loopback address")
    return host.strip("[]"), int(port)


def _addresses(value: str) -> list[str]:
    addresses = [a.strip() for a in value.split(",") if a.strip()]
    for address in addresses:
        if not ipaddress.ip_address(address).is_loopback:
            raise argparse.ArgumentTypeError(f"{address}: not a loopback address")
    return addresses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", type=_loopback, required=True, help="HOST:PORT (loopback)")
    parser.add_argument("--delay", type=float, default=0.025, help="one-way delay, seconds")
    parser.add_argument("--listeners", type=int, default=1, help="ports to listen on")
    parser.add_argument("--lifetime", type=float, default=600.0, help="exit after this, seconds")
    parser.add_argument(
        "--addresses",
        type=_addresses,
        help="listen on one port of each (loopback, comma-separated)",
    )
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.upstream, args.delay, args.listeners, args.lifetime, args.addresses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
