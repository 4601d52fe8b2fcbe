"""Failures that are already known: fingerprints, the baseline, the gate's decision, two runs.

A failure's **fingerprint** is what stays the same from one run of a fleet
to the next (docs/reference/json-report.md): the deployment's name (its
``name=``; the target's first URL without its port when it has none), the
node (``node``: the address of one node of several; empty for a deployment of
one node), the requirement line
(``h2 GET /v2/orders``) and the failed check's id. Never ports, pytest
item ids or timestamps.

Pure: report documents (as :func:`json.load` gives them) in, values out.
A report is read tolerantly (older and slimmer entries alike): only
``results[].requirement`` (protocol, method, path), ``deployment`` /
``target``, ``checks[].id`` / ``outcome`` and ``verdict`` are relied on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .._waivers import Waiver, entry_urls
from .model import describe
from .schema import Result
from .verdicts import GATED, HOLDING

__all__ = [
    "Baseline",
    "Comparison",
    "Fingerprint",
    "GateDecision",
    "compare",
    "decide",
    "deployment_key",
    "expiring",
    "failing_check_ids",
    "fingerprints",
    "fixed_since",
    "node_key",
    "read_baseline",
    "requirement_key",
]

# The verdicts under which an entry's failed checks are failures of the run
# (a waived or known failure still fails its checks).
FAILING_VERDICTS = frozenset({"failed", *GATED})
# The check id an entry that could not be evaluated counts under, in diffs.
ERROR_CHECK = "(error)"


@dataclass(frozen=True, order=True)
class Fingerprint:
    deployment: str
    node: str
    requirement: str
    check: str

    @property
    def where(self) -> tuple[str, str, str]:
        return (self.deployment, self.node, self.requirement)


def _without_port(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{parts.path.rstrip('/')}"


def _default_names(url: str) -> set[str]:
    """The names a deployment gets without ``name=``: its URL's authority (and path)."""
    parts = urlsplit(url)
    netloc, path = parts.netloc.lower(), parts.path.rstrip("/")
    return {netloc, netloc + path}


def deployment_key(entry: Result) -> str:
    """The entry's deployment as fingerprints name it: ``name=``, else the URL without port."""
    urls = entry_urls(entry)
    name = entry.get("deployment")
    if isinstance(name, str) and name and not (urls and name.lower() in _default_names(urls[0])):
        return name
    return _without_port(urls[0]) if urls else ""


def node_key(entry: Result) -> str:
    """The entry's node as fingerprints name it: its address when it is one of several."""
    node = entry.get("node")
    return node if isinstance(node, str) else ""


def requirement_key(entry: Result) -> str:
    """``h2 GET /v2/orders``: the requirement line without its deadline or headers."""
    return describe(entry, deadline=False)


def failing_check_ids(entry: Result) -> list[str]:
    """The checks that failed the entry: ``failed`` ones; ``warned`` ones under strict.

    A failing verdict with no failed check was failed by should-checks
    (``--upgrade-strict``): its warned checks are the failures.
    """
    if str(entry.get("verdict")) not in FAILING_VERDICTS:
        return []
    checks = [c for c in entry.get("checks") or () if isinstance(c, Mapping)]
    failed = [str(c.get("id")) for c in checks if c.get("outcome") == "failed"]
    return failed or [str(c.get("id")) for c in checks if c.get("outcome") == "warned"]


def fingerprints(entry: Result, *, errors: bool = False) -> list[Fingerprint]:
    """The entry's failures; with ``errors``, one for an entry that could not be evaluated."""
    ids = failing_check_ids(entry)
    if errors and entry.get("verdict") == "error":
        ids = [ERROR_CHECK]
    where = (deployment_key(entry), node_key(entry), requirement_key(entry))
    return [Fingerprint(*where, check) for check in dict.fromkeys(ids)]


@dataclass(frozen=True)
class Baseline:
    """An earlier run's report: when it was evaluated, and what failed in it."""

    as_of: str
    failing: frozenset[Fingerprint]


def _entries(document: object, name: str) -> list[Result]:
    if not isinstance(document, Mapping) or not isinstance(document.get("results"), list):
        raise ValueError(f"{name}: not a pytest-upgrade report (no 'results' list)")
    # Read tolerantly: the fingerprints use a few keys (the module's docstring), with .get.
    results: list[Result] = document["results"]
    entries = [r for r in results if isinstance(r, Mapping)]
    if not all(isinstance(e.get("requirement"), Mapping) for e in entries):
        raise ValueError(f"{name}: a result has no 'requirement' object")
    return entries


def read_baseline(document: object, name: str) -> Baseline:
    """The baseline in a report document; a ValueError naming ``name`` when it is not one."""
    entries = _entries(document, name)
    assert isinstance(document, Mapping)
    as_of = document.get("as_of")
    return Baseline(
        as_of=str(as_of) if as_of else "an unknown date",
        failing=frozenset(f for e in entries for f in fingerprints(e)),
    )


def _where(entry: Result) -> list[Fingerprint]:
    return [Fingerprint(deployment_key(entry), node_key(entry), requirement_key(entry), "")]


@dataclass(frozen=True)
class GateDecision:
    """What waivers and a baseline make of one result's failing checks."""

    verdict: str | None = None  # "waived" or "known"; None: the result's own verdict stands
    waivers: tuple[Waiver, ...] = ()  # the waivers applied
    expired: tuple[Waiver, ...] = ()  # expired waivers that no longer cover a failure
    known: tuple[str, ...] = ()  # failing checks the baseline already had
    new: tuple[str, ...] = ()  # failing checks neither waived nor known
    unneeded: tuple[Waiver, ...] = ()  # waivers whose requirement now passes
    matched: tuple[Waiver, ...] = field(default=(), compare=False)  # every waiver for it

    def reason(self, baseline: Baseline | None) -> str:
        """The xfail reason: the waivers' reasons and expiry, or the baseline's date."""
        parts = [f"waived {w.describe()}" for w in self.waivers]
        if self.known and baseline is not None:
            parts.append(
                f"failing since the baseline of {baseline.as_of} ({', '.join(self.known)})"
            )
        return "; ".join(parts)


def decide(
    entry: Result,
    failing: Sequence[str],
    waivers: Iterable[Waiver],
    baseline: Baseline | None,
    as_of: dt.date,
) -> GateDecision:
    """Each failing check is waived (an unexpired waiver), or stands (an expired one),
    or is known (in the baseline), or is new; the result is waived or known when
    no failing check is new.
    """
    matched = tuple(w for w in waivers if w.covers_requirement(entry))
    used: dict[Waiver, None] = {}
    expired: dict[Waiver, None] = {}
    known: list[str] = []
    new: list[str] = []
    where = (deployment_key(entry), node_key(entry), requirement_key(entry))
    for check in dict.fromkeys(failing):
        covering = [w for w in matched if w.covers(entry, check)]
        active = [w for w in covering if not w.expired(as_of)]
        if active:
            used.setdefault(active[0])
        elif covering:
            expired.update(dict.fromkeys(covering))
            new.append(check)
        elif baseline is not None and Fingerprint(*where, check) in baseline.failing:
            known.append(check)
        else:
            new.append(check)
    verdict = None
    if failing and not new:
        verdict = "known" if known else "waived"
    return GateDecision(
        verdict=verdict,
        waivers=tuple(used),
        expired=tuple(expired),
        known=tuple(known),
        new=tuple(new),
        unneeded=tuple(w for w in matched if _unneeded(w, entry, failing)),
        matched=matched,
    )


def _unneeded(waiver: Waiver, entry: Result, failing: Sequence[str]) -> bool:
    """The waiver's requirement holds now: positive evidence, never a skipped check."""
    if waiver.checks is None:
        return not failing and str(entry.get("verdict")) in HOLDING
    outcomes = {c.get("id"): c.get("outcome") for c in entry.get("checks") or ()}
    return all(outcomes.get(check) == "passed" for check in waiver.checks)


@dataclass(frozen=True)
class Comparison:
    """Two runs side by side: what fails now and did not, what was fixed, what moved."""

    new: tuple[Fingerprint, ...]
    fixed: tuple[Fingerprint, ...]
    still: tuple[Fingerprint, ...]
    added: tuple[tuple[str, str, str], ...]
    gone: tuple[tuple[str, str, str], ...]
    verdicts: Mapping[Fingerprint, str] = field(default_factory=dict)  # the new run's


def compare(old: object, new: object, *, old_name: str, new_name: str) -> Comparison:
    """What changed from ``old`` to ``new`` (ValueError naming an unreadable report).

    A failure of a requirement the new run did not evaluate is not "fixed":
    its requirement is listed as gone.
    """
    old_entries, new_entries = _entries(old, old_name), _entries(new, new_name)
    old_failing = {f for e in old_entries for f in fingerprints(e, errors=True)}
    verdicts = {f: str(e.get("verdict")) for e in new_entries for f in fingerprints(e, errors=True)}
    old_where = {f.where for e in old_entries for f in _where(e)}
    new_where = {f.where for e in new_entries for f in _where(e)}
    return Comparison(
        new=tuple(sorted(set(verdicts) - old_failing)),
        fixed=tuple(sorted(f for f in old_failing - set(verdicts) if f.where in new_where)),
        still=tuple(sorted(old_failing & set(verdicts))),
        added=tuple(sorted(new_where - old_where)),
        gone=tuple(sorted(old_where - new_where)),
        verdicts=verdicts,
    )


def fixed_since(baseline: Baseline, entries: Iterable[Result]) -> list[Fingerprint]:
    """The baseline's failures this run evaluated and no longer has."""
    entries = list(entries)
    evaluated = {f.where for e in entries for f in _where(e)}
    failing = {f for e in entries for f in fingerprints(e)}
    return sorted(f for f in baseline.failing - failing if f.where in evaluated)


def expiring(
    waivers: Iterable[Waiver], as_of: dt.date, *, within: int = 14
) -> list[tuple[Waiver, int]]:
    """The waivers that expire within ``within`` days of ``as_of``, with the days left."""
    soon = [(w, (w.until - as_of).days) for w in waivers]
    return sorted(((w, d) for w, d in soon if 0 <= d <= within), key=lambda p: (p[1], p[0].where))
