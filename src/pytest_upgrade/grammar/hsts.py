"""``Strict-Transport-Security`` (RFC 6797 §6.1): the HSTS policy of a host.

Pure: a field value in, a value out; nothing raises on malformed input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .syntax import OWS, QUOTED_STRING, TOKEN, unquote

__all__ = ["StsField", "parse_sts"]

# RFC 6797 §6.1:
#   Strict-Transport-Security = "Strict-Transport-Security" ":"
#                               [ directive ]  *( ";" [ directive ] )
#   directive       = directive-name [ "=" directive-value ]
#   directive-name  = token
#   directive-value = token / quoted-string
_DIRECTIVE_RE = re.compile(rf"{OWS}({TOKEN}){OWS}(?:={OWS}({TOKEN}|{QUOTED_STRING}))?{OWS}")
# RFC 6797 §6.1.1: max-age = "max-age" "=" delta-seconds (1*DIGIT, RFC 9111 §1.2.2)
_DELTA_SECONDS_RE = re.compile("[0-9]+")


@dataclass(frozen=True)
class StsField:
    """A parsed ``Strict-Transport-Security`` value; ``error`` says why a UA ignores it."""

    max_age: int | None = None
    include_subdomains: bool = False
    preload: bool = False  # not in RFC 6797: the preload lists' own directive
    error: str = ""


def _directives(value: str) -> list[tuple[str, str | None, str | None]]:
    """(text, lower-cased name, raw value) of each non-empty directive; name None: malformed.

    A ";" inside a quoted-string value does not end the directive.
    """
    found: list[tuple[str, str | None, str | None]] = []
    position = 0
    while position <= len(value):
        match = _DIRECTIVE_RE.match(value, position)
        # the directive (a quoted value may hold ";") runs to the next ";"
        after = value.find(";", match.end() if match else position)
        end = len(value) if after < 0 else after
        if match is not None and value[match.end() : end].strip(" \t"):
            match = None
        text = value[position:end]
        if match is not None:
            found.append((text, match[1].lower(), match[2]))
        elif text.strip(" \t"):
            found.append((text, None, None))
        position = end + 1
    return found


def parse_sts(value: str) -> StsField:
    """Parse one ``Strict-Transport-Security`` field value.

    The UA processes only the first field when several arrive (RFC 6797
    §8.1), so the caller passes that one. A value that does not conform is
    ignored by the UA (§8.1): ``error`` says why.
    """
    seen: dict[str, str | None] = {}
    for part, name, raw in _directives(value):
        if name is None:
            return StsField(error=f"{part.strip()!r} is not a directive (token [= value])")
        if name in seen:
            # §6.1: "All directives MUST appear only once in an STS header field."
            return StsField(error=f"the {name} directive appears more than once")
        seen[name] = unquote(raw) if raw is not None and raw.startswith('"') else raw
    if "max-age" not in seen:
        return StsField(error="the required max-age directive is missing (RFC 6797 §6.1.1)")
    max_age = seen["max-age"]
    if max_age is None:
        return StsField(error="max-age has no value")
    if _DELTA_SECONDS_RE.fullmatch(max_age) is None:
        return StsField(error=f"max-age={max_age} is not a number of seconds")
    # §6.1.2: includeSubDomains is valueless; a value is ignored like an unknown part.
    return StsField(
        max_age=int(max_age),
        include_subdomains="includesubdomains" in seen,
        preload="preload" in seen,
    )
