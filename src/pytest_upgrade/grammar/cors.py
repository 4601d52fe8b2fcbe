"""The CORS protocol (Fetch standard §3.2): which requests need a preflight, what a
response must carry for a page's script to read it.

Pure: a request's method and fields, or a response's fields, in; a value out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .fields import parse_media_type
from .syntax import split_list

__all__ = [
    "CorsAnswer",
    "allows_origin",
    "non_safelisted_headers",
    "preflight_allows",
    "preflight_request_headers",
]

# Fetch §2.2.1: "A CORS-safelisted method is a method that is GET, HEAD, or POST."
SAFELISTED_METHODS = frozenset({"GET", "HEAD", "POST"})
# Fetch §2.2.2, CORS-safelisted request-header (the common ones; Range only for bytes=N-).
_SAFELISTED_HEADERS = frozenset({"accept", "accept-language", "content-language", "content-type"})
_SAFELISTED_CONTENT_TYPES = frozenset(
    {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
)
# Set by the user agent, never by a page's script: not part of what the page asks for.
_SET_BY_THE_BROWSER = frozenset({"origin", "user-agent", "host", "cookie"})


def non_safelisted_headers(headers: Iterable[tuple[str, str]]) -> list[str]:
    """The lower-cased names a page's request would list in Access-Control-Request-Headers."""
    names: list[str] = []
    for name, value in headers:
        lower = name.lower()
        if lower in _SET_BY_THE_BROWSER or lower in names:
            continue
        if lower == "content-type":
            media = parse_media_type(value)
            if media is not None and f"{media.type}/{media.subtype}" in _SAFELISTED_CONTENT_TYPES:
                continue
        elif lower in _SAFELISTED_HEADERS and len(value) <= 128:
            continue
        names.append(lower)
    return sorted(names)


def preflight_request_headers(
    method: str, headers: Iterable[tuple[str, str]], origin: str
) -> tuple[tuple[str, str], ...] | None:
    """The fields of the CORS preflight (Fetch §4.8) a page's request would cause, or None.

    A request needs one when its method is not safelisted or it carries a
    header that is not (Fetch §4.1 main fetch, "CORS-preflight flag").
    """
    extra = non_safelisted_headers(headers)
    if method.upper() in SAFELISTED_METHODS and not extra:
        return None
    fields = [("Origin", origin), ("Access-Control-Request-Method", method)]
    if extra:
        fields.append(("Access-Control-Request-Headers", ",".join(extra)))
    return tuple(fields)


@dataclass(frozen=True)
class CorsAnswer:
    """Whether a response lets the page read it, and why not."""

    allowed: bool
    why: str


def allows_origin(
    values: list[str], credentials: list[str], origin: str, *, credentialed: bool
) -> CorsAnswer:
    """The CORS check (Fetch §4.10) of a response's Access-Control-Allow-Origin ``values``.

    ``credentials``: its Access-Control-Allow-Credentials values;
    ``credentialed``: the page's request includes credentials (cookies), so
    ``*`` does not do and ``Access-Control-Allow-Credentials: true`` is needed.
    """
    if not values:
        return CorsAnswer(False, "no Access-Control-Allow-Origin")
    if len(values) > 1:
        # "If allowOrigin is null or failure" (the header parses as one value only).
        return CorsAnswer(False, f"Access-Control-Allow-Origin appears {len(values)} times")
    value = values[0].strip(" \t")
    if value == "*" and not credentialed:
        return CorsAnswer(True, "Access-Control-Allow-Origin: *")
    if value != origin:
        if value == "*":
            return CorsAnswer(
                False, "Access-Control-Allow-Origin: * (not for a credentialed request)"
            )
        return CorsAnswer(False, f"Access-Control-Allow-Origin: {value} (not {origin})")
    if credentialed and credentials != ["true"]:
        return CorsAnswer(
            False,
            f"Access-Control-Allow-Origin: {value} without Access-Control-Allow-Credentials: true",
        )
    return CorsAnswer(True, f"Access-Control-Allow-Origin: {value}")


def _names(values: list[str]) -> set[str]:
    return {item.lower() for value in values for item in split_list(value)}


def preflight_allows(
    status: int,
    fields: dict[str, list[str]],
    *,
    method: str,
    request_headers: list[str],
    origin: str,
    credentialed: bool,
) -> CorsAnswer:
    """Whether a preflight's answer lets the page make its request (Fetch §4.8, steps 6-7).

    ``fields`` maps lower-cased field names to their values.
    """
    if not 200 <= status <= 299:
        # Fetch §4.8: a preflight whose response is not an ok status is a network error.
        return CorsAnswer(False, f"answered {status}, not an ok status (200-299)")
    origin_ok = allows_origin(
        fields.get("access-control-allow-origin", []),
        fields.get("access-control-allow-credentials", []),
        origin,
        credentialed=credentialed,
    )
    if not origin_ok.allowed:
        return origin_ok
    methods = {m.upper() for m in _names(fields.get("access-control-allow-methods", []))}
    wildcard = not credentialed
    if method.upper() not in SAFELISTED_METHODS and not (
        method.upper() in methods or (wildcard and "*" in methods)
    ):
        return CorsAnswer(False, f"Access-Control-Allow-Methods does not list {method}")
    allowed = _names(fields.get("access-control-allow-headers", []))
    for name in request_headers:
        # Fetch §4.8 step 7.7: "*" never stands for Authorization.
        if name not in allowed and not (wildcard and "*" in allowed and name != "authorization"):
            return CorsAnswer(False, f"Access-Control-Allow-Headers does not list {name}")
    return CorsAnswer(True, origin_ok.why)
