"""The ``Alt-Svc`` field (RFC 7838 §3): alternative services, such as HTTP/3 over QUIC.

Pure: a field value in, a value out; nothing raises on malformed input.

RFC 7838 §3::

    Alt-Svc       = clear / 1#alt-value
    clear         = %s"clear"; "clear", case-sensitive
    alt-value     = alternative *( OWS ";" OWS parameter )
    alternative   = protocol-id "=" alt-authority
    protocol-id   = token ; percent-encoded ALPN protocol name
    alt-authority = quoted-string ; containing [ uri-host ] ":" port
    parameter     = token "=" ( token / quoted-string )

§3.1 defines the ``ma`` parameter (delta-seconds; 24 hours when absent); the
others (§3.2 ``persist`` among them) are kept as sent. Unknown parameters are
ignored (§3), as are elements that do not parse: each gives an error line, and the
well-formed alternatives are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from .syntax import OWS, QUOTED_STRING, TOKEN, is_token, split_list, unquote
from .uri import is_uri_host

__all__ = ["DEFAULT_MAX_AGE", "AltSvcField", "Alternative", "parse_alt_svc"]

# RFC 7838 §3.1: "If ma is not present, a default of 86400 (24 hours) is used."
DEFAULT_MAX_AGE = 86400

_PARAMETER_RE = re.compile(rf"{OWS};{OWS}({TOKEN})=({TOKEN}|{QUOTED_STRING})")
_ALTERNATIVE_RE = re.compile(rf"({TOKEN})=({QUOTED_STRING})")
# RFC 7838 §3: a protocol-id is a token in which "%" introduces a
# percent-encoded octet (RFC 3986 §2.1) of the ALPN protocol name.
_PCT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_DELTA_SECONDS_RE = re.compile(r"[0-9]+")  # RFC 9111 §1.2.2: delta-seconds = 1*DIGIT


@dataclass(frozen=True)
class Alternative:
    """One ``alt-value``: the ALPN protocol, where it is, and its parameters.

    ``host`` is "" when the alt-authority names no host: the origin's own host
    (RFC 7838 §2.1). ``max_age`` is the ``ma`` parameter as given, None when
    absent (then :data:`DEFAULT_MAX_AGE` applies).
    """

    protocol_id: str  # the ALPN protocol name, percent-decoded: "h3", "h3-29"
    host: str
    port: int
    max_age: int | None = None
    parameters: tuple[tuple[str, str], ...] = ()

    @property
    def freshness(self) -> int:
        """Seconds the alternative is fresh for (RFC 7838 §3.1)."""
        return DEFAULT_MAX_AGE if self.max_age is None else self.max_age

    def authority(self) -> str:
        """``host:port`` as written in the field (without quotes)."""
        return f"{self.host}:{self.port}"

    def __str__(self) -> str:
        text = f'{self.protocol_id}="{self.authority()}"'
        return text + "".join(f"; {name}={value}" for name, value in self.parameters)


@dataclass(frozen=True)
class AltSvcField:
    """A parsed ``Alt-Svc`` field: ``clear``, the well-formed alternatives, the problems."""

    clear: bool
    alternatives: tuple[Alternative, ...]
    errors: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.errors and (self.clear or bool(self.alternatives))


def _protocol_id(raw: str) -> tuple[str | None, str]:
    """The ALPN name of a protocol-id, or None and what is wrong with it."""
    if _PCT_RE.search(raw):
        return None, f"{raw!r}: '%' does not start a percent-encoded octet"
    try:
        return unquote_to_bytes(raw).decode("ascii"), ""
    except UnicodeDecodeError:
        # ALPN names are octets; every one this plugin compares against is ASCII.
        return unquote_to_bytes(raw).decode("latin-1"), ""


def _authority(raw: str) -> tuple[tuple[str, int] | None, str]:
    """(host, port) of an alt-authority's content, or None and what is wrong."""
    host, colon, port = raw.rpartition(":")
    if not colon:
        return None, f'alt-authority "{raw}" has no ":" port'
    if not _DELTA_SECONDS_RE.fullmatch(port) or not 0 < int(port) <= 65535:
        return None, f'alt-authority "{raw}": {port!r} is not a port from 1 to 65535'
    if not is_uri_host(host):
        return None, f'alt-authority "{raw}": {host!r} is not a uri-host (RFC 3986 §3.2.2)'
    if host.startswith("["):
        host = host[1:-1]
    return (host.lower(), int(port)), ""


def _alternative(element: str) -> tuple[Alternative | None, str]:
    match = _ALTERNATIVE_RE.match(element)
    if match is None:
        return None, f'{element!r} is not protocol-id="[host]:port" (RFC 7838 §3)'
    protocol_id, problem = _protocol_id(match.group(1))
    if protocol_id is None:
        return None, problem
    where, problem = _authority(unquote(match.group(2)))
    if where is None:
        return None, problem
    parameters: list[tuple[str, str]] = []
    position = match.end()
    while position < len(element):
        parameter = _PARAMETER_RE.match(element, position)
        if parameter is None:
            rest = element[position:]
            return None, f"{element!r}: {rest!r} is not ';' parameter=value (RFC 7838 §3)"
        value = parameter.group(2)
        value = unquote(value) if value.startswith('"') else value
        parameters.append((parameter.group(1).lower(), value))
        position = parameter.end()
    values = dict(parameters)
    max_age: int | None = None
    if "ma" in values:
        if not _DELTA_SECONDS_RE.fullmatch(values["ma"]):
            return None, f"{element!r}: ma={values['ma']!r} is not delta-seconds (RFC 7838 §3.1)"
        max_age = int(values["ma"])
    host, port = where
    return (
        Alternative(
            protocol_id,
            host,
            port,
            max_age=max_age,
            parameters=tuple(parameters),
        ),
        "",
    )


def parse_alt_svc(value: str) -> AltSvcField:
    """Parse an ``Alt-Svc`` field value (RFC 7838 §3).

    ``clear`` is case-sensitive and stands alone: in a list with
    alternatives it is an error (the value is then neither form of the ABNF).
    An empty value is an error too, since ``1#alt-value`` needs one element.
    """
    elements = split_list(value)
    if not elements:
        return AltSvcField(False, (), ("Alt-Svc is empty: neither clear nor 1#alt-value",))
    if elements == ["clear"]:
        return AltSvcField(True, (), ())
    alternatives: list[Alternative] = []
    errors: list[str] = []
    for element in elements:
        if element == "clear":
            errors.append('"clear" must stand alone: it cannot be listed with alternatives')
            continue
        if is_token(element):
            errors.append(
                f'{element!r} is not an alt-value (only "clear", lower case, stands alone)'
            )
            continue
        alternative, problem = _alternative(element)
        if alternative is None:
            errors.append(problem)
        else:
            alternatives.append(alternative)
    return AltSvcField(False, tuple(alternatives), tuple(errors))
