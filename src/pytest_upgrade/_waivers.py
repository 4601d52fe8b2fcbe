"""Waivers: exceptions to the gate, each with an owner's reason and an expiry.

A waivers file (``--upgrade-waivers=FILE``, ini ``upgrade_waivers``) is TOML
(read with the standard library's :mod:`tomllib`), one ``[[waiver]]`` table
per exception::

    [[waiver]]
    deployment = "payments-eu"       # a deployment's name= or one of its URLs; "*": all
    requirement = "TLS/1.2 /"        # a requirement line: protocol, path [, method=]
    checks = ["tls-legacy-refused"]  # optional: only these checks (else every check)
    node = "192.0.2.11"              # optional: only this node of the deployment
    until = 2027-03-31               # required: the last day it applies
    reason = "OPS-1234 old terminals"  # required

Pure: text in, :class:`Waiver` values out (a :class:`ValueError` naming
FILE:LINE for a bad file); matching takes a result entry as the JSON report
writes it, so that a run and a report read back match alike. tomllib gives
no line numbers: each ``[[waiver]]`` header's line is found by scanning the
text (:func:`header_lines`).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._requirements import parse_declared
from .checks.catalogue import REGISTRY

__all__ = ["Waiver", "entry_urls", "header_lines", "parse_waivers"]

_KEYS = frozenset({"deployment", "requirement", "checks", "node", "until", "reason"})
# A line opening a [[waiver]] table (whitespace allowed inside the brackets, a comment after).
_HEADER = re.compile(r"^\s*\[\[\s*waiver\s*\]\]\s*(#.*)?$")


@dataclass(frozen=True)
class Waiver:
    """One ``[[waiver]]`` table, validated; ``where`` is its FILE:LINE."""

    where: str
    deployment: str
    requirement: str  # as written
    protocol: str
    path: str
    method: str | None  # None: any method (the line named none)
    checks: frozenset[str] | None  # None: every check
    node: str | None
    until: dt.date
    reason: str

    def expired(self, as_of: dt.date) -> bool:
        """Whether the evaluation date is past ``until`` (``until`` itself still applies)."""
        return self.until < as_of

    def covers_requirement(self, entry: Mapping[str, Any]) -> bool:
        """Whether the result entry is this waiver's deployment and requirement."""
        if self.node is not None and entry.get("node") != self.node:
            return False  # a node's waiver covers that node of several only
        requirement = entry.get("requirement") or {}
        if requirement.get("protocol") != self.protocol or requirement.get("path") != self.path:
            return False
        if self.method is not None and requirement.get("method", "GET") != self.method:
            return False
        if self.deployment == "*":
            return True
        if entry.get("deployment") == self.deployment:
            return True
        return _url(self.deployment) in {_url(u) for u in entry_urls(entry)}

    def covers(self, entry: Mapping[str, Any], check_id: str) -> bool:
        return self.covers_requirement(entry) and (self.checks is None or check_id in self.checks)

    def describe(self) -> str:
        """``until 2027-03-31: OPS-1234 old terminals (waivers.toml:3)``."""
        return f"until {self.until.isoformat()}: {self.reason} ({self.where})"


def entry_urls(entry: Mapping[str, Any]) -> list[str]:
    """The URLs of a result entry's target (written ``URL and URL``)."""
    return [u for u in str(entry.get("target") or "").split(" and ") if u]


def _url(url: str) -> str:
    return url.strip().rstrip("/").lower()


def header_lines(text: str) -> list[int]:
    """The 1-based line of each ``[[waiver]]`` header, in order.

    Lines inside multi-line strings are not headers: they are skipped by
    tracking triple quotes, which is all TOML allows to span lines.
    """
    lines: list[int] = []
    quote: str | None = None
    for n, line in enumerate(text.splitlines(), 1):
        if quote is None and _HEADER.match(line):
            lines.append(n)
        for mark in re.findall(r'"""|\'\'\'', line):
            if quote is None:
                quote = mark
            elif quote == mark:
                quote = None
    return lines


def parse_waivers(text: str, path: str) -> tuple[Waiver, ...]:
    """The file's waivers; a ValueError ``PATH:LINE: what is wrong`` otherwise."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_in_message(str(exc))
        where = f"{path}:{line}" if line else path
        raise ValueError(f"{where}: not valid TOML: {_first_clause(str(exc))}") from None
    unknown = sorted(set(data) - {"waiver"})
    if unknown:
        raise ValueError(f"{path}:1: unknown table or key {unknown[0]!r}; expected [[waiver]]")
    tables = data.get("waiver", [])
    if not isinstance(tables, list):
        raise ValueError(f"{path}:1: 'waiver' must be an array of tables: write [[waiver]]")
    lines = header_lines(text)
    if len(lines) != len(tables):  # e.g. waiver = [{...}] inline: no header per table
        lines = [1] * len(tables)
    return tuple(
        _waiver(table, f"{path}:{line}") for table, line in zip(tables, lines, strict=True)
    )


def _line_in_message(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match[1]) if match else None


def _first_clause(message: str) -> str:
    return message.split(" (at ", 1)[0]


def _waiver(table: Mapping[str, Any], where: str) -> Waiver:
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r}; known: {', '.join(sorted(_KEYS))}")
    for key in ("deployment", "requirement", "until", "reason"):
        if key not in table:
            why = {
                "until": " (every waiver expires: until = YYYY-MM-DD)",
                "reason": " (say why, and who owns the fix)",
            }.get(key, "")
            raise ValueError(f"{where}: the waiver has no {key}{why}")
    deployment = _text(table, "deployment", where)
    line = _text(table, "requirement", where)
    reason = _text(table, "reason", where)
    until = table["until"]
    if isinstance(until, dt.datetime) or not isinstance(until, dt.date):
        raise ValueError(f"{where}: until must be a date (until = 2027-03-31), got {until!r}")
    try:
        requirement = parse_declared(line)
    except ValueError as exc:
        raise ValueError(f"{where}: requirement {line!r}: {exc}") from None
    return Waiver(
        where=where,
        deployment=deployment,
        requirement=line,
        protocol=requirement.protocol,
        path=requirement.path,
        method=requirement.method if "method=" in line else None,
        checks=_checks(table.get("checks"), where),
        node=_text(table, "node", where) if "node" in table else None,
        until=until,
        reason=reason,
    )


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: {key} must be a non-empty string, got {value!r}")
    return value.strip()


def _checks(value: object, where: str) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: checks must be a non-empty list of check ids")
    ids: Sequence[str] = value
    unknown = [i for i in ids if i not in REGISTRY]
    if unknown:
        raise ValueError(f"{where}: unknown check id {unknown[0]!r} (docs/checks.md lists the ids)")
    return frozenset(ids)
