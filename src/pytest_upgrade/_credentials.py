"""Request headers a user gives the probes, credentials among them, and how they are shown.

Headers come from three places, the later overriding the earlier by name
(field names are case-insensitive, RFC 9110 §5.1): the run's
``--upgrade-header`` lines, a deployment's ``header=`` fields, and a
requirement's own (the marker's ``headers=``, a declared line's
``header=``). A value may refer to the environment as ``${NAME}``: a CI
secret. What is declared is kept as written, references unexpanded; only
the probes get the values (:func:`expand`), and every report shows the
declared form with credentials redacted (:func:`shown_headers`). A
reference to an unset variable is an error naming it, so that an empty
credential is never sent.

Pure, except that :func:`expand` and :func:`check_environment` are handed
the environment to read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from .grammar import is_token

__all__ = [
    "SENSITIVE",
    "Headers",
    "check_environment",
    "expand",
    "merge",
    "parse_header_line",
    "references",
    "shown_headers",
    "validate_header",
]

Headers = tuple[tuple[str, str], ...]

# Fields whose values are credentials (RFC 9110 §11.6.2, §11.7.2; RFC 6265 §5.4):
# never shown, whatever their source.
SENSITIVE = frozenset({"authorization", "proxy-authorization", "cookie"})
REDACTED = "***"

# Request fields a probe may not be told to send: they are connection-specific
# (RFC 9110 §7.6.1, RFC 9113 §8.2.2) or set by the probe itself.
FORBIDDEN = frozenset(
    {
        "connection",
        "upgrade",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "te",
        "host",
        "content-length",
        "http2-settings",
    }
)

_REFERENCE_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# "Bearer ${TOKEN}" or "${TOKEN}": nothing but an auth-scheme and one reference.
_SCHEME_AND_REFERENCE_RE = re.compile(
    r"(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+ +)?\$\{[A-Za-z_][A-Za-z0-9_]*\}"
)


def _bad_value(value: str) -> bool:
    # RFC 9110 §5.5: no CR, LF or NUL in a field value, and no other controls but HTAB;
    # beyond ASCII only obs-text, which the probes' HTTP/1.1 client cannot send either.
    return any(ch in "\r\n\0" or (ord(ch) < 0x20 and ch != "\t") or ord(ch) >= 0x7F for ch in value)


def validate_header(name: object, value: object) -> tuple[str, str]:
    """``(name, value)`` checked as a probe may send it; a ValueError says what is wrong.

    The message never repeats a credential's value.
    """
    if not isinstance(name, str) or not is_token(name):
        raise ValueError(f"header name {name!r} is not a token (RFC 9110 §5.1)")
    if name.lower() in FORBIDDEN:
        # The probes name the target's own host; the bundled server can
        # present another one to the app (server.virtual_host).
        host = (
            ' (for the bundled server, upgrade_server_options={"virtual_host": NAME} sets'
            " the Host the app sees)"
            if name.lower() == "host"
            else ""
        )
        raise ValueError(
            f"header {name!r} cannot be set on a probe: it is connection-specific or set by"
            f" the probe itself; not accepted: {', '.join(sorted(FORBIDDEN))}{host}"
        )
    if not isinstance(value, str) or _bad_value(value):
        shown = "(value not shown)" if name.lower() in SENSITIVE else repr(value)
        raise ValueError(
            f"header {name!r} must have a string value without CR, LF, NUL, controls or"
            f" non-ASCII characters (RFC 9110 §5.5), got {shown}"
        )
    return name, value.strip(" \t")


def parse_header_line(line: str) -> tuple[str, str]:
    """``Name: value`` (curl's ``-H`` form) as a validated header; ValueError if not."""
    name, colon, value = line.partition(":")
    if not colon:
        # The text is not repeated: it may be a credential missing its name.
        raise ValueError("a header is written 'Name: value'; the one given has no ':'")
    return validate_header(name.strip(" \t"), value)


def references(headers: Iterable[tuple[str, str]]) -> list[str]:
    """The environment variables the values refer to (``${NAME}``), in order, once each."""
    found: list[str] = []
    for _, value in headers:
        for variable in _REFERENCE_RE.findall(value):
            if variable not in found:
                found.append(variable)
    return found


def check_environment(headers: Iterable[tuple[str, str]], environ: Mapping[str, str]) -> None:
    """A ValueError naming the first variable referred to that is unset, empty or unsendable."""
    for name, value in headers:
        for variable in _REFERENCE_RE.findall(value):
            if variable not in environ:
                raise ValueError(
                    f"header {name}: ${{{variable}}} is not set in the environment"
                    " (an empty credential is never sent)"
                )
            if not environ[variable]:
                raise ValueError(f"header {name}: ${{{variable}}} is set but empty")
            if _bad_value(environ[variable]):
                raise ValueError(
                    f"header {name}: the value of ${{{variable}}} holds CR, LF, control or"
                    " non-ASCII characters (value not shown)"
                )


def expand(headers: Headers, environ: Mapping[str, str]) -> Headers:
    """``headers`` with every ``${NAME}`` replaced by its value (checked beforehand)."""
    if not any("${" in value for _, value in headers):
        return headers
    return tuple(
        (name, _REFERENCE_RE.sub(lambda m: environ[m[1]], value)) for name, value in headers
    )


def merge(*layers: Headers) -> Headers:
    """The headers of several layers, a later layer's field replacing an earlier one's by name."""
    if sum(1 for layer in layers if layer) <= 1:
        return next((layer for layer in layers if layer), ())
    merged: dict[str, tuple[str, str]] = {}
    for layer in layers:
        for name, value in layer:
            merged.pop(name.lower(), None)
            merged[name.lower()] = (name, value)
    return tuple(merged.values())


def _redact(name: str, value: str) -> str:
    if name.lower() in ("authorization", "proxy-authorization"):
        # RFC 9110 §11.4: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ];
        # the scheme says what kind of credential it was, and is no secret.
        scheme, space, _ = value.partition(" ")
        return f"{scheme} {REDACTED}" if space else REDACTED
    return REDACTED


def shown_headers(sent: Iterable[tuple[str, str]], declared: Headers = ()) -> Headers:
    """``sent`` as reports may show it.

    A field declared with an environment reference is shown as declared
    (``Authorization: Bearer ${API_TOKEN}``): that names the variable and
    holds no secret. Any other credential field is redacted
    (``Authorization: Bearer ***``).
    """
    templates = {name.lower(): value for name, value in declared}
    shown: list[tuple[str, str]] = []
    for name, value in sent:
        template = templates.get(name.lower())
        sensitive = name.lower() in SENSITIVE
        shown_value = value
        if template is not None and _REFERENCE_RE.search(template):
            # A credential's literal parts next to the reference stay hidden
            # ("Basic dXNlcjo${PASS}"); an auth-scheme before it is no secret.
            plain = not sensitive or _SCHEME_AND_REFERENCE_RE.fullmatch(template)
            shown_value = template if plain else _redact(name, template)
        elif sensitive:
            shown_value = _redact(name, value)
        shown.append((name, shown_value))
    return tuple(shown)
