"""A policy server for client authors: enforce a requirement, record every exchange.

Teams whose clients and SDKs must survive the day an old protocol goes away
start one of these (the ``upgrade_policy_server`` fixture), point their client
at it, and assert on what it recorded: that the client got the 426, upgraded
and retried, and never spoke the old protocol again. Failure messages list
the recorded exchanges.
"""

from __future__ import annotations

import dataclasses
import json
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from .._credentials import shown_headers
from .._requirements import canonical_protocol
from ..protocols import protocol_for
from .body import discard_body
from .bundled import UpgradeServer
from .ca import BundledCA
from .enforce import Enforcer, enforcing_app

__all__ = ["PolicyServer", "RecordedExchange"]

Route = tuple[int, Any]  # (status, JSON-able body or str)


@dataclass(frozen=True)
class RecordedExchange:
    """One request the policy server received, and the status it answered."""

    index: int
    connection: str  # the client's address and port: one per connection
    scheme: str  # "http" or "https"
    http_version: str  # "1.0", "1.1" or "2"
    tls_version: str | None  # "TLSv1.3"; None over cleartext
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]  # Authorization, Cookie, ... redacted
    status: int
    detail: str | None = None  # the problem detail of a 426 the server sent
    # A WebSocket handshake (RFC 6455 §4.1): the subprotocols the client offered,
    # and the one the server selected (None: none, or the handshake was refused).
    subprotocols: tuple[str, ...] = ()
    subprotocol: str | None = None

    @property
    def protocol(self) -> str:
        return f"HTTP/{self.http_version}"

    def describe(self) -> str:
        tls = f" {self.tls_version}" if self.tls_version else ""
        return (
            f"#{self.index} {self.method} {self.path} over {self.protocol} ({self.scheme}{tls},"
            f" connection {self.connection}) -> {self.status}"
        )


# How long a reader of the record waits for the body of a 426 whose status line
# is out (its problem detail); the policy server's own apps send it at once.
_DETAIL_WAIT = 5.0  # s
# The most of a 426's body kept to read its problem detail from (RFC 9457 §3).
_DETAIL_LIMIT = 65536  # bytes


class _Recorder:
    """The record, written on the server's thread and read on the test's.

    An exchange is added when its answer starts, before the server is handed
    the status line; a 426's problem detail is filled in when the app has
    sent its body. Readers wait (at most ``_DETAIL_WAIT``) for those details,
    so a reader never misses an exchange whose status line was sent, and
    sees a 426's detail unless its body is later than that.
    """

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._exchanges: list[RecordedExchange] = []
        self._tls: dict[str, str] = {}
        self._pending: set[int] = set()  # indexes of 426s whose body is still coming

    def connection(self, peer: str, tls_version: str | None) -> None:
        if tls_version:
            with self._lock:
                self._tls[peer] = tls_version

    def add(
        self,
        scope: dict[str, Any],
        status: int,
        *,
        pending: bool = False,
        subprotocol: str | None = None,
    ) -> int:
        """Record the exchange answered ``status``; ``pending``: its detail comes later.

        ``subprotocol``: the one an accepted WebSocket handshake selected.
        """
        client = scope.get("client") or ("?", 0)
        peer = f"{client[0]}:{client[1]}"
        # Credentials the client sent are not kept: the record is printed in failures.
        headers = shown_headers(
            (name.decode("latin-1").lower(), value.decode("latin-1"))
            for name, value in scope.get("headers", ())
        )
        with self._lock:
            index = len(self._exchanges) + 1
            self._exchanges.append(
                RecordedExchange(
                    index=index,
                    connection=peer,
                    scheme=scope["scheme"],
                    http_version=scope["http_version"],
                    tls_version=self._tls.get(peer) if scope["scheme"] == "https" else None,
                    method=_method(scope),
                    path=scope["path"],
                    headers=headers,
                    status=status,
                    subprotocols=tuple(scope.get("subprotocols") or ()),
                    subprotocol=subprotocol,
                )
            )
            if pending:
                self._pending.add(index)
        return index

    def complete(self, index: int, detail: str | None) -> None:
        """The body of exchange ``index`` is all sent: record its problem detail."""
        with self._lock:
            if index in self._pending:
                self._pending.discard(index)
                exchange = self._exchanges[index - 1]
                self._exchanges[index - 1] = dataclasses.replace(exchange, detail=detail)
                self._lock.notify_all()

    def snapshot(self) -> list[RecordedExchange]:
        # Never called on the server's thread (it would wait for itself).
        with self._lock:
            self._lock.wait_for(lambda: not self._pending, timeout=_DETAIL_WAIT)
            return list(self._exchanges)


def _method(scope: dict[str, Any]) -> str:
    if scope["type"] == "http":
        return str(scope["method"])
    # A WebSocket handshake: a GET (RFC 6455 §4.1), over HTTP/2 an extended
    # CONNECT (RFC 8441 §4).
    return "CONNECT" if scope["http_version"] == "2" else "GET"


class _Answer:
    """One exchange's answer as the app hands it to the server, recorded as it starts."""

    def __init__(self, recorder: _Recorder, scope: dict[str, Any]) -> None:
        self._recorder = recorder
        self._scope = scope
        self._index: int | None = None
        self._status = 0
        self._body = bytearray()

    def start(self, status: int, subprotocol: str | None = None) -> int:
        """The status line is about to be handed to the server: record it first."""
        if self._index is None:
            self._status = status
            self._index = self._recorder.add(
                self._scope, status, pending=status == 426, subprotocol=subprotocol
            )
        return self._index

    def body(self, chunk: bytes, *, more: bool) -> None:
        if self._status == 426 and len(self._body) < _DETAIL_LIMIT:
            self._body.extend(chunk[: _DETAIL_LIMIT - len(self._body)])
        if not more:
            self.end()

    def end(self) -> None:
        """The app is done with this answer (idempotent)."""
        # An app that ends without answering gets hypercorn's 500, sent after
        # the app has returned: recorded here, before it.
        index = self.start(500)
        detail = _detail(bytes(self._body)) if self._status == 426 else None
        self._recorder.complete(index, detail)


class _RecordingApp:
    """Records every HTTP exchange and WebSocket handshake (the request, the status).

    Each is recorded when the app starts its answer, before the message is
    passed to the server: a client that has read the status line finds the
    exchange on the record, even if the body has not been sent yet.
    """

    def __init__(self, app: Callable[..., Any], recorder: _Recorder) -> None:
        self._app = app
        self._recorder = recorder

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        answer = _Answer(self._recorder, scope)

        async def watched_send(message: dict[str, Any]) -> None:
            kind = message["type"]
            if kind in ("http.response.start", "websocket.http.response.start"):
                answer.start(int(message["status"]))
            elif kind in ("http.response.body", "websocket.http.response.body"):
                answer.body(message.get("body", b""), more=message.get("more_body", False))
            elif kind == "websocket.accept":
                # What hypercorn sends for it: 101 (RFC 6455 §4.2.2), over HTTP/2
                # a 200 (RFC 8441 §5).
                answer.start(
                    200 if scope["http_version"] == "2" else 101, message.get("subprotocol")
                )
            elif kind == "websocket.close":
                # Before accepting, the ASGI spec's 403; after, a close frame
                # (the handshake is on the record already: start() ignores it).
                answer.start(403)
            await send(message)

        try:
            await self._app(scope, receive, watched_send)
        finally:
            answer.end()


def _detail(body: bytes) -> str | None:
    try:
        problem = json.loads(body)
    except ValueError:
        return None
    detail = problem.get("detail") if isinstance(problem, dict) else None
    return detail if isinstance(detail, str) else None


# RFC 6797: a policy that retires cleartext keeps clients on https with HSTS (a year).
_HSTS = (b"strict-transport-security", b"max-age=31536000")


def _routes_app(routes: Mapping[str, Route], *, hsts: bool) -> Callable[..., Any]:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await discard_body(receive)  # answered before it is read, the client may not see it
        route = routes.get(scope["path"])
        if route is None:
            status, body = 200, {"path": scope["path"], "http_version": scope["http_version"]}
        else:
            status, body = route
        if isinstance(body, str):
            payload, content_type = body.encode(), b"text/plain; charset=utf-8"
        else:
            payload, content_type = json.dumps(body).encode(), b"application/json"
        headers = [(b"content-type", content_type)]
        if hsts and scope["scheme"] == "https":
            headers.append(_HSTS)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    return app


class PolicyServer:
    """A bundled server that enforces ``requirement`` and records every exchange.

    ``routes`` maps a path to ``(status, body)`` (a str body is text/plain, any
    other is JSON); every other path answers 200 with its path and protocol.
    For a TLS requirement the https answers carry HSTS (RFC 6797).
    """

    def __init__(
        self,
        requirement: str,
        routes: Mapping[str, Route] | None = None,
        *,
        tls_minimum: ssl.TLSVersion | None = None,
    ) -> None:
        self.requirement = canonical_protocol(requirement)
        if not protocol_for(self.requirement).legacy_refused:
            raise ValueError(
                f"the policy server cannot enforce {self.requirement}: no 426 can ask for it"
                " (HTTP/3 is advertised by Alt-Svc)"
            )
        self._recorder = _Recorder()
        self._enforcer = Enforcer(session=(self.requirement,))
        app = _RecordingApp(
            enforcing_app(
                _routes_app(
                    routes or {}, hsts=protocol_for(self.requirement).https_redirect_stands_in
                ),
                self._enforcer,
                asgi=True,
            ),
            self._recorder,
        )
        if tls_minimum is None:
            minimum = protocol_for(self.requirement).server_tls_minimum
            tls_minimum = minimum or ssl.TLSVersion.TLSv1_2
        self.ca = BundledCA()
        try:
            self._server = UpgradeServer(
                app,
                ca=self.ca,
                tls_minimum=tls_minimum,
                on_connection=self._recorder.connection,
                h3=False,  # it enforces what a 426 can ask for; HTTP/3 is not among them
            )
            self._server.start()
        except BaseException:
            self.ca.close()
            raise

    # -- where it is -------------------------------------------------------------

    @property
    def https_url(self) -> str:
        return self._server.https_url

    @property
    def http_url(self) -> str:
        return self._server.http_url

    @property
    def ca_pem(self) -> str:
        return str(self.ca.ca_pem)

    def ssl_context(self) -> ssl.SSLContext:
        """A new client context trusting the server's CA (one per client)."""
        return self.ca.ssl_context()

    def stop(self) -> None:
        try:
            self._server.stop()
        finally:
            self.ca.close()

    # -- what it saw --------------------------------------------------------------

    @property
    def exchanges(self) -> list[RecordedExchange]:
        return self._recorder.snapshot()

    def transcript(self) -> str:
        exchanges = self.exchanges
        if not exchanges:
            return "  (no request reached the policy server)"
        return "\n".join(f"  {exchange.describe()}" for exchange in exchanges)

    def _fail(self, message: str) -> NoReturn:
        __tracebackhide__ = True
        raise AssertionError(
            f"{message}\npolicy server enforcing {self.requirement}, exchanges:\n"
            f"{self.transcript()}"
        )

    def refused(self) -> list[RecordedExchange]:
        return [e for e in self.exchanges if e.status == 426]

    def upgraded(self) -> list[RecordedExchange]:
        """Exchanges the policy let through (made over the required protocol)."""
        return [e for e in self.exchanges if e.status != 426]

    # -- assertions ----------------------------------------------------------------

    def assert_retried_after_426(self, path: str | None = None, method: str | None = None) -> None:
        """The client got a 426 and then made the same request over the required protocol."""
        __tracebackhide__ = True
        exchanges = self.exchanges
        for refused in (e for e in exchanges if e.status == 426):
            if (path is not None and refused.path != path) or (
                method is not None and refused.method != method
            ):
                continue
            retried = [
                e
                for e in exchanges[refused.index :]
                if e.status != 426 and (e.method, e.path) == (refused.method, refused.path)
            ]
            if retried:
                return
        what = f"{method or 'any method'} {path or 'any path'}"
        self._fail(f"no retry over {self.requirement} after a 426 was seen for {what}")

    def assert_no_request_over(self, protocol: str) -> None:
        """No request used ``protocol``: "HTTP/1.0", "HTTP/1.1", "HTTP/2", "http" (cleartext)
        or a TLS version such as "TLSv1.2"."""
        __tracebackhide__ = True
        used = [e for e in self.exchanges if protocol in (e.protocol, e.scheme, e.tls_version)]
        if used:
            self._fail(f"{len(used)} request(s) were made over {protocol}")

    def assert_only_upgraded_after_426(self) -> None:
        """Once refused, the client never spoke the legacy protocol again."""
        __tracebackhide__ = True
        exchanges = self.exchanges
        first = next((e for e in exchanges if e.status == 426), None)
        if first is None:
            self._fail("the client was never refused, so it never had to upgrade")
        again = [e for e in exchanges[first.index :] if e.status == 426]
        if again:
            self._fail(f"the client spoke the legacy protocol again after #{first.index}'s 426")

    def problem_detail(self, path: str | None = None) -> str:
        """The ``detail`` of the last 426 problem sent (for ``path``, if given).

        A client that surfaces refusals should show this text to its user.
        """
        __tracebackhide__ = True
        details = [
            e.detail
            for e in self.exchanges
            if e.status == 426 and e.detail and (path is None or e.path == path)
        ]
        if not details:
            self._fail(f"no 426 was sent{f' for {path}' if path else ''}")
        return details[-1]
