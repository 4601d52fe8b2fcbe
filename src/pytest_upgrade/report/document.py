"""The JSON report's document: built at the end of a session, merged across runs.

A fleet sharded over CI jobs (or over machines) gives one document per job;
:func:`merge_documents` makes the one document the whole fleet would have
given in one run: results sorted by node id, refusals sorted, one ``as_of``.
Pure: documents in, a document or a :class:`MergeError` out
(``python -m pytest_upgrade merge`` does the file I/O).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

from ..grammar import parse_calendar_date
from .schema import Document, Entry, Refused, RunCounts
from .validate import entry_problem

__all__ = [
    "COMPACT_OVER",
    "REPORT_VERSION",
    "MergeError",
    "build_document",
    "dump_document",
    "interrupted_line",
    "is_incomplete",
    "merge_documents",
    "natural_key",
]

# The format's version. 2 added ``interrupted`` and ``requirements`` (the
# run's counts); ``merge`` reads versions 1 and 2 and writes 2.
REPORT_VERSION = 2
_READABLE = (1, 2)
# Above this many results the file has one result a line, without indentation:
# a fleet's 15,000 take a third less room and a tenth of the time to write.
COMPACT_OVER = 500


class MergeError(ValueError):
    """Documents that cannot be merged; the message names the input and the reason."""


_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sorts "n2" before "n10" (numbers by value), as people read a fleet's names."""
    return tuple(
        (1, int(part)) if part.isdigit() else (0, part) for part in _DIGITS.split(text) if part
    )


def _refused_key(refusal: Refused) -> tuple[str, str, str]:
    return (refusal["test"], refusal["path"], refusal["method"])


def build_document(
    as_of: str,
    results: Iterable[Entry],
    refused: Iterable[Refused],
    *,
    interrupted: bool = False,
    collected: int | None = None,
    selected: int | None = None,
) -> Document:
    """The report of one run: ``results`` in natural order of node id (stable: a test's
    requirements keep their order; "n2" before "n10"), ``refused`` sorted.

    ``collected`` counts the requirements the run collected (before ``-k``,
    ``-m`` or a sharding plugin deselected some), ``selected`` those it was
    to run; either defaults to the number of results. ``interrupted``: the
    run stopped before every selected requirement was reported.
    """
    ordered = sorted(results, key=lambda r: natural_key(r["nodeid"]))
    reported = len(ordered)
    selected = reported if selected is None else selected
    return {
        "version": REPORT_VERSION,
        "as_of": as_of,
        "interrupted": interrupted or reported < selected,
        "requirements": {
            "collected": max(selected, reported) if collected is None else collected,
            "selected": selected,
            "reported": reported,
        },
        "results": ordered,
        "refused": sorted(refused, key=_refused_key),
    }


def dump_document(document: Document, stream: TextIO) -> None:
    """Write ``document`` as JSON to ``stream``: indented, or for a large run one
    result a line (each written as it is encoded, so the whole text is never held)."""
    results = document["results"]
    if len(results) <= COMPACT_OVER:
        stream.write(json.dumps(document, indent=2) + "\n")
        return
    compact = (",", ":")
    head = {key: value for key, value in document.items() if key not in ("results", "refused")}
    stream.write(json.dumps(head, separators=compact)[:-1] + ',\n"results":[\n')
    for n, result in enumerate(results):
        stream.write(("," if n else "") + json.dumps(result, separators=compact) + "\n")
    stream.write('],\n"refused":' + json.dumps(document["refused"], separators=compact))
    stream.write("}\n")


def is_incomplete(document: Document | Mapping[str, Any]) -> bool:
    """Whether the document's run was interrupted (or reported fewer than it selected):
    of a written document, or of one read from disk before it is merged."""
    counts = document.get("requirements") or {}
    return bool(document.get("interrupted")) or counts.get("reported", 0) < counts.get(
        "selected", 0
    )


def interrupted_line(counts: RunCounts) -> str:
    """ "interrupted: 10 of 31 selected requirements reported (31 collected)"."""
    text = f"interrupted: {counts['reported']} of {counts['selected']} selected requirement(s)"
    text += " reported"
    if counts["collected"] != counts["selected"]:
        text += f" ({counts['collected']} collected)"
    return text + "; the rest were never checked"


def _check(name: str, document: object) -> Mapping[str, Any]:
    """The document's shape, or a MergeError naming what is wrong with it."""
    if not isinstance(document, Mapping):
        raise MergeError(f"{name}: not a pytest-upgrade report (a JSON object was expected)")
    version = document.get("version")
    if type(version) is not int or version not in _READABLE:  # JSON true == 1 in Python
        raise MergeError(
            f"{name}: report format version {version!r}; this pytest-upgrade merges"
            f" versions {', '.join(map(str, _READABLE))}"
            " (merge reports written by the same version)"
        )
    as_of = document.get("as_of")
    if not isinstance(as_of, str) or parse_calendar_date(as_of) is None:
        raise MergeError(f"{name}: no as_of date (YYYY-MM-DD), got {as_of!r}")
    for key in ("results", "refused"):
        if not isinstance(document.get(key), list):
            raise MergeError(f"{name}: {key!r} is not a list")
    counts = document.get("requirements")
    if document["version"] >= 2 and not (  # version 2 added them
        isinstance(counts, Mapping)
        and all(isinstance(counts.get(k), int) for k in ("collected", "selected", "reported"))
    ):
        raise MergeError(f"{name}: 'requirements' lacks collected, selected or reported")
    for n, result in enumerate(document["results"]):
        if not isinstance(result, Mapping) or not isinstance(result.get("nodeid"), str):
            raise MergeError(f"{name}: results[{n}] has no nodeid")
        if problem := entry_problem(result, as_of):
            raise MergeError(f"{name}: results[{n}] ({result['nodeid']}): {problem}")
    for n, refusal in enumerate(document["refused"]):
        if not isinstance(refusal, Mapping) or not all(
            isinstance(refusal.get(k), str) for k in ("test", "path", "method")
        ):
            raise MergeError(f"{name}: refused[{n}] lacks test, path or method")
    return document


def _completeness(
    checked: Sequence[tuple[str, Mapping[str, Any]]], *, allow_incomplete: bool
) -> tuple[bool, int, int]:
    """Whether the merged run is incomplete, and what it collected and selected.

    Shards of one collection (pytest-shard, ``-k``: each run collects the
    whole fleet, the same number, and selects its part) must together select
    all of it, or a shard is missing; runs that each selected all they
    collected (a targets file per job) simply add up. An interrupted input,
    or a missing shard, is refused unless ``allow_incomplete``.
    """
    short = [name for name, document in checked if is_incomplete(document)]
    if short and not allow_incomplete:
        counts = dict(checked)[short[0]].get("requirements", {})
        raise MergeError(
            f"{short[0]}: an interrupted run ({counts.get('reported', '?')} of"
            f" {counts.get('selected', '?')} selected requirements reported); rerun that shard,"
            " or merge with --allow-incomplete to mark the merged report interrupted"
        )
    counts = [d.get("requirements") or {"collected": len(d["results"])} for _, d in checked]
    for c, (_, d) in zip(counts, checked, strict=True):
        c.setdefault("selected", len(d["results"]))
    selected = sum(c["selected"] for c in counts)
    collections = {c["collected"] for c in counts}
    sharded = len(collections) == 1 and all(c["selected"] < c["collected"] for c in counts)
    if not sharded:
        return bool(short), sum(c["collected"] for c in counts), selected
    whole = collections.pop()
    if selected < whole and not allow_incomplete:
        raise MergeError(
            f"the {len(checked)} input(s) selected {selected} of the {whole} requirements"
            " each of their runs collected: a shard is missing (or every shard deselected"
            " some); merge with --allow-incomplete to mark the merged report interrupted"
        )
    return bool(short) or selected < whole, whole, max(selected, whole)


def merge_documents(
    documents: Sequence[tuple[str, object]], *, allow_incomplete: bool = False
) -> Document:
    """One document from ``(name, document)`` pairs: the reports of disjoint shards.

    Refused: another format version, different ``as_of`` dates (deadlines
    would have been judged on different days: give every shard the same
    ``--upgrade-as-of``), a test reported by two inputs (overlapping
    shards: its verdict would be counted twice), and unless
    ``allow_incomplete`` (then the merged report is marked ``interrupted``)
    an interrupted input or a missing shard.
    """
    if not documents:
        raise MergeError("no report to merge")
    checked = [(name, _check(name, document)) for name, document in documents]
    first_name, first = checked[0]
    owner: dict[str, str] = {}
    # Each checked by _check: the keys the readers rely on are there, with their types.
    results: list[Entry] = []
    refused: list[Refused] = []
    for name, document in checked:
        if document["as_of"] != first["as_of"]:
            raise MergeError(
                f"{name}: evaluated as of {document['as_of']}, {first_name} as of"
                f" {first['as_of']}: run every shard with the same --upgrade-as-of=YYYY-MM-DD"
            )
        for nodeid in dict.fromkeys(r["nodeid"] for r in document["results"]):
            if nodeid in owner:
                raise MergeError(f"{name}: {nodeid} is also in {owner[nodeid]}: the shards overlap")
            owner[nodeid] = name
        results += document["results"]
        refused += document["refused"]
    incomplete, collected, selected = _completeness(checked, allow_incomplete=allow_incomplete)
    return build_document(
        first["as_of"],
        results,
        refused,
        interrupted=incomplete,
        collected=collected,
        selected=selected,
    )
