"""The shape of one result entry of the JSON report, checked before it is merged.

``python -m pytest_upgrade merge`` reads reports from disk, where a hand-edited
or truncated entry would otherwise surface as a ``TypeError`` deep in the HTML
or Markdown renderer. :func:`entry_problem` says in one line what is wrong
with an entry; the keys and types are those docs/reference/json-report.md
documents and the renderers read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..grammar import parse_calendar_date
from .verdicts import OUTCOMES, VERDICTS

__all__ = ["entry_problem"]


# key: (required, what it must be, a test of the value)
_Rule = tuple[bool, str, Callable[[Any], bool]]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON true is no number


def _is_date(value: object) -> bool:
    return isinstance(value, str) and parse_calendar_date(value) is not None


_ENTRY: dict[str, _Rule] = {
    "nodeid": (True, "a string", lambda v: isinstance(v, str)),
    "verdict": (True, f"one of {', '.join(VERDICTS)}", lambda v: v in VERDICTS),
    "requirement": (True, "an object", lambda v: isinstance(v, Mapping)),
    "target": (False, "a string", lambda v: isinstance(v, str)),
    "checks": (False, "a list", lambda v: isinstance(v, list)),
    "as_of": (False, "a date YYYY-MM-DD or null", lambda v: v is None or _is_date(v)),
    "days_left": (False, "a whole number or null", lambda v: v is None or _is_int(v)),
    "error": (False, "a string", lambda v: isinstance(v, str)),
    "outcome": (False, "a string", lambda v: isinstance(v, str)),
    "deployment": (False, "a string", lambda v: isinstance(v, str)),
    "route": (False, "an object", lambda v: isinstance(v, Mapping)),
    "exchanges": (False, "a list", lambda v: isinstance(v, list)),
    "handshakes": (False, "a list", lambda v: isinstance(v, list)),
    "reproduce": (False, "a list", lambda v: isinstance(v, list)),
}
_REQUIREMENT: dict[str, _Rule] = {
    "protocol": (True, "a string", lambda v: isinstance(v, str)),
    "method": (True, "a string", lambda v: isinstance(v, str)),
    "path": (True, "a string", lambda v: isinstance(v, str)),
    "after": (False, "a date YYYY-MM-DD or null", lambda v: v is None or _is_date(v)),
    "headers": (False, "an object", lambda v: isinstance(v, Mapping)),
}
_CHECK: dict[str, _Rule] = {
    "id": (True, "a string", lambda v: isinstance(v, str)),
    "outcome": (True, f"one of {', '.join(OUTCOMES)}", lambda v: v in OUTCOMES),
    "severity": (True, "a string", lambda v: isinstance(v, str)),
    "message": (True, "a string", lambda v: isinstance(v, str)),
    **{
        key: (False, "a string", lambda v: isinstance(v, str))
        for key in ("rfc", "expected", "actual", "diagnosis")
    },
}


def _problem(value: Mapping[str, Any], shape: dict[str, _Rule], where: str) -> str:
    for key, (required, what, valid) in shape.items():
        if key not in value:
            if required:
                return f"{where}{key!r} is missing"
            continue
        if not valid(value[key]):
            return f"{where}{key!r} is {value[key]!r}, not {what}"
    return ""


def entry_problem(entry: Mapping[str, Any], as_of: str) -> str | None:
    """What is wrong with one result entry of a report judged as of ``as_of``, or None."""
    problem = _problem(entry, _ENTRY, "")
    if not problem:
        problem = _problem(entry["requirement"], _REQUIREMENT, "requirement.")
    for n, check in enumerate(entry.get("checks", ()) if not problem else ()):
        if not isinstance(check, Mapping):
            problem = f"checks[{n}] is not an object"
        else:
            problem = _problem(check, _CHECK, f"checks[{n}].")
        if problem:
            break
    if not problem and entry.get("as_of") not in (None, as_of):
        # One run judges one date (the controller's, under pytest-xdist).
        problem = f"judged as of {entry['as_of']}, the report as of {as_of}"
    return problem or None
