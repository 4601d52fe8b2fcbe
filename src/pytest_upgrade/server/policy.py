"""A policy server for client authors: enforce a requirement, record every exchange.

Teams whose clients and SDKs must survive the day an old protocol goes away
start one of these (the ``upgrade_policy_server`` fixture), point their client
at it, and assert on what it recorded: that the client got the 426, upgraded
and retried, and never spoke the old protocol again. Failure messages list
the recorded exchanges.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from .._credentials import shown_headers
from .._requirements import canonical_protocol
from ..protocols import protocol_for
from .bundled import BundledCA, UpgradeServer
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

    @property
    def protocol(self) -> str:
        return f"HTTP/{self.http_version}"

    def describe(self) -> str:
        tls = f" {self.tls_version}" if self.tls_version else ""
        return (
            f"#{self.index} {self.method} {self.path} over {self.protocol} ({self.scheme}{tls},"
            f" connection {self.connection}) -> {self.status}"
        )


class _Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._exchanges: list[RecordedExchange] = []
        self._tls: dict[str, str] = {}

    def connection(self, peer: str, tls_version: str | None) -> None:
        if tls_version:
            with self._lock:
                self._tls[peer] = tls_version

    def add(self, scope: dict[str, Any], status: int, detail: str | None) -> None:
        client = scope.get("client") or ("?", 0)
        peer = f"{client[0]}:{client[1]}"
        # Credentials the client sent are not kept: the record is printed in failures.
        headers = shown_headers(
            (name.decode("latin-1").lower(), value.decode("latin-1"))
            for name, value in scope.get("headers", ())
        )
        with self._lock:
            self._exchanges.append(
                RecordedExchange(
                    index=len(self._exchanges) + 1,
                    connection=peer,
                    scheme=scope["scheme"],
                    http_version=scope["http_version"],
                    tls_version=self._tls.get(peer) if scope["scheme"] == "https" else None,
                    method=scope["method"],
                    path=scope["path"],
                    headers=headers,
                    status=status,
                    detail=detail,
                )
            )

    def snapshot(self) -> list[RecordedExchange]:
        with self._lock:
            return list(self._exchanges)


class _RecordingApp:
    """Records every HTTP exchange (the request and the status sent)."""

    def __init__(self, app: Callable[..., Any], recorder: _Recorder) -> None:
        self._app = app
        self._recorder = recorder

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        status = 500
        body = bytearray()
        recorded = False

        def record() -> None:
            nonlocal recorded
            if not recorded:
                recorded = True
                detail = _detail(bytes(body)) if status == 426 else None
                self._recorder.add(scope, status, detail)

        async def watched_send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                if status == 426:
                    body.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    # Recorded before the last bytes leave: a client that has
                    # its answer finds the exchange already on the record.
                    record()
            await send(message)

        try:
            await self._app(scope, receive, watched_send)
        finally:
            record()


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
