"""Header fields the checks read: ``Upgrade`` and ``Connection`` (RFC 9110 §7.8, §7.6.1),
media types (RFC 9110 §8.3.1) and ``Cache-Control`` (RFC 9111 §5.2).

Pure: a field value or body in, a value out; nothing raises on malformed input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .syntax import OWS, QUOTED_STRING, TOKEN, TOKEN_RE, WHITESPACE, is_token, split_list, unquote

# --------------------------------------------------------------------------
# RFC 9110 §7.8: Upgrade


@dataclass(frozen=True)
class UpgradeProtocol:
    """One ``protocol`` of an ``Upgrade`` field, as sent (case preserved).

    Protocol names compare case-insensitively; the comparison is the
    caller's, so that reports can show what the server really sent.
    """

    name: str
    version: str | None = None

    def __str__(self) -> str:
        return self.name if self.version is None else f"{self.name}/{self.version}"


@dataclass(frozen=True)
class UpgradeHeader:
    """A parsed ``Upgrade`` field: the well-formed protocols, and the problems."""

    protocols: tuple[UpgradeProtocol, ...]
    errors: tuple[str, ...]

    @property
    def valid(self) -> bool:
        """True when the field is ``1#protocol`` with nothing malformed."""
        return not self.errors and bool(self.protocols)


def _protocol_problem(element: str) -> str | None:
    """Why ``element`` is not ``protocol-name ["/" protocol-version]``, or None.

    RFC 9110 §7.8: protocol = protocol-name ["/" protocol-version], where
    both are tokens; no whitespace is allowed around the "/".
    """
    name, slash, version = element.partition("/")
    if '"' in element:
        return "a quoted-string is not allowed"
    if name.endswith((" ", "\t")) or version.startswith((" ", "\t")):
        return 'whitespace around "/" is not allowed'
    if not name:
        return "the protocol name is empty"
    if slash and not version:
        return "the protocol version is empty"
    if "/" in version:
        return 'more than one "/"'
    for char in name + version:
        if not TOKEN_RE.fullmatch(char):
            return f"{char!r} is not a token character"
    return None


def parse_upgrade(value: str) -> UpgradeHeader:
    """Parse an ``Upgrade`` field value (RFC 9110 §7.8).

    Upgrade = 1#protocol; an empty list is an error, since the field must name
    at least one protocol. Each malformed element gives one error line and is
    left out of ``protocols``; the well-formed ones are kept in order.
    """
    protocols: list[UpgradeProtocol] = []
    errors: list[str] = []
    elements = split_list(value)
    if not elements:
        errors.append("Upgrade lists no protocol")
    for element in elements:
        problem = _protocol_problem(element)
        if problem is None:
            name, slash, version = element.partition("/")
            protocols.append(UpgradeProtocol(name, version if slash else None))
        else:
            errors.append(f'{element!r} is not token ["/" token] ({problem})')
    return UpgradeHeader(tuple(protocols), tuple(errors))


# --------------------------------------------------------------------------
# RFC 9110 §7.6.1: Connection


@dataclass(frozen=True)
class ConnectionHeader:
    """A parsed ``Connection`` field: lower-cased options, and the problems."""

    options: tuple[str, ...]
    errors: tuple[str, ...]


def parse_connection(value: str) -> ConnectionHeader:
    """Parse a ``Connection`` field value (RFC 9110 §7.6.1).

    Connection = #connection-option; connection-option = token. "Connection
    options are case-insensitive", so options are lower-cased. An empty list
    is allowed by ``#``, so it is not an error here.
    """
    options: list[str] = []
    errors: list[str] = []
    for element in split_list(value):
        if is_token(element):
            options.append(element.lower())
        else:
            errors.append(f"{element!r} is not a connection-option token")
    return ConnectionHeader(tuple(options), tuple(errors))


# --------------------------------------------------------------------------
# RFC 9110 §8.3.1: media types


@dataclass(frozen=True)
class MediaType:
    """A parsed media type: type and subtype lower-cased, parameters in order.

    Parameter names are lower-cased and values unquoted; values keep their
    case, since only some parameters (e.g. charset) are case-insensitive.
    """

    type: str
    subtype: str
    parameters: tuple[tuple[str, str], ...] = ()

    @property
    def essence(self) -> str:
        return f"{self.type}/{self.subtype}"


# RFC 9110 §8.3.1: media-type = type "/" subtype parameters
_MEDIA_TYPE_RE = re.compile(rf"({TOKEN})/({TOKEN})")
# RFC 9110 §5.6.6: parameters      = *( OWS ";" OWS [ parameter ] )
#                  parameter       = parameter-name "=" parameter-value
#                  parameter-value = ( token / quoted-string )
# No whitespace is allowed around "=".
_PARAMETER_RE = re.compile(rf"{OWS};{OWS}(?:({TOKEN})=({TOKEN}|{QUOTED_STRING}))?")


def parse_media_type(value: str) -> MediaType | None:
    """Parse a media type such as a ``Content-Type`` value (RFC 9110 §8.3.1).

    Returns None when the value is not ``type "/" subtype parameters``.
    The type, subtype and parameter names are case-insensitive (RFC 9110
    §8.3.1, §5.6.6), so they are lower-cased.
    """
    text = value.strip(WHITESPACE)
    match = _MEDIA_TYPE_RE.match(text)
    if match is None:
        return None
    parameters: list[tuple[str, str]] = []
    position = match.end()
    while position < len(text):
        parameter = _PARAMETER_RE.match(text, position)
        if parameter is None:
            return None
        name, argument = parameter.group(1, 2)
        if name is not None:
            if argument.startswith('"'):
                argument = unquote(argument)
            parameters.append((name.lower(), argument))
        position = parameter.end()
    return MediaType(match.group(1).lower(), match.group(2).lower(), tuple(parameters))


# --------------------------------------------------------------------------
# RFC 9111 §5.2: Cache-Control

# RFC 9111 §5.2: cache-directive = token [ "=" ( token / quoted-string ) ]
_CACHE_DIRECTIVE_RE = re.compile(rf"({TOKEN})(?:=({TOKEN}|{QUOTED_STRING}))?")


def parse_cache_control(value: str) -> dict[str, str | None]:
    """Parse a ``Cache-Control`` field value (RFC 9111 §5.2).

    Cache-Control = #cache-directive. Directive names are case-insensitive
    and lower-cased; a quoted-string argument is unquoted, and a directive
    without argument maps to None. Malformed elements are ignored.

    A repeated directive keeps its first occurrence: for a directive with
    more than one value, RFC 9111 §4.2.1 says "either the first occurrence
    should be used or the response should be considered stale". Callers that
    want the stricter reading can look for duplicates themselves.
    """
    directives: dict[str, str | None] = {}
    for element in split_list(value):
        match = _CACHE_DIRECTIVE_RE.fullmatch(element)
        if match is None:
            continue
        name = match.group(1).lower()
        argument = match.group(2)
        if argument is not None and argument.startswith('"'):
            argument = unquote(argument)
        directives.setdefault(name, argument)
    return directives
