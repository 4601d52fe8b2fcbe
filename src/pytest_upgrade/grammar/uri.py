"""URI references (RFC 3986 §4.1), built from the collected ABNF of its Appendix A.

Pure: a field value or body in, a value out; nothing raises on malformed input.
"""

from __future__ import annotations

import re

# --------------------------------------------------------------------------
# RFC 3986 §4.1: URI-reference, built from the collected ABNF of Appendix A

_UNRESERVED = r"A-Za-z0-9\-._~"  # §2.3
_SUB_DELIMS = r"!$&'()*+,;="  # §2.2
_PCT_ENCODED = "%[0-9A-Fa-f]{2}"  # §2.1
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT_ENCODED})"  # §3.3
_SCHEME = r"[A-Za-z][A-Za-z0-9+\-.]*"  # §3.1

# §3.2.2: host = IP-literal / IPv4address / reg-name
_DEC_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9][0-9]|[0-9])"
_IPV4_ADDRESS = rf"{_DEC_OCTET}(?:\.{_DEC_OCTET}){{3}}"
_H16 = "[0-9A-Fa-f]{1,4}"
_LS32 = rf"(?:{_H16}:{_H16}|{_IPV4_ADDRESS})"
_IPV6_ADDRESS = (
    "(?:"
    + "|".join(
        [
            rf"(?:{_H16}:){{6}}{_LS32}",
            rf"::(?:{_H16}:){{5}}{_LS32}",
            rf"(?:{_H16})?::(?:{_H16}:){{4}}{_LS32}",
            rf"(?:(?:{_H16}:){{0,1}}{_H16})?::(?:{_H16}:){{3}}{_LS32}",
            rf"(?:(?:{_H16}:){{0,2}}{_H16})?::(?:{_H16}:){{2}}{_LS32}",
            rf"(?:(?:{_H16}:){{0,3}}{_H16})?::{_H16}:{_LS32}",
            rf"(?:(?:{_H16}:){{0,4}}{_H16})?::{_LS32}",
            rf"(?:(?:{_H16}:){{0,5}}{_H16})?::{_H16}",
            rf"(?:(?:{_H16}:){{0,6}}{_H16})?::",
        ]
    )
    + ")"
)
# ABNF literals are case-insensitive (RFC 5234 §2.3), so "v" is also "V".
_IPVFUTURE = rf"[vV][0-9A-Fa-f]+\.[{_UNRESERVED}{_SUB_DELIMS}:]+"
_IP_LITERAL = rf"\[(?:{_IPV6_ADDRESS}|{_IPVFUTURE})\]"
_REG_NAME = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT_ENCODED})*"
_HOST = rf"(?:{_IP_LITERAL}|{_IPV4_ADDRESS}|{_REG_NAME})"
# §3.2: authority = [ userinfo "@" ] host [ ":" port ]
_USERINFO = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT_ENCODED})*"
_AUTHORITY = rf"(?:{_USERINFO}@)?{_HOST}(?::[0-9]*)?"

# §3.3: paths
_SEGMENT = rf"{_PCHAR}*"
_SEGMENT_NZ = rf"{_PCHAR}+"
_SEGMENT_NZ_NC = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}@]|{_PCT_ENCODED})+"
_PATH_ABEMPTY = rf"(?:/{_SEGMENT})*"
_PATH_ABSOLUTE = rf"/(?:{_SEGMENT_NZ}(?:/{_SEGMENT})*)?"
_PATH_NOSCHEME = rf"{_SEGMENT_NZ_NC}(?:/{_SEGMENT})*"
_PATH_ROOTLESS = rf"{_SEGMENT_NZ}(?:/{_SEGMENT})*"

# §3.4 query, §3.5 fragment: *( pchar / "/" / "?" )
_QUERY = rf"(?:{_PCHAR}|[/?])*"
_QUERY_AND_FRAGMENT = rf"(?:\?{_QUERY})?(?:#{_QUERY})?"

# §3: URI = scheme ":" hier-part [ "?" query ] [ "#" fragment ]
_HIER_PART = rf"(?://{_AUTHORITY}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_PATH_ROOTLESS}|)"
_URI = rf"{_SCHEME}:{_HIER_PART}{_QUERY_AND_FRAGMENT}"
# §4.2: relative-ref = relative-part [ "?" query ] [ "#" fragment ]
_RELATIVE_PART = rf"(?://{_AUTHORITY}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_PATH_NOSCHEME}|)"
_RELATIVE_REF = rf"{_RELATIVE_PART}{_QUERY_AND_FRAGMENT}"
# §4.1: URI-reference = URI / relative-ref
_URI_REFERENCE_RE = re.compile(rf"{_URI}|{_RELATIVE_REF}")


def is_uri_reference(text: str) -> bool:
    """True when ``text`` is a URI-reference (RFC 3986 §4.1).

    The empty string is one (an empty relative-ref, "the current document").
    Only ASCII is allowed: an IRI (RFC 3987) with raw non-ASCII characters is
    not a URI reference until they are percent-encoded.
    """
    return _URI_REFERENCE_RE.fullmatch(text) is not None


_HOST_RE = re.compile(_HOST)


def is_uri_host(text: str) -> bool:
    """True when ``text`` is a ``host`` (RFC 3986 §3.2.2): IP-literal, IPv4address or reg-name.

    The empty string is one (an empty reg-name).
    """
    return _HOST_RE.fullmatch(text) is not None
