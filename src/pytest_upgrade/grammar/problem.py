"""problem+json bodies (RFC 9457 §3) over JSON (RFC 8259).

Pure: a field value or body in, a value out; nothing raises on malformed input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import NoReturn

# --------------------------------------------------------------------------
# RFC 9457 §3: problem+json bodies


@dataclass(frozen=True)
class ProblemDocument:
    """A problem+json body: the JSON object's members, or why there are none.

    Exactly one of ``members`` and ``error`` is None.
    """

    # Left out of the hash: a dict is unhashable, and equal documents still
    # hash equal through ``error``.
    members: dict[str, object] | None = field(hash=False)
    error: str | None


class _NotJson(ValueError):
    """A JSON-like constant that RFC 8259 does not allow."""


def _reject_constant(name: str) -> NoReturn:
    # RFC 8259 §6: "Numeric values that cannot be represented in the grammar
    # below (such as Infinity and NaN) are not permitted." Python's json
    # module accepts them unless told otherwise.
    raise _NotJson(name)


def _json_kind(value: object) -> str:
    """The RFC 8259 §3 name of a JSON value's kind."""
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def parse_problem_json(body: bytes) -> ProblemDocument:
    """Parse a problem details body (RFC 9457 §3). Never raises.

    The body must be a JSON text (RFC 8259) in UTF-8 without a byte order
    mark (RFC 8259 §8.1: "Implementations MUST NOT add a byte order mark"),
    and its top-level value must be an object (RFC 9457 §3: "a problem
    details object"). Every ``error`` is one line saying what is wrong.
    Repeated member names keep the last value (RFC 8259 §4 leaves the
    behaviour unpredictable; this is what Python's json does).
    """
    if not body:
        return ProblemDocument(None, "the body is empty, not a JSON object")
    if body.startswith(b"\xef\xbb\xbf"):
        return ProblemDocument(
            None,
            "the body starts with a UTF-8 byte order mark at byte offset 0 "
            "(RFC 8259 §8.1 forbids it)",
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return ProblemDocument(
            None,
            f"the body is not valid UTF-8 at byte offset {exc.start}: "
            f"{exc.reason} (0x{body[exc.start]:02x})",
        )
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except _NotJson as exc:
        return ProblemDocument(None, f"the body contains {exc}, which is not JSON (RFC 8259 §6)")
    except json.JSONDecodeError as exc:
        return ProblemDocument(
            None, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        )
    except RecursionError:
        return ProblemDocument(None, "the JSON is nested too deeply to parse")
    except ValueError as exc:  # e.g. an integer longer than sys.get_int_max_str_digits()
        reason = " ".join(str(exc).split())
        return ProblemDocument(None, f"the JSON could not be parsed: {reason}")
    if not isinstance(document, dict):
        return ProblemDocument(None, f"the body is a JSON {_json_kind(document)}, not an object")
    return ProblemDocument(document, None)
