"""A load-balanced pool on loopback: one nginx, a server block per node address.

For tests/integration/test_pool.py. Every node listens on the same port on
its own loopback address (127.0.0.2, 127.0.0.3, ::1, ...: loopback is a whole
/8 here, and ::1), with one certificate issued by a throw-away trustme CA for
the pool's made-up name ``pool.test`` (and ``localhost``, 127.0.0.1 and ::1,
for the runs that name a node by its address). Each node answers
``/v2/orders`` as an h2 requirement asks: 426 with ``Upgrade: HTTP/2.0`` and a
problem body over HTTP/1.1, 200 over HTTP/2. A *bad* node still accepts TLS 1.0
and 1.1 (``ssl_protocols TLSv1 ...`` at ``@SECLEVEL=0``, which OpenSSL 3 needs
to offer them): the retirement that half happened.
"""

from __future__ import annotations

import contextlib
import pathlib
import selectors
import socket
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from support.hostile import Behaviour
from support.matrix_servers import (
    NGINX_MAIN,
    Certificates,
    Running,
    binary,
    free_ports,
    nginx_h2_location,
    start,
)

__all__ = ["POOL_NAME", "Pool", "PoolCertificates", "misbehaving_nodes", "serve_pool"]

POOL_NAME = "pool.test"
GOOD_TLS = "ssl_protocols TLSv1.2 TLSv1.3;"
BAD_TLS = "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; ssl_ciphers DEFAULT:@SECLEVEL=0;"
NODE = """
  server {{
    listen {listen} ssl http2;
    server_name {name} localhost;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    {tls}{orders}
  }}
"""


@dataclass
class PoolCertificates(Certificates):
    """The CA and the pool's certificate, as files in a private directory."""

    names: tuple[str, ...] = (POOL_NAME, "localhost", "127.0.0.1", "::1")


@dataclass
class Pool:
    port: int
    addresses: tuple[str, ...]  # every node's, in the order given
    bad: tuple[str, ...]  # the nodes that still accept TLS 1.0 and 1.1
    ca: str
    running: Running

    def url(self, host: str = POOL_NAME) -> str:
        return f"https://{host}:{self.port}"

    def resolve(self, *addresses: str) -> str:
        """``--upgrade-resolve`` for the pool's name and these nodes (all by default)."""
        shown = ",".join(f"[{a}]" if ":" in a else a for a in addresses or self.addresses)
        return f"--upgrade-resolve={POOL_NAME}:{self.port}:{shown}"


def serve_pool(
    workdir: pathlib.Path,
    certificates: PoolCertificates,
    addresses: Sequence[str],
    *,
    bad: Sequence[str] = (),
) -> Iterator[Pool]:
    """nginx serving one node on each address (the ``bad`` ones accepting TLS 1.0), and a
    good one on 127.0.0.1 too (``localhost``, and what tells that nginx is up)."""
    (port,) = free_ports(1)
    listening = dict.fromkeys(["127.0.0.1", *addresses])
    servers = "".join(
        NODE.format(
            listen=f"[{a}]:{port}" if ":" in a else f"{a}:{port}",
            name=POOL_NAME,
            cert=certificates.cert,
            key=certificates.key,
            tls=BAD_TLS if a in bad else GOOD_TLS,
            orders=nginx_h2_location(f'{{"node": "{a}"}}'),
        )
        for a in listening
    )
    running = _start_nginx(workdir, servers, port)
    try:
        yield Pool(port, tuple(addresses), tuple(bad), certificates.ca, running)
    finally:
        running.stop()


def _start_nginx(workdir: pathlib.Path, servers: str, port: int) -> Running:
    """nginx in the foreground, with room for a few hundred listeners and connections
    (each listening socket takes one of a worker's connections)."""
    executable = binary("nginx")
    workdir.mkdir(parents=True, exist_ok=True)
    main = NGINX_MAIN.replace("worker_connections 64;", "worker_connections 4096;")
    (workdir / "nginx.conf").write_text(main.format(w=workdir, servers=servers))
    argv = [executable, "-p", str(workdir), "-c", str(workdir / "nginx.conf")]
    return start("nginx", [*argv, "-e", str(workdir / "error.log")], workdir, [port])


@contextlib.contextmanager
def misbehaving_nodes(port: int, behaviours: dict[str, Behaviour]) -> Iterator[None]:
    """Raw TCP nodes on ``port``, one per address, each misbehaving as its behaviour
    says (``support.hostile``: silent, reset, garbage); stopped and joined on exit."""
    listeners = {socket.create_server((a, port)): b for a, b in behaviours.items()}
    selector = selectors.DefaultSelector()
    for listener in listeners:
        listener.setblocking(False)
        selector.register(listener, selectors.EVENT_READ)
    stop = threading.Event()
    accepted: list[socket.socket] = []
    handlers: list[threading.Thread] = []

    def handle(conn: socket.socket, behaviour: Behaviour) -> None:
        with contextlib.suppress(OSError, ValueError):
            behaviour(conn)

    def accept_loop() -> None:
        while not stop.is_set():
            for key, _ in selector.select(timeout=0.1):
                listener = key.fileobj
                assert isinstance(listener, socket.socket)
                with contextlib.suppress(BlockingIOError):
                    conn, _peer = listener.accept()
                    conn.setblocking(True)
                    accepted.append(conn)
                    handler = threading.Thread(
                        target=handle, args=(conn, listeners[listener]), daemon=True
                    )
                    handlers.append(handler)
                    handler.start()

    acceptor = threading.Thread(target=accept_loop, daemon=True)
    acceptor.start()
    try:
        yield
    finally:
        stop.set()
        acceptor.join(5)
        for conn in accepted:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for handler in handlers:
            handler.join(5)
        for conn in accepted:
            conn.close()
        for listener in listeners:
            listener.close()
        selector.close()
