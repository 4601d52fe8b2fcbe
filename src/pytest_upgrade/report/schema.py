"""The JSON report's document (``--upgrade-report``), as types.

One description of the format docs/reference/json-report.md documents, for
the code that writes it (``report.results``, ``report.document``, the glue
that adds the pytest parts) and for every reader (merge's checks, the
baseline and diff, the HTML page, the Markdown summary, the terminal's
section). The writers write every key that is not ``NotRequired``; a
``NotRequired`` key only some entries have. A document read from disk (an
older or slimmer report) is checked by ``report.validate`` for the keys the
readers rely on; they read the others with ``.get``.
"""

# No ``from __future__ import annotations`` here: TypedDict reads NotRequired
# from the evaluated annotations (``Result.__required_keys__``).
from typing import NotRequired, TypedDict

__all__ = [
    "Check",
    "Document",
    "Entry",
    "ExchangeJSON",
    "FailureJSON",
    "HandshakeJSON",
    "Known",
    "NotRun",
    "Refused",
    "RequirementJSON",
    "ResponseJSON",
    "Result",
    "RouteJSON",
    "RunCounts",
    "Waived",
    "WaiverNote",
]


class RequirementJSON(TypedDict):
    """``requirement``: the marker's (or declared line's) values."""

    protocol: str
    path: str
    method: str
    headers: dict[str, str]  # credentials shown as declared, or redacted
    after: str | None  # YYYY-MM-DD
    origin: NotRequired[str]  # only for a requirement with one (CORS)


class Check(TypedDict):
    """One of ``checks``: a check's finding."""

    id: str
    severity: str  # must, should, info
    outcome: str  # one of report.verdicts.OUTCOMES
    message: str
    rfc: str
    expected: NotRequired[str]
    actual: NotRequired[str]
    diagnosis: NotRequired[str]


class ResponseJSON(TypedDict):
    status_line: str
    status: int
    headers: list[list[str]]  # [name, value] pairs in order of arrival


class FailureJSON(TypedDict):
    kind: str
    message: str


class ExchangeJSON(TypedDict):
    """One of ``exchanges``: a probe's request and what came back (bodies left out)."""

    role: str
    method: str
    url: str
    offered: str
    tls_version: str | None
    alpn: str | None
    reused: bool | None  # over a kept-alive connection; None: no connection was made
    response: ResponseJSON | None
    failure: FailureJSON | None


class HandshakeJSON(TypedDict):
    version: str
    outcome: str
    detail: str


class NotRun(TypedDict):
    """One of ``not_run``: a must-check that was skipped, and why."""

    id: str
    reason: str


class WaiverNote(TypedDict):
    """A waiver as the reports name it."""

    where: str  # FILE:LINE
    until: str  # YYYY-MM-DD
    reason: str


class Waived(TypedDict):
    reason: str  # the xfail reason
    waivers: list[WaiverNote]


class Known(TypedDict):
    reason: str
    since: str  # the baseline's as_of
    checks: list[str]


class RouteJSON(TypedDict, total=False):
    """``route``: how the probes reached a live target, only the fields that are set."""

    address: str  # the node's address the probes connected to
    proxy: str  # the proxy they went through, "http://HOST:PORT" (never credentials)
    client_cert: str  # the PEM file offered as client certificate (its path, never its content)
    client_key: str  # its key file, when separate (the path)


class Result(TypedDict):
    """One requirement's entry without the pytest parts: what ``result_to_json`` writes,
    and what the gate (waivers, the baseline) adds."""

    requirement: RequirementJSON
    target: str
    as_of: str | None
    days_left: int | None
    verdict: str  # one of report.verdicts.VERDICTS
    not_run: NotRequired[list[NotRun]]  # not in an entry no check ran for
    checks: list[Check]
    exchanges: list[ExchangeJSON]
    handshakes: list[HandshakeJSON]
    reproduce: list[str]
    deployment: NotRequired[str]  # a live deployment's name
    node: NotRequired[str]  # the node's address, when the deployment has several
    route: NotRequired[RouteJSON]  # how the probes reached it, when not plainly by name
    error: NotRequired[str]  # the one-line cause of an error (or a skip before the test)
    waived: NotRequired[Waived]
    known: NotRequired[Known]
    waiver_expired: NotRequired[list[WaiverNote]]
    waiver_unneeded: NotRequired[list[str]]


class Entry(Result):
    """One of the document's ``results``: a result with its test."""

    nodeid: str
    outcome: str  # the pytest outcome of the test


class RunCounts(TypedDict):
    collected: int
    selected: int
    reported: int


class Refused(TypedDict):
    """One of ``refused``: a legacy request the bundled server refused (enforcement)."""

    method: str
    path: str
    spoken: str
    required: str
    test: str


class Document(TypedDict):
    version: int
    as_of: str
    interrupted: bool
    requirements: RunCounts
    results: list[Entry]
    refused: list[Refused]
