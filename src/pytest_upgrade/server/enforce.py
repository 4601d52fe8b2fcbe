"""Enforcement: the bundled server itself refuses legacy requests with a textbook 426.

With ``--upgrade-enforce=h2`` (or the ``upgrade_enforce`` marker) every
request reaching the bundled server over a protocol the requirement retires
is answered, before the app, with 426 + ``Upgrade`` + ``Connection: upgrade``
+ an RFC 9457 problem naming the protocol and the request (and the app's CORS
answer for the request's ``Origin``: ``server.cors``); upgraded requests and
CORS preflights go through to the app unchanged. A team's own functional tests, run this way,
reveal every place that still speaks the old protocol.

The decision (:func:`refusal_for`) is pure; two thin adapters put it in front
of an ASGI or a WSGI app, and :class:`Enforcer` holds what is enforced and
what was refused, shared by the server thread and the test thread.

The probes of a marked test are never answered by the enforcer
(:meth:`Enforcer.probing`): they judge the app, and a 426 the enforcer wrote
would certify its own textbook answer as the app's. A refused request's body
is read (bounded, ``server.body``) before the 426 is sent, so the client
receives it instead of a broken connection.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .._model import Refusal
from ..protocols import protocol_for
from .body import discard_body, discard_wsgi_input
from .cors import asgi_cors_fields, is_preflight, wsgi_cors_fields

__all__ = [
    "Enforcer",
    "Refused",
    "enforcing_app",
    "refusal_for",
]


def refusal_for(enforced: Iterable[str], *, scheme: str, http_version: str) -> Refusal | None:
    """The 426 a request deserves under ``enforced``, or None to let it through.

    ``scheme`` is "http" or "https"; ``http_version`` is "1.0", "1.1" or "2".
    TLS versions are enforced in the handshake (the server's minimum), since a
    refused handshake cannot carry a 426.
    """
    spoken = f"HTTP/{http_version} over {scheme}"
    for token in enforced:
        enforce = protocol_for(token).enforce
        refusal = enforce(scheme, http_version, spoken) if enforce is not None else None
        if refusal is not None:
            return refusal
    return None


@dataclass(frozen=True)
class Refused:
    """One legacy request the enforcing server refused."""

    method: str
    path: str
    spoken: str
    required: str
    test: str  # the nodeid of the test running when it arrived ("" if none)


@dataclass
class Enforcer:
    """What the bundled server enforces now, and what it refused (thread-safe)."""

    session: tuple[str, ...] = ()
    _extra: tuple[str, ...] = ()
    _test: str = ""
    _refused: list[Refused] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _probing: int = 0

    @property
    def enforced_now(self) -> tuple[str, ...]:
        """The tokens enforced now: the session's and the running test's marker's."""
        with self._lock:
            return tuple(dict.fromkeys(self.session + self._extra))

    @property
    def session_tls_minimum(self) -> ssl.TLSVersion | None:
        """The TLS minimum the bundled server needs for the session's enforcement."""
        minimums = [
            minimum
            for token in self.session
            if (minimum := protocol_for(token).server_tls_minimum) is not None
        ]
        return max(minimums, default=None)

    @contextlib.contextmanager
    def probing(self) -> Iterator[None]:
        """While a marked test's probes run, every request reaches the app.

        The bundled server serves one test at a time (probe-ahead is for live
        targets only, ``glue.ahead``), so what arrives now is the probes'.
        """
        with self._lock:
            self._probing += 1
        try:
            yield
        finally:
            with self._lock:
                self._probing -= 1

    def begin_test(self, nodeid: str, extra: Iterable[str] = ()) -> None:
        with self._lock:
            self._test, self._extra = nodeid, tuple(extra)

    def end_test(self) -> list[Refused]:
        """Stop attributing requests to the current test; its refusals."""
        with self._lock:
            test, self._test, self._extra = self._test, "", ()
            mine = [r for r in self._refused if r.test == test]
            self._refused = [r for r in self._refused if r.test != test]
        return mine

    def outside_tests(self) -> list[Refused]:
        """The refusals made outside any test (session- or module-scoped fixtures,
        set up before a test's enforcement began or torn down after it ended)."""
        with self._lock:
            outside = [r for r in self._refused if not r.test]
            self._refused = [r for r in self._refused if r.test]
        return outside

    def decide(self, method: str, path: str, scheme: str, http_version: str) -> Refusal | None:
        """The refusal a request gets, recorded before the caller sends its 426.

        One hold of the lock reads what is enforced and records the refusal:
        ``end_test()`` sees every refusal decided under its test, never one
        half-recorded, and a client that has the 426's status line finds it
        on the record.
        """
        with self._lock:
            if self._probing:
                return None  # a marked test's probe: the app answers it
            active = tuple(dict.fromkeys(self.session + self._extra))
            refusal = refusal_for(active, scheme=scheme, http_version=http_version)
            if refusal is not None:
                refused = Refused(method, path, refusal.spoken, refusal.required, self._test)
                self._refused.append(refused)
        return refusal


AsgiApp = Callable[[dict[str, Any], Any, Any], Any]
WsgiApp = Callable[[dict[str, Any], Any], Iterable[bytes]]


def enforcing_app(app: Any, enforcer: Enforcer, *, asgi: bool) -> Any:
    """``app`` behind the enforcer: an ASGI or WSGI middleware of the same kind."""
    if asgi:
        return _EnforcingASGI(app, enforcer)
    return _EnforcingWSGI(app, enforcer)


# A CORS preflight (Fetch §4.8) goes to the app unrefused; see server.cors.
_PREFLIGHT_KEYS = {
    "HTTP_ORIGIN": "origin",
    "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "access-control-request-method",
}


def _asgi_preflight(scope: dict[str, Any]) -> bool:
    headers = [(k.decode("latin-1"), "") for k, _ in scope.get("headers", ())]
    return is_preflight(scope["method"], headers)


class _EnforcingASGI:
    def __init__(self, app: AsgiApp, enforcer: Enforcer) -> None:
        self._app = app
        self._enforcer = enforcer

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not _asgi_preflight(scope):
            refusal = self._enforcer.decide(
                scope["method"], scope["path"], scope["scheme"], scope["http_version"]
            )
            if refusal is not None:
                await discard_body(receive)
                cors = await asgi_cors_fields(self._app, scope)
                headers = [(k.encode(), v.encode()) for k, v in [*refusal.headers(), *cors]]
                await send({"type": "http.response.start", "status": 426, "headers": headers})
                body = refusal.body(scope["method"], scope["path"])
                await send({"type": "http.response.body", "body": body})
                return
        await self._app(scope, receive, send)


class _EnforcingWSGI:
    def __init__(self, app: WsgiApp, enforcer: Enforcer) -> None:
        self._app = app
        self._enforcer = enforcer

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        protocol = str(environ.get("SERVER_PROTOCOL", "HTTP/1.1"))
        method = str(environ.get("REQUEST_METHOD", "GET"))
        asked = [(_PREFLIGHT_KEYS[k], str(v)) for k, v in environ.items() if k in _PREFLIGHT_KEYS]
        if is_preflight(method, asked):
            return self._app(environ, start_response)
        refusal = self._enforcer.decide(
            str(environ.get("REQUEST_METHOD", "GET")),
            str(environ.get("PATH_INFO", "/")),
            str(environ.get("wsgi.url_scheme", "http")),
            protocol.removeprefix("HTTP/"),
        )
        if refusal is None:
            return self._app(environ, start_response)
        discard_wsgi_input(environ)
        cors = wsgi_cors_fields(self._app, environ)
        start_response("426 Upgrade Required", [*refusal.headers(), *cors])
        return [refusal.body(str(environ.get("REQUEST_METHOD")), str(environ.get("PATH_INFO")))]
