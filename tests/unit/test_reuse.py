"""probes.reuse.ConnectionPool's bookkeeping, over socket pairs (no network)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from pytest_upgrade.probes import reuse
from pytest_upgrade.probes.connection import Connection, Deadline, ProbeError
from pytest_upgrade.probes.endpoint import ClientTrust, Endpoint
from pytest_upgrade.probes.reuse import ConnectionPool, PoolKey, idempotent, lending, lent
from pytest_upgrade.probes.spec import ConnectionSpec

PEER = ("example.test", 443)


def _key(peer: tuple[str, int] = PEER, kind: str = "http/1.1") -> PoolKey:
    return PoolKey(kind, "https", peer[0], peer, ("http/1.1",), None, None, None)


@pytest.fixture
def pairs() -> Iterator[list[socket.socket]]:
    """Both ends of the connections a test makes; all closed afterwards."""
    ends: list[socket.socket] = []
    yield ends
    for end in ends:
        end.close()


def _opened(pool: ConnectionPool, pairs: list[socket.socket], peer: tuple[str, int] = PEER):
    """A connection counted by ``pool`` as :meth:`Connection.open` counts one."""
    ours, theirs = socket.socketpair()
    pairs.extend((theirs, ours))
    pool.opening(peer)
    connection = Connection(ours, Deadline(1))
    connection._pool, connection._peer = pool, peer
    return connection


def test_a_quiet_connection_given_back_is_taken_again(pairs: list[socket.socket]) -> None:
    pool = ConnectionPool(host_limit=4)
    connection = _opened(pool, pairs)
    pool.give_back(_key(), connection)
    assert pool.take(_key(kind="h2")) is None  # another kind
    assert pool.take(_key()) is connection
    assert pool.take(_key()) is None  # taken: no longer idle
    assert (pool.opened, pool.reused, pool.open_to(PEER)) == (1, 1, 1)


def test_a_connection_with_something_to_read_is_closed_not_taken(
    pairs: list[socket.socket],
) -> None:
    pool = ConnectionPool(host_limit=4)
    connection = _opened(pool, pairs)
    pool.give_back(_key(), connection)
    pairs[0].close()  # the server closed it (a GOAWAY or a late byte reads the same)
    assert pool.take(_key()) is None
    assert pool.open_to(PEER) == 0


def test_a_connection_idle_too_long_is_closed_not_taken(
    pairs: list[socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = ConnectionPool(host_limit=4)
    pool.give_back(_key(), _opened(pool, pairs))
    monkeypatch.setattr(reuse, "IDLE_SECONDS", -1.0)
    assert pool.take(_key()) is None
    assert pool.open_to(PEER) == 0


def test_at_the_host_limit_the_longest_idle_connection_is_closed(
    pairs: list[socket.socket],
) -> None:
    pool = ConnectionPool(host_limit=2)
    first, second = _opened(pool, pairs), _opened(pool, pairs)
    other = _opened(pool, pairs, peer=("other.test", 443))
    for connection in (first, second, other):
        pool.give_back(_key(connection._peer), connection)
    pool.opening(PEER)  # a third to PEER: its oldest idle one goes
    assert pool.open_to(PEER) == 2
    assert first._closed
    assert not second._closed
    assert not other._closed  # another host's connections do not count
    assert pool.take(_key()) is second


def test_closing_the_pool_closes_the_idle_and_refuses_more(pairs: list[socket.socket]) -> None:
    pool = ConnectionPool(host_limit=4)
    idle, busy = _opened(pool, pairs), _opened(pool, pairs)
    pool.give_back(_key(), idle)
    pool.close()
    assert idle._closed
    pool.give_back(_key(), busy)  # its probe ended after the pool closed
    assert busy._closed
    assert pool.open_to(PEER) == 0
    busy.close()  # closing twice counts once
    assert pool.open_to(PEER) == 0


def test_a_socket_that_cannot_be_polled_is_never_taken() -> None:
    pool = ConnectionPool(host_limit=4)

    class Scripted:
        def close(self) -> None:
            pass

    connection = Connection(Scripted(), Deadline(1))  # type: ignore[arg-type]
    pool.give_back(_key(), connection)
    assert pool.take(_key()) is None


def test_only_idempotent_methods_may_go_again() -> None:
    # RFC 9110 §9.2.2; method names are case-sensitive (§9.1).
    assert [idempotent(m) for m in ("GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE")] == [
        True
    ] * 6
    assert [idempotent(m) for m in ("POST", "PATCH", "CONNECT", "get")] == [False] * 4


def test_the_pool_is_lent_for_a_block() -> None:
    pool = ConnectionPool(host_limit=1)
    assert lent() is None
    with lending(pool):
        assert lent() is pool
    assert lent() is None


def test_a_connection_that_could_not_be_made_is_not_counted() -> None:
    def refused(peer: tuple[str, int], timeout: float) -> socket.socket:
        raise ConnectionRefusedError(111, "Connection refused")

    spec = ConnectionSpec(
        Endpoint.from_url("http://example.test:8080"), ClientTrust(), 1, dialer=refused
    )
    pool = ConnectionPool(host_limit=1)
    with lending(pool), pytest.raises(ProbeError, match="Connection refused"):
        Connection.open(spec, Deadline(1))
    assert (pool.opened, pool.open_to(("example.test", 8080))) == (1, 0)
