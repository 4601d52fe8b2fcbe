"""Requirement tokens and the validation of what users declare.

A requirement is what a ``requires_upgrade`` marker (or a declarative
line) asks for: a protocol token, and the request to probe with.
Everything here is pure: it turns user input into a :class:`Requirement` or a
``ValueError`` whose message names the bad value and the accepted ones.
"""

from __future__ import annotations

import datetime as dt
import shlex
import urllib.parse
from collections.abc import Mapping
from typing import Any

from ._credentials import parse_header_line, validate_header
from ._model import Requirement
from ._websocket_options import declared_websocket_value, websocket_options
from .grammar import is_token, parse_calendar_date
from .protocols import PROTOCOLS, accepted, protocol_for

__all__ = [
    "canonical_protocol",
    "parse_declared",
    "parse_origin",
    "parse_requirement",
]


_METHOD_NOTE = "a method is a token such as GET or POST (RFC 9110 §9.1)"


def canonical_protocol(token: object) -> str:
    """The canonical token for ``token`` or a ValueError naming the accepted ones.

    Tokens compare case-insensitively, as upgrade tokens do (RFC 9110 §7.8).
    """
    if isinstance(token, str):
        wanted = token.casefold()
        for info in PROTOCOLS.values():
            if wanted in (name.casefold() for name in info.names):
                return info.token
    raise ValueError(f"unknown protocol {token!r}; accepted: {accepted()}")


def parse_requirement(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Requirement:
    """Validate ``requires_upgrade(protocol, *, path, method, headers, after, origin)``.

    A WebSocket requirement also takes ``subprotocols``, and ``origin=False``
    (see :func:`._websocket_options.websocket_options`).
    """
    allowed = ("path", "method", "headers", "after", "origin", "subprotocols")
    if len(args) != 1:
        raise ValueError(
            f"requires_upgrade takes exactly one protocol as its first argument, got {len(args)}"
            f" positional arguments; accepted protocols: {accepted()}"
        )
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ValueError(
            f"requires_upgrade got unknown keyword argument(s) {', '.join(unknown)};"
            f" accepted: {', '.join(allowed)}"
        )
    protocol = canonical_protocol(args[0])
    if kwargs.get("after") is not None and not protocol_for(protocol).legacy_refused:
        raise ValueError(
            f"after= is the date the legacy protocol is refused with 426; {protocol} has no such"
            " date (HTTP/3 is advertised by Alt-Svc, never asked for by a 426): remove after="
        )
    headers, websocket = websocket_options(protocol, _headers(kwargs.get("headers")), kwargs)
    return Requirement(
        protocol=protocol,
        path=_path(kwargs.get("path", "/")),
        method=_method(kwargs.get("method", "GET")),
        headers=headers,
        after=_date(kwargs.get("after")),
        # origin=False (WebSocket: no Origin at all) is websocket_options' own.
        origin=parse_origin(None if kwargs.get("origin") is False else kwargs.get("origin")),
        **websocket,
    )


def parse_origin(value: object) -> str | None:
    """An origin as browsers serialize it (RFC 6454 §6.2): ``scheme://host[:port]``.

    The probes send it byte for byte as ``Origin``, and the Fetch standard's
    CORS check compares ``Access-Control-Allow-Origin`` with it byte for byte,
    so it is refused unless already in that form (lower-case scheme and host,
    no default port, no path).
    """
    if value is None:
        return None
    why = "an origin is scheme://host[:port], as a browser sends it: no path, query or user"
    if not isinstance(value, str):
        raise ValueError(f"origin must be a string, got {type(value).__name__}; {why}")
    parts = urllib.parse.urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        port = -1
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host  # an IPv6 literal (RFC 3986 §3.2.2)
    serialized = f"{parts.scheme}://{host}" if host else ""
    if port is not None and port != {"http": 80, "https": 443}.get(parts.scheme):
        serialized += f":{port}"
    if parts.scheme not in ("http", "https") or value != serialized or port == -1:
        hint = f" (did you mean {serialized!r}?)" if serialized and port != -1 else ""
        raise ValueError(f"origin {value!r} is not a serialized origin{hint}; {why}")
    return value


def _path(value: object) -> str:
    # origin-form request-target: absolute-path [ "?" query ] (RFC 9112 §3.2.1)
    if not isinstance(value, str) or not value.startswith("/"):
        raise ValueError(f"path must be a string starting with '/', got {value!r}")
    if any(ord(ch) <= 0x20 or ord(ch) >= 0x7F for ch in value) or "#" in value:
        raise ValueError(
            f"path {value!r} must be an origin-form request-target: no spaces, control"
            " characters, fragment or non-ASCII (percent-encode them)"
        )
    return value


def _method(value: object) -> str:
    if not isinstance(value, str) or not is_token(value):
        raise ValueError(f"method must be a token, got {value!r}; {_METHOD_NOTE}")
    return value


def _headers(value: object) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise ValueError(f"headers must be a dict of str to str, got {type(value).__name__}")
    return tuple(validate_header(name, field_value) for name, field_value in value.items())


def _date(value: object) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        raise ValueError(f"after must be a date (YYYY-MM-DD), not a datetime: {value!r}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and (day := parse_calendar_date(value)) is not None:
        return day
    raise ValueError(f"after must be a date in the form YYYY-MM-DD, got {value!r}")


def parse_declared(line: str, *, default_origin: str | None = None) -> Requirement:
    """A declarative requirement line: ``PROTOCOL [PATH] [method=M] [after=YYYY-MM-DD]
    [origin=URL] [header="Name: value"]…``.

    For example ``h2 /v2/orders``, ``websocket /ws``,
    ``HTTP/1.1 /legacy after=2027-03-01`` or
    ``h2 /v2/orders header="Authorization: Bearer ${API_TOKEN}"``; a WebSocket
    line also takes ``subprotocols=a,b`` and ``origin=none``. Words are
    split as a shell splits them (quote a header: it holds spaces); ``header=``
    may be given several times. ``default_origin`` (``--upgrade-origin``) is the
    origin of a line without ``origin=``. A ValueError says what is wrong.
    """
    try:
        words = shlex.split(line)
    except ValueError as exc:  # "No closing quotation"
        raise ValueError(f"cannot split the line into words: {exc}") from None
    if not words:
        raise ValueError("empty requirement")
    protocol, rest = words[0], words[1:]
    kwargs: dict[str, Any] = {}
    headers: dict[str, str] = {}
    # A path starts with "/" and may carry a query, "=" included (origin-form,
    # RFC 9112 §3.2.1): only a word that is neither is taken for an option.
    if rest and (rest[0].startswith("/") or "=" not in rest[0]):
        kwargs["path"] = rest.pop(0)
    for word in rest:
        key, sep, value = word.partition("=")
        if sep and key == "header":
            name, field_value = parse_header_line(value)
            if name.lower() in (n.lower() for n in headers):
                raise ValueError(f"header {name!r} is given twice")
            headers[name] = field_value
            continue
        if not sep or key not in ("method", "after", "origin", "subprotocols"):
            raise ValueError(
                f"{word!r} is not an option; after PROTOCOL [PATH] come"
                ' method=M, after=YYYY-MM-DD, origin=URL and header="Name: value"'
                " (WebSocket: subprotocols=a,b, and origin=none for no Origin)"
            )
        if key in kwargs:
            raise ValueError(f"{key}= is given twice")
        kwargs[key] = declared_websocket_value(key, value)
    if headers:
        kwargs["headers"] = headers
    if default_origin is not None:
        kwargs.setdefault("origin", default_origin)
    return parse_requirement((protocol,), kwargs)
