"""One exchange, recorded: what a probe learns, filled in as it goes (:class:`Recorder`,
:func:`recording`), over a connection of its own (:func:`connected`) or over a
kept-alive one where a real client would keep one (:func:`exchange_over`,
:mod:`.reuse`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from .._model import Exchange, Offer, ProbeFailure, Response, Transport
from .connection import Connection, Deadline, ProbeError, open_connection
from .reuse import ConnectionPool, PoolKey, idempotent, lent
from .spec import ConnectionSpec

__all__ = ["Recorder", "connected", "exchange_over", "recording"]


@dataclass
class Recorder:
    """The parts of one exchange, filled in as the probe learns them."""

    role: str
    url: str
    method: str
    offer: Offer
    request_headers: tuple[tuple[str, str], ...] = ()
    transport: Transport | None = None
    response: Response | None = None
    failure: ProbeFailure | None = None
    round_trip: str = ""  # what a probe that goes on after the answer saw (a Pong, say)
    via: str = ""  # where the request went when that is not the URL's host (an Alt-Svc's)

    def exchange(self) -> Exchange:
        """The recorded exchange."""
        offered = self.offer.describe()
        return Exchange(
            role=self.role,
            url=self.url,
            method=self.method,
            offered=f"{offered}, to {self.via}" if self.via else offered,
            offer=self.offer,
            request_headers=self.request_headers,
            transport=self.transport,
            response=self.response,
            failure=self.failure,
            round_trip=self.round_trip,
        )


@contextlib.contextmanager
def recording(*, role: str, url: str, method: str, offer: Offer) -> Iterator[Recorder]:
    """Collects the parts of an exchange; a :class:`ProbeError` becomes its failure."""
    record = Recorder(role=role, url=url, method=method, offer=offer)
    try:
        yield record
    except ProbeError as exc:
        record.failure = ProbeFailure(exc.kind, exc.message)


@contextlib.contextmanager
def connected(
    spec: ConnectionSpec,
    record: Recorder,
    *,
    alpn: Sequence[str] = (),
    minimum: str | None = None,
) -> Iterator[Connection]:
    """A connection opened as :func:`open_connection` opens it, within the spec's
    timeout, its transport recorded; closed when the block ends."""
    connection = open_connection(spec, Deadline(spec.timeout), alpn=alpn, minimum=minimum)
    try:
        record.transport = connection.transport(spec.endpoint.scheme)
        yield connection
    finally:
        connection.close()


def exchange_over(
    spec: ConnectionSpec,
    record: Recorder,
    roundtrip: Callable[[Connection], Response],
    *,
    kind: str,
    alpn: Sequence[str],
    minimum: str | None,
    reuse: bool,
) -> None:
    """Record ``roundtrip``'s response over a connection opened as :func:`connected`
    opens it, or, with ``reuse`` and an idempotent method (RFC 9110 §9.2.2), over a
    kept-alive connection of the same ``kind`` from the probe's pool (:mod:`.reuse`).

    A request that fails on a kept-alive connection is sent again, once, on a new
    one (RFC 9112 §9.3.1), so that a server closing an idle connection is never
    judged; a connection the roundtrip left reusable goes back to the pool.
    """
    pool = lent() if reuse and idempotent(record.method) else None
    host, port = spec.peer
    key = PoolKey(
        kind=kind,
        scheme=spec.endpoint.scheme,
        server_name=spec.server_name,
        peer=(host.lower(), port),
        alpn=tuple(alpn),
        tls_minimum=minimum,
        trust=spec.trust,
        dialer=spec.dialer,
    )
    kept = pool.take(key) if pool is not None else None
    if pool is not None and kept is not None:
        kept.renew(Deadline(spec.timeout))
        try:
            record.transport = kept.transport(spec.endpoint.scheme)
            record.response = roundtrip(kept)
        except ProbeError:
            kept.close()  # and the request goes again, on a new connection
        except BaseException:
            kept.close()
            raise
        else:
            _settle(pool, key, kept)
            return
    connection = open_connection(spec, Deadline(spec.timeout), alpn=alpn, minimum=minimum)
    try:
        record.transport = connection.transport(spec.endpoint.scheme)
        record.response = roundtrip(connection)
    except BaseException:
        connection.close()
        raise
    _settle(pool, key, connection)


def _settle(pool: ConnectionPool[Connection] | None, key: PoolKey, connection: Connection) -> None:
    """Give ``connection`` back to ``pool`` when its exchange left it reusable, else close it."""
    if pool is not None and connection.reusable:
        pool.give_back(key, connection)
    else:
        connection.close()
