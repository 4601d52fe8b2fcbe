"""The JSON report's document: built at the end of a session, merged across runs.

A fleet sharded over CI jobs (or over machines) gives one document per job;
:func:`merge_documents` makes the one document the whole fleet would have
given in one run: results sorted by node id, refusals sorted, one ``as_of``.
Pure: documents in, a document or a :class:`MergeError` out
(``python -m pytest_upgrade merge`` does the file I/O).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..grammar import parse_calendar_date
from .validate import entry_problem

__all__ = ["REPORT_VERSION", "MergeError", "build_document", "merge_documents"]

# The format's version: a reader refuses a document of another.
REPORT_VERSION = 1


class MergeError(ValueError):
    """Documents that cannot be merged; the message names the input and the reason."""


def _refused_key(refusal: Mapping[str, str]) -> tuple[str, str, str]:
    return (refusal["test"], refusal["path"], refusal["method"])


def build_document(
    as_of: str, results: Iterable[Mapping[str, Any]], refused: Iterable[Mapping[str, str]]
) -> dict[str, Any]:
    """The report of one run: ``results`` sorted by node id (stable), ``refused`` sorted."""
    return {
        "version": REPORT_VERSION,
        "as_of": as_of,
        "results": sorted(results, key=lambda r: r["nodeid"]),
        "refused": sorted(refused, key=_refused_key),
    }


def _check(name: str, document: object) -> Mapping[str, Any]:
    """The document's shape, or a MergeError naming what is wrong with it."""
    if not isinstance(document, Mapping):
        raise MergeError(f"{name}: not a pytest-upgrade report (a JSON object was expected)")
    version = document.get("version")
    if type(version) is not int or version != REPORT_VERSION:  # JSON true == 1 in Python
        raise MergeError(
            f"{name}: report format version {version!r}; this pytest-upgrade merges"
            f" version {REPORT_VERSION} (merge reports written by the same version)"
        )
    as_of = document.get("as_of")
    if not isinstance(as_of, str) or parse_calendar_date(as_of) is None:
        raise MergeError(f"{name}: no as_of date (YYYY-MM-DD), got {as_of!r}")
    for key in ("results", "refused"):
        if not isinstance(document.get(key), list):
            raise MergeError(f"{name}: {key!r} is not a list")
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


def merge_documents(documents: Sequence[tuple[str, object]]) -> dict[str, Any]:
    """One document from ``(name, document)`` pairs: the reports of disjoint shards.

    Refused: another format version, different ``as_of`` dates (deadlines
    would have been judged on different days: give every shard the same
    ``--upgrade-as-of``), and a test reported by two inputs (overlapping
    shards: its verdict would be counted twice).
    """
    if not documents:
        raise MergeError("no report to merge")
    checked = [(name, _check(name, document)) for name, document in documents]
    first_name, first = checked[0]
    owner: dict[str, str] = {}
    results: list[Mapping[str, Any]] = []
    refused: list[Mapping[str, str]] = []
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
    return build_document(first["as_of"], results, refused)
