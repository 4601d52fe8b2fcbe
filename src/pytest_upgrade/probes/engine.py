r"""The probes' threads and the per-host connection limit: :class:`ProbeEngine`.

One engine per pytest session (per worker under pytest-xdist). It runs
:class:`ProbePlan`\ s: the probes a protocol planned for one requirement
(``protocols.planning``), independent connections, which it runs on its
thread pool, every probe holding one of its host's slots while it runs
(the host it connects to: a deployment's https and cleartext hosts each
count), so that at most ``host_limit`` connections are open at once to one
host, however many requirements are in flight (``glue.ahead`` decides which).

A probe's own deadline starts when the probe starts, after its slot was
granted: waiting for a slot never eats into a probe's timeout.

With ``reuse``, the probes share kept-alive connections where a real client
would (:mod:`.reuse`): the engine's :class:`~.reuse.ConnectionPool` is lent to
every probe it runs, and also counts the idle connections against the host's
limit.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from .connection import Connection
from .endpoint import Endpoint
from .pool import ProbePool
from .reuse import ConnectionPool, lending
from .spec import ConnectionSpec
from .target import HandshakeCache, HandshakeProbe, Made, Probe, Target

__all__ = ["DEFAULT_HOST_LIMIT", "Job", "ProbeEngine", "ProbePlan", "host_of", "probe_host"]

# Connections at once to one host: a few, as browsers keep (RFC 9112 §9.4
# asks clients to limit them; 6 to 8 is common practice).
DEFAULT_HOST_LIMIT = 8
# Threads per requirement in flight: a plan has two to four probes.
_THREADS_PER_REQUIREMENT = 4
_MIN_THREADS = 8

Host = tuple[str, int]


@dataclass(frozen=True)
class ProbePlan:
    """The probes of one requirement, in the order their records are kept, and the
    target they go to (a probe whose endpoint cannot be told counts against its host)."""

    probes: tuple[Probe, ...]
    target: Target


def host_of(target: Target) -> Host:
    """The host a target's probes count against: its https (else http) host and port,
    or the node's address and that port (each node of a pool has its own slots)."""
    endpoint = target.primary
    return ((target.address_for(endpoint) or endpoint.host).lower(), endpoint.port)


def _peer_of(probe: object) -> Host | None:
    """Where a probe connects, where it says: its spec's peer (a handshake's, or the
    first spec or endpoint among the arguments of a ``partial`` over a probe function,
    every protocol's plan)."""
    spec = getattr(probe, "spec", None)
    if isinstance(spec, ConnectionSpec):
        host, port = spec.peer
        return (host.lower(), port)
    endpoint = getattr(probe, "endpoint", None)
    if isinstance(endpoint, Endpoint):
        return (endpoint.host.lower(), endpoint.port)
    if isinstance(probe, functools.partial):
        for arg in probe.args:
            if isinstance(arg, ConnectionSpec):
                host, port = arg.peer
                return (host.lower(), port)
            found = (arg.host.lower(), arg.port) if isinstance(arg, Endpoint) else _peer_of(arg)
            if found is not None:
                return found
    return None


def probe_host(probe: Probe, target: Target) -> Host:
    """The host one probe's connection counts against: where it connects (a deployment's
    cleartext host too, a node's address), else the target's primary host."""
    peer = _peer_of(probe)
    return host_of(target) if peer is None else peer


class Job:
    """The probes of one plan, submitted to the engine."""

    def __init__(self, size: int, on_done: Callable[[Job], None] | None) -> None:
        self.futures: list[Future[Made]] = []
        self.started_at = dt.datetime.now(dt.UTC)
        self._left = size
        self._lock = threading.Lock()
        self._on_done = on_done
        self.finished = threading.Event()
        if not size:
            self._finish()

    def probe_done(self) -> None:
        """Called by each of its probes when it ends (a probe cancelled before it ran is not)."""
        with self._lock:
            self._left -= 1
            last = self._left == 0
        if last:
            self._finish()

    def _finish(self) -> None:
        self.finished.set()
        if self._on_done is not None:
            self._on_done(self)

    def done(self) -> bool:
        return self.finished.is_set()

    def records(self) -> list[Made]:
        """What each probe recorded, in the plan's order (waits for them; re-raises a
        probe's bug)."""
        return [f.result() for f in self.futures]

    def cancel(self) -> None:
        """Cancel the probes not started yet; those running finish within their timeout."""
        for future in self.futures:
            future.cancel()


class ProbeEngine:
    """Runs probes on a thread pool, at most ``host_limit`` at once per host."""

    def __init__(
        self,
        *,
        timeout: float,
        concurrency: int = 1,
        host_limit: int = 0,
        handshakes: HandshakeCache | None = None,
        reuse: bool = False,
    ) -> None:
        self.timeout = timeout
        self.handshakes = handshakes
        self.concurrency = concurrency
        self.host_limit = host_limit or DEFAULT_HOST_LIMIT
        # Kept-alive connections shared by the probes; None: each probe its own.
        self.connections: ConnectionPool[Connection] | None = (
            ConnectionPool(self.host_limit) if reuse else None
        )
        self._executor: ProbePool | None = None
        self._slots: dict[Host, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()
        self._closed = False

    @property
    def executor(self) -> ProbePool:
        if self._executor is None:
            workers = max(_MIN_THREADS, _THREADS_PER_REQUIREMENT * self.concurrency)
            self._executor = ProbePool(
                max_workers=workers, thread_name_prefix="pytest-upgrade-probe"
            )
        return self._executor

    def _slot(self, host: Host) -> threading.BoundedSemaphore:
        with self._lock:
            slot = self._slots.get(host)
            if slot is None:
                slot = self._slots[host] = threading.BoundedSemaphore(self.host_limit)
            return slot

    def submit(self, plan: ProbePlan, on_done: Callable[[Job], None] | None = None) -> Job:
        """Start the probes of ``plan``; then ``on_done(job)`` runs, in a pool thread.

        TLS version handshakes are answered through the session's cache when
        the engine has one (``handshakes``).
        """
        if self._closed:
            raise RuntimeError("the probe engine is closed")
        job = Job(len(plan.probes), on_done)

        def gated(probe: Probe) -> Made:
            # Each probe holds a slot of the host it connects to: a deployment's
            # https and http hosts are counted apart, each within the limit.
            try:
                with self._slot(probe_host(probe, plan.target)), lending(self.connections):
                    return self._cached(probe)()
            finally:
                job.probe_done()

        job.futures = [self.executor.submit(functools.partial(gated, p)) for p in plan.probes]
        return job

    def _cached(self, probe: Probe) -> Probe:
        if self.handshakes is not None and isinstance(probe, HandshakeProbe):
            return functools.partial(self.handshakes.handshake, probe)
        return probe

    def hang_up(self) -> None:
        """Close the idle kept-alive connections (a probe that runs later opens its own)."""
        if self.connections is not None:
            self.connections.close()

    def close(self, *, wait: float | None = None) -> None:
        """Cancel the probes not started; wait for those running (each ends within its
        timeout), at most ``wait`` seconds, then abandon them: their threads do not
        hold up the exit."""
        self._closed = True
        if self._executor is not None:
            self._executor.shutdown(wait=wait)
            self._executor = None
        self.hang_up()
