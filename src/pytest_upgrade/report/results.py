"""Rendering: the failure report and the JSON report (the reproduce commands they carry
come from :mod:`.reproduce`).

Pure functions from findings and observations to text and JSON-ready dicts;
the plugin decides when and where they are shown or written.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._credentials import shown_headers
from .._model import Exchange, Finding, Observation, Outcome, Requirement, Route
from ..judge import RequirementResult
from . import schema
from .reproduce import reproduce_commands
from .verdicts import CHECK_MARKS

__all__ = [
    "failure_report",
    "not_run_summary",
    "not_run_text",
    "requirement_to_json",
    "result_to_json",
    "route_to_json",
    "summary_line",
    "unevaluated_result",
]


def describe_requirement(requirement: Requirement) -> str:
    args = [repr(requirement.protocol), f"path={requirement.path!r}"]
    if requirement.method != "GET":
        args.append(f"method={requirement.method!r}")
    if requirement.headers:
        args.append(f"headers={dict(shown_headers(requirement.headers, requirement.headers))!r}")
    if requirement.after is not None:
        args.append(f"after={requirement.after.isoformat()!r}")
    if requirement.origin is not None:
        args.append(f"origin={requirement.origin!r}")
    return f"requires_upgrade({', '.join(args)})"


def _exchange_line(exchange: Exchange, width: int = 9) -> str:
    if exchange.response is not None:
        answer = exchange.response.status_line
    elif exchange.failure is not None:
        answer = exchange.failure.message
    else:  # pragma: no cover
        answer = "nothing recorded"
    via = f" ({exchange.offered})" if exchange.offered else ""
    return f"{exchange.role:>{width}}: {exchange.method} {exchange.url}{via} → {answer}"


def _finding_lines(finding: Finding) -> list[str]:
    mark = CHECK_MARKS[finding.outcome.value]
    head = f"  {mark} {finding.check_id} [{finding.severity.value}"
    head += f", {finding.rfc}]" if finding.rfc else "]"
    if finding.outcome in (Outcome.SKIPPED, Outcome.ERROR):
        return [f"{head} {finding.outcome.value}: {finding.message}"]
    lines = [f"{head} {finding.message}"]
    if finding.outcome in (Outcome.FAILED, Outcome.WARNED):
        if finding.expected:
            lines.append(f"      expected:  {finding.expected}")
        if finding.actual:
            lines.append(f"      actual:    {finding.actual}")
        if finding.diagnosis:
            lines.append(f"      diagnosis: {finding.diagnosis}")
    return lines


def failure_report(result: RequirementResult) -> str:
    """The whole report of one requirement: every check, the exchanges, how to reproduce."""
    requirement = result.requirement
    failed = result.failed
    head = f"{describe_requirement(requirement)} against {result.observation.target}"
    if (deadline := deadline_note(result.observation)) is not None:
        head += f" ({deadline})"
    violated = [f for f in failed if f.outcome is not Outcome.SKIPPED]
    if violated:
        ids = ", ".join(f.check_id for f in violated)
        head += f": {len(violated)} check(s) failed ({ids})"
    if len(violated) < len(failed):  # --upgrade-require-all-checks
        head += (", and " if violated else ": ") + not_run_text(result.not_run)
    lines = [head]
    if (judged := judged_note(result.observation)) is not None:
        lines.append(judged)
    width = max([9, *(len(e.role) for e in result.observation.exchanges)])
    lines += [_exchange_line(e, width) for e in result.observation.exchanges]
    for handshake in result.observation.handshakes:
        lines.append(
            f"{'tls':>{width}}: {handshake.version} handshake → {handshake.outcome.value}"
            f" ({handshake.detail})"
        )
    lines.append("checks:")
    for finding in result.findings:
        lines += _finding_lines(finding)
    if result.observation.app_errors:
        lines.append("the app raised (or its framework logged) while serving the probes:")
        for error in result.observation.app_errors:
            lines += ["    " + line for line in error.rstrip().splitlines()]
    commands = reproduce_commands(result.observation, cafile=result.cafile)
    if commands:
        lines.append("reproduce:")
        lines += [f"  {command}" for command in commands]
    return "\n".join(lines)


def judged_note(observation: Observation) -> str | None:
    """What was judged, when the bundled server enforced something while the probes ran."""
    if not observation.enforced:
        return None
    return (
        "judged: the app's own answers (the bundled server enforces "
        f"{', '.join(observation.enforced)}; the probes bypass enforcement)"
    )


def days_text(days_left: int | None) -> str:
    """What the deadline means as of the evaluation date: "99 day(s) left",
    "enforced from today", "enforced for 3 day(s)"; "" without a deadline."""
    if days_left is None:
        return ""
    if days_left > 0:
        return f"{days_left} day(s) left"
    if days_left == 0:
        return "enforced from today"
    return f"enforced for {-days_left} day(s)"


def deadline_note(observation: Observation) -> str | None:
    """ "deadline 2027-03-01, as of 2026-11-22: 99 day(s) left" for gated requirements."""
    left = observation.days_left
    if left is None:
        return None
    when = f"deadline {observation.requirement.after}, as of {observation.as_of}"
    return f"{when}: {days_text(left)}"


def not_run_text(findings: Sequence[Finding], *, width: int = 0) -> str:
    """ "1 must-check not run: tls-legacy-refused (the reason)" for skipped must-checks.

    Checks skipped for the same reason share it; ``width`` cuts each reason to
    that many characters (the terminal's one line).
    """
    return not_run_summary([(f.check_id, f.message) for f in findings], width=width)


def not_run_summary(skipped: list[tuple[str, str]], *, width: int = 0) -> str:
    """The same from ``(check id, reason)`` pairs (what the JSON report's ``not_run`` holds)."""
    by_reason: dict[str, list[str]] = {}
    for check_id, reason in skipped:
        by_reason.setdefault(reason, []).append(check_id)

    def cut(reason: str) -> str:
        return reason if not width or len(reason) <= width else reason[: width - 1] + "…"

    listed = "; ".join(f"{', '.join(ids)} ({cut(reason)})" for reason, ids in by_reason.items())
    return f"{len(skipped)} must-check{'s' if len(skipped) != 1 else ''} not run: {listed}"


def summary_line(result: RequirementResult) -> str:
    requirement = result.requirement
    text = f"{result.verdict.name:<7} {requirement.describe()}"
    if (deadline := deadline_note(result.observation)) is not None:
        text += f" ({deadline})"
    if result.failed:
        text += " [" + ", ".join(f.check_id for f in result.failed) + "]"
    elif result.warnings:
        text += " (warnings: " + ", ".join(f.check_id for f in result.warnings) + ")"
    if result.observation.enforced:
        text += f" (the app judged; enforcing {', '.join(result.observation.enforced)} bypassed)"
    if result.not_run and not result.failed and not result.all_skipped:
        # A pass that rests on fewer checks than the requirement has says so.
        text += f" ({not_run_text(result.not_run, width=160)})"
    return text


def finding_to_json(finding: Finding) -> schema.Check:
    data: schema.Check = {
        "id": finding.check_id,
        "severity": finding.severity.value,
        "outcome": finding.outcome.value,
        "message": finding.message,
        "rfc": finding.rfc,
    }
    if finding.expected:
        data["expected"] = finding.expected
    if finding.actual:
        data["actual"] = finding.actual
    if finding.diagnosis:
        data["diagnosis"] = finding.diagnosis
    return data


def exchange_to_json(exchange: Exchange) -> schema.ExchangeJSON:
    """One probe's request and what came back, for the reports (bodies left out)."""
    data: schema.ExchangeJSON = {
        "role": exchange.role,
        "method": exchange.method,
        "url": exchange.url,
        "offered": exchange.offered,
        "tls_version": exchange.transport.tls_version if exchange.transport else None,
        "alpn": exchange.transport.alpn if exchange.transport else None,
        "reused": exchange.transport.reused if exchange.transport else None,
        "response": None,
        "failure": None,
    }
    if exchange.response is not None:
        data["response"] = {
            "status_line": exchange.response.status_line,
            "status": exchange.response.status,
            # Cookies a live target sets are nobody's business in a published report.
            "headers": [
                [name, "(redacted)" if name == "set-cookie" else value]
                for name, value in exchange.response.headers
            ],
        }
    if exchange.failure is not None:
        data["failure"] = {"kind": exchange.failure.kind.value, "message": exchange.failure.message}
    return data


def requirement_to_json(requirement: Requirement) -> schema.RequirementJSON:
    """The entry's ``requirement``: credentials shown as declared, or redacted."""
    described: schema.RequirementJSON = {
        "protocol": requirement.protocol,
        "path": requirement.path,
        "method": requirement.method,
        "headers": dict(shown_headers(requirement.headers, requirement.headers)),
        "after": requirement.after.isoformat() if requirement.after else None,
    }
    if requirement.origin is not None:
        described["origin"] = requirement.origin  # only when given: CORS
    return described


def result_to_json(result: RequirementResult) -> schema.Result:
    """One requirement's entry in the JSON report, without the pytest parts."""
    entry: schema.Result = {
        "requirement": requirement_to_json(result.requirement),
        "target": result.observation.target,
        "as_of": result.observation.as_of.isoformat() if result.observation.as_of else None,
        "days_left": result.observation.days_left,
        "verdict": result.verdict.value,
        # Must-checks skipped: the verdict does not rest on them (JSON, HTML, Markdown).
        "not_run": [{"id": f.check_id, "reason": f.message} for f in result.not_run],
        "checks": [finding_to_json(f) for f in result.findings],
        "exchanges": [exchange_to_json(e) for e in result.observation.exchanges],
        "handshakes": [
            {"version": h.version, "outcome": h.outcome.value, "detail": h.detail}
            for h in result.observation.handshakes
        ],
        "reproduce": reproduce_commands(result.observation, cafile=result.cafile),
    }
    route = route_to_json(result.observation.route)
    if route:
        entry["route"] = route
    return entry


def route_to_json(route: Route) -> schema.RouteJSON:
    """The route's fields that are set (none: the probes connected to the name)."""
    data: schema.RouteJSON = {}
    if route.address is not None:
        data["address"] = route.address
    if route.proxy is not None:
        data["proxy"] = route.proxy
    if route.client_cert is not None:
        data["client_cert"] = route.client_cert
    if route.client_key is not None:
        data["client_key"] = route.client_key
    return data


def unevaluated_result(
    requirement: Requirement, target: str, verdict: str, cause: str
) -> schema.Result:
    """The entry of a requirement no check ran for (its test's setup failed, or was
    skipped): its description, ``verdict`` (error or skipped) and the one-line cause."""
    return {
        "requirement": requirement_to_json(requirement),
        "target": target,
        "as_of": None,
        "days_left": None,
        "checks": [],
        "exchanges": [],
        "handshakes": [],
        "reproduce": [],
        "verdict": verdict,
        "error": cause,
    }
