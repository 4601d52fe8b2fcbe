"""Pure parsers for the header fields and bodies the checks read.

Every function takes a field value (``str``) or a body (``bytes``) and returns
a value. None of them does I/O, and none raises on malformed input: what is
wrong is returned as data (an ``errors`` tuple, an ``error`` line, ``None`` or
``False``) so that a check can turn it into a finding with a precise message.

The grammar is the RFCs', cited next to each rule:

- RFC 9110 (HTTP Semantics): tokens, lists, ``Upgrade``, ``Connection``,
  media types, HTTP-dates;
- RFC 9111 (HTTP Caching): ``Cache-Control``;
- RFC 3986 (URI): URI references;
- RFC 7838 (Alternative Services): ``Alt-Svc``;
- RFC 9457 (Problem Details) over RFC 8259 (JSON): problem+json bodies.

Field values are taken as a recipient sees them after field parsing: repeated
field lines combined with ", " (RFC 9110 §5.3). Leading and trailing
whitespace is not part of a field value (RFC 9110 §5.5), so it is ignored.
Non-ASCII characters stand for the ``obs-text`` octets (%x80-FF) they were
decoded from, whatever decoding the client used.
"""

from __future__ import annotations

from .alt_svc import DEFAULT_MAX_AGE, Alternative, AltSvcField, parse_alt_svc
from .dates import parse_calendar_date, parse_http_date
from .fields import (
    ConnectionHeader,
    MediaType,
    UpgradeHeader,
    UpgradeProtocol,
    parse_cache_control,
    parse_connection,
    parse_media_type,
    parse_upgrade,
)
from .problem import ProblemDocument, parse_problem_json
from .syntax import is_token, split_list
from .uri import is_uri_reference
from .websocket import UNASSIGNED_WEBSOCKET_VERSION, WEBSOCKET_GUID, expected_accept

__all__ = [
    "DEFAULT_MAX_AGE",
    "UNASSIGNED_WEBSOCKET_VERSION",
    "WEBSOCKET_GUID",
    "AltSvcField",
    "Alternative",
    "ConnectionHeader",
    "MediaType",
    "ProblemDocument",
    "UpgradeHeader",
    "UpgradeProtocol",
    "expected_accept",
    "is_token",
    "is_uri_reference",
    "parse_alt_svc",
    "parse_cache_control",
    "parse_calendar_date",
    "parse_connection",
    "parse_http_date",
    "parse_media_type",
    "parse_problem_json",
    "parse_upgrade",
    "split_list",
]
