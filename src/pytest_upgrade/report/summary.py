"""The terminal's "upgrade compliance" section, readable for one requirement or 5,000.

Pure: the session's result entries in, lines out. Shown, in this order:

* one line per requirement that did not pass (every line with ``show_all``:
  ``-v`` or ``-rA``, as pytest's own short summary), sorted by node id;
* for a fleet or a deployment of several nodes (``rollup``), a roll-up: one row
  per target that did not pass everything (every target with ``show_all``), its
  counts by verdict, and how many of its nodes fail ("1 of 3 nodes fails");
* the counts by verdict (and how many passed with must-checks not run: those
  are listed too), and how many lines were left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from .document import natural_key
from .model import node_note
from .schema import Entry
from .verdicts import GATED, HOLDING, JUDGED, VERDICTS

__all__ = ["Line", "summary_lines"]


class Line(Entry):
    """A session's entry with the terminal's line for it (``report.results.summary_line``)."""

    summary: str


def summary_lines(entries: Sequence[Line], *, show_all: bool, rollup: bool = False) -> list[str]:
    """The section's lines for ``entries`` (``nodeid``, ``verdict``, ``target``, ``summary``).

    ``rollup`` adds the per-target table (a fleet run: under pytest-xdist a
    bundled server per worker is not a target worth a table).
    """
    # Natural order ("n2" before "n10"), stable: a test's requirements in order.
    ordered = sorted(entries, key=lambda e: natural_key(e["nodeid"]))
    # A pass with must-checks not run is listed like a failure: never a silent green.
    shown = [e for e in ordered if show_all or e["verdict"] != "passed" or _not_run(e)]
    blocks = [[f"{e['summary']}  {e['nodeid']}" for e in shown]]
    if rollup:
        targets: dict[str, Counter[str]] = {}
        grouped: dict[str, list[Line]] = {}
        for entry in ordered:
            # A fleet's deployment by the name its test ids carry, else by its URLs;
            # the nodes of a deployment under it.
            name = entry.get("deployment") or entry["target"]
            targets.setdefault(name, Counter())[entry["verdict"]] += 1
            grouped.setdefault(name, []).append(entry)
        notes = {name: node_note(group) for name, group in grouped.items()}
        blocks.append(_rollup(targets, notes, show_all=show_all))
    counts = Counter(e["verdict"] for e in entries)
    total = len(entries)
    text = f"{total} requirement{'s' if total != 1 else ''}" + (
        ": " + ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v]) if total else ""
    )
    incomplete = sum(1 for e in entries if _not_run(e))
    if incomplete:
        text += f" ({incomplete} with must-checks not run)"
    hidden = total - len(shown)
    if hidden:
        text += f" ({hidden} passed not listed; -v or -rA lists them)"
    blocks.append([text, *_proxy_lines(entries)])
    # One blank line between the blocks that have lines.
    return [line for block in blocks if block for line in ["", *block]][1:]


def _proxy_lines(entries: Sequence[Line]) -> list[str]:
    """``probed through proxy HOST:PORT``: the egress proxies the probes tunnelled through."""
    proxies = Counter(
        proxy.removeprefix("http://") for e in entries if (proxy := e.get("route", {}).get("proxy"))
    )
    if not proxies:
        return []
    if len(proxies) == 1 and sum(proxies.values()) == len(entries):
        return [f"probed through proxy {next(iter(proxies))}"]
    return [f"probed through proxy {p} ({n} of {len(entries)})" for p, n in proxies.items()]


def _not_run(entry: Line) -> bool:
    """Whether a passing (or warned) entry has must-checks that were not run."""
    return bool(entry.get("not_run")) and entry["verdict"] in HOLDING


def _rollup(
    targets: Mapping[str, Counter[str]], notes: Mapping[str, str], *, show_all: bool
) -> list[str]:
    """One row per target: its counts by verdict (and how many of its nodes fail), the
    targets with failures or errors first."""
    listed = {
        target: counts
        for target, counts in targets.items()
        if show_all or counts["passed"] != counts.total()
    }
    passing = len(targets) - len(listed)
    if not listed:
        return [f"(every requirement passed on each of the {passing} targets)"]

    def order(item: tuple[str, Counter[str]]) -> tuple[int, int, tuple[tuple[int, int | str], ...]]:
        target, counts = item
        return (-(counts["failed"] + counts["error"]), -counts["warned"], natural_key(target))

    width = max(len("target"), *(len(t) for t in listed))
    columns = JUDGED + tuple(v for v in GATED if any(c[v] for c in targets.values()))
    rows = [f"{'target':<{width}}  " + "  ".join(f"{v:>7}" for v in columns)]
    for target, counts in sorted(listed.items(), key=order):
        note = f"  {notes[target]}" if notes.get(target) else ""
        rows.append(f"{target:<{width}}  " + "  ".join(f"{counts[v]:>7}" for v in columns) + note)
    if passing:
        rows.append(
            f"(and {passing} target{'s' if passing != 1 else ''} where every requirement passed)"
        )
    return rows
