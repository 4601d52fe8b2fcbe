"""Reading the report document: what the HTML report and the Markdown summary share.

The document is the JSON report's dict (``--upgrade-report``, typed in
``report.schema``); these helpers take its entries as they are, so that a
report read back from disk renders like the one of the run, and a key an
older report lacks reads as absent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from .._model import requirement_line
from ..checks.catalogue import REGISTRY
from .document import interrupted_line, is_incomplete, natural_key
from .results import not_run_summary
from .schema import Check, Document, Entry, Result, RunCounts
from .verdicts import GATED, HOLDING, OUTCOMES, VERDICTS, WORST_FIRST

__all__ = [
    "TOP_TARGETS",
    "as_of",
    "check_counts",
    "check_ids",
    "deadline_entries",
    "describe",
    "failed_checks",
    "interrupted_note",
    "natural_sorted",
    "node_note",
    "not_run",
    "route_facts",
    "shown_target",
    "shown_verdicts",
    "targets",
    "verdict",
    "verdict_counts",
]


def describe(entry: Result, *, deadline: bool = True) -> str:
    """``h2 GET /v2/orders after=2027-03-01``, as the terminal summary says it
    (:func:`~pytest_upgrade._model.requirement_line`).

    ``deadline=False`` leaves out the ``after=`` part: the line a failure's
    fingerprint names the requirement by.
    """
    requirement = entry.get("requirement") or {}
    return requirement_line(
        str(requirement.get("protocol", "?")),
        str(requirement.get("method", "GET")),
        str(requirement.get("path", "/")),
        requirement.get("after") if deadline else None,
    )


def verdict(entry: Entry) -> str:
    value = str(entry.get("verdict", "error"))
    return value if value in VERDICTS else "error"


def verdict_counts(entries: Iterable[Entry]) -> dict[str, int]:
    counts = dict.fromkeys(WORST_FIRST, 0)
    for entry in entries:
        counts[verdict(entry)] += 1
    return counts


def shown_verdicts(counts: Mapping[str, int]) -> tuple[str, ...]:
    """The verdicts a report lists: all, but waived and known only when there are some."""
    return tuple(v for v in WORST_FIRST if v not in GATED or counts.get(v))


def check_counts(entries: Iterable[Entry]) -> dict[str, int]:
    counts = dict.fromkeys(OUTCOMES, 0)
    for entry in entries:
        for check in entry.get("checks", ()):
            outcome = check.get("outcome")
            if outcome in counts:
                counts[outcome] += 1
    return counts


def check_ids(entries: Iterable[Entry]) -> list[str]:
    """Every check id that ran, in catalogue order (ids the catalogue lacks last)."""
    ids: dict[str, None] = {}
    for entry in entries:
        for check in entry.get("checks", ()):
            ids.setdefault(str(check.get("id")), None)
    order = {check_id: n for n, check_id in enumerate(REGISTRY)}
    return sorted(ids, key=lambda check_id: order.get(check_id, len(order)))


def natural_sorted(texts: Iterable[str]) -> list[str]:
    """In natural order: "n2" before "n10"."""
    return sorted(texts, key=natural_key)


# Targets a report for people names in its headline; more are counted, the list folded.
TOP_TARGETS = 3


def route_facts(entry: Result) -> list[str]:
    """How the probes reached the entry's target (its ``route``), as short phrases:
    ``node 192.0.2.11``, ``through proxy proxy:3128``, ``client certificate PEM``."""
    route = entry.get("route") or {}
    facts = []
    if route.get("address"):
        facts.append(f"node {route['address']}")
    if route.get("proxy"):
        facts.append(f"through proxy {route['proxy'].removeprefix('http://')}")
    if route.get("client_cert"):
        key = f" (key {route['client_key']})" if route.get("client_key") else ""
        facts.append(f"client certificate {route['client_cert']}{key}")
    return facts


def targets(entries: Iterable[Entry]) -> list[str]:
    """The targets the headline names, each with the way there (:func:`shown_target`)."""
    return natural_sorted({shown_target(entry) for entry in entries} - {""})


def shown_target(entry: Result) -> str:
    """``https://a.example through proxy HOST:PORT``: an entry's target as people read it."""
    target = str(entry.get("target", ""))
    proxy = entry.get("route", {}).get("proxy")
    if target and proxy:
        return f"{target} through proxy {proxy.removeprefix('http://')}"
    return target


def node_note(entries: Iterable[Entry]) -> str:
    """ "1 of 3 nodes fails" for one deployment's entries when they are the nodes of several
    (``node``); a node fails when one of its requirements failed or could not be
    evaluated. "" for a deployment of one node."""
    failing: dict[str, bool] = {}
    for entry in entries:
        node = entry.get("node")
        if node:
            failing[node] = failing.get(node, False) or verdict(entry) in ("failed", "error")
    if len(failing) < 2:
        return ""
    bad = sum(failing.values())
    if not bad:
        return f"all {len(failing)} nodes pass"
    return f"{bad} of {len(failing)} nodes {'fails' if bad == 1 else 'fail'}"


def deadline_entries(entries: Sequence[Entry]) -> list[tuple[dt.date, Entry]]:
    """The entries with an ``after=`` deadline, nearest first."""
    dated: list[tuple[dt.date, Entry]] = []
    for entry in entries:
        after = entry.get("requirement", {}).get("after")
        if not after:
            continue
        try:
            dated.append((dt.date.fromisoformat(after), entry))
        except ValueError:
            continue
    return sorted(dated, key=lambda pair: (pair[0], str(pair[1].get("nodeid", ""))))


def not_run(entry: Entry) -> str:
    """ "1 must-check not run: id (reason)" for a passed or warned entry, else ""."""
    skipped = entry.get("not_run") or ()
    if not skipped or verdict(entry) not in HOLDING:
        return ""
    return not_run_summary([(str(c.get("id", "?")), str(c.get("reason", ""))) for c in skipped])


def failed_checks(entry: Entry) -> list[Check]:
    return [c for c in entry.get("checks", ()) if c.get("outcome") == "failed"]


def as_of(document: Document) -> str:
    """The date deadlines were evaluated as of: the document's, else the entries'."""
    value = document.get("as_of")
    if value:
        return str(value)
    dates = {e.get("as_of") for e in document.get("results", ())} - {None}
    return ", ".join(sorted(str(d) for d in dates))


def interrupted_note(document: Document) -> str | None:
    """What an interrupted run's reports say first, or None for a complete run."""
    if not is_incomplete(document):
        return None
    reported = len(document.get("results", ()))
    run = document.get("requirements") or {}
    counts: RunCounts = {
        "reported": reported,
        "selected": run.get("selected", reported),
        "collected": run.get("collected", run.get("selected", reported)),
    }
    return interrupted_line(counts)
