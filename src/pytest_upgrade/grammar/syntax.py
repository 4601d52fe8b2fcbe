"""Common syntax components of HTTP fields (RFC 9110 §5.6): tokens, lists, quoted strings.

Pure: a field value or body in, a value out; nothing raises on malformed input.
"""

from __future__ import annotations

import re

# --------------------------------------------------------------------------
# RFC 9110 §5.6: common syntax components

# RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-"
#                        / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
# (DIGIT and ALPHA are ASCII only, RFC 5234 Appendix B.1, hence no \w or \d.)
TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
TOKEN_RE = re.compile(TOKEN)

# RFC 9110 §5.6.3: OWS = *( SP / HTAB )
WHITESPACE = " \t"
OWS = r"[ \t]*"

# RFC 9110 §5.6.4: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
#   qdtext      = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
#   quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
OBS_TEXT = "\x80-\U0010ffff"
QUOTED_STRING = rf'"(?:[\t !#-\[\]-~{OBS_TEXT}]|\\[\t -~{OBS_TEXT}])*"'
QUOTED_PAIR_RE = re.compile(r"\\(.)", re.DOTALL)


def unquote(quoted: str) -> str:
    """The content of a well-formed quoted-string (RFC 9110 §5.6.4).

    "Recipients that process the value of a quoted-string MUST handle a
    quoted-pair as if it were replaced by the octet following the backslash."
    """
    return QUOTED_PAIR_RE.sub(r"\1", quoted[1:-1])


def is_token(text: str) -> bool:
    """True when ``text`` is a token: ``1*tchar`` (RFC 9110 §5.6.2)."""
    return TOKEN_RE.fullmatch(text) is not None


def split_list(value: str) -> list[str]:
    """The elements of a comma-separated list field (RFC 9110 §5.6.1).

    Commas inside a quoted-string (RFC 9110 §5.6.4), backslash quoted-pairs
    included, do not split; quoted strings are kept verbatim. OWS around each
    element is stripped, and empty elements are dropped: "a recipient MUST
    accept lists that contain empty list elements" and does not count them
    (RFC 9110 §5.6.1.2). An unterminated quoted-string runs to the end of the
    value; the element parsers then reject it.
    """
    elements: list[str] = []
    current: list[str] = []
    in_quotes = False
    escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif in_quotes:
            if char == "\\":
                escaped = True
            elif char == '"':
                in_quotes = False
        elif char == '"':
            in_quotes = True
        elif char == ",":
            elements.append("".join(current))
            current = []
            continue
        current.append(char)
    elements.append("".join(current))
    stripped = (element.strip(WHITESPACE) for element in elements)
    return [element for element in stripped if element]
