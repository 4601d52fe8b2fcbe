"""Rendering: the failure report, the reproduce commands, the JSON report.

Pure functions from findings and observations to text and JSON-ready dicts;
the plugin decides when and where they are shown or written.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Sequence
from urllib.parse import urlsplit

from .._credentials import references, shown_headers
from .._model import Exchange, Finding, Observation, Offer, Outcome, Requirement, Route
from ..judge import RequirementResult
from . import schema
from .verdicts import CHECK_MARKS

__all__ = [
    "failure_report",
    "not_run_summary",
    "not_run_text",
    "reproduce_commands",
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


def _curl_version(offer: Offer) -> str | None:
    """The curl option that offers the HTTP version(s) the probe offered."""
    if (offer.websocket and offer.http_versions[0] == "2") or (offer.tls_upgrade and offer.tls):
        return None  # curl makes neither an extended CONNECT nor an in-band TLS upgrade
    if offer.websocket:
        return "--http1.1"  # the RFC 6455 handshake is an HTTP/1.1 request
    first = offer.http_versions[0]
    if first == "3":
        # To the origin's host and port over UDP: the advertised endpoint when it is there.
        return "--http3-only"
    if first == "2":
        return "--http2" if offer.tls else "--http2-prior-knowledge"
    return {"1.1": "--http1.1", "1.0": "--http1.0"}.get(first)


def _bracketed(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def _node_words(url: str, observation: Observation) -> list[str]:
    """What makes curl connect where the probe did: ``--resolve HOST:PORT:ADDR`` when it
    went to a node's address (a URL on the resolved name), ``-g`` for an IPv6 literal
    URL (curl reads its brackets as a glob otherwise)."""
    parts = urlsplit(url)
    words = ["-g"] if parts.hostname and ":" in parts.hostname else []
    address = observation.route.address
    if address is not None and parts.hostname and parts.hostname == _resolved_name(observation):
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if observation.route.proxy is not None:
            # Through a proxy curl does not resolve the name itself (--resolve would not
            # apply): --connect-to makes its CONNECT ask for the address, as the probe's.
            words += ["--connect-to", f"{parts.hostname}:{port}:{_bracketed(address)}:{port}"]
        else:
            words += ["--resolve", f"{parts.hostname}:{port}:{_bracketed(address)}"]
    return words


def _resolved_name(observation: Observation) -> str:
    """The name a node's address stands for: the host of the target's first URL (its
    https URL, else its http one: ``probes.target.Target.address_for``)."""
    first = observation.target.split(" and ", 1)[0]
    return (urlsplit(first).hostname or "").lower()


def _curl(
    exchange: Exchange,
    offer: Offer,
    cafile: str | None,
    version_flag: str,
    observation: Observation,
) -> str:
    route = observation.route
    url = exchange.url.replace("wss://", "https://", 1).replace("ws://", "http://", 1)
    words = ["curl", "-sv", version_flag, *_node_words(url, observation)]
    if route.proxy is not None and not offer.quic:
        # Every probe tunnels (CONNECT); curl tunnels an http:// URL only when told to.
        words += ["--proxy", route.proxy, "--proxytunnel"]
    if offer.tls and not offer.alpn:
        words.append("--no-alpn")  # as the probe: no ALPN at all (curl offers one by default)
    if offer.tls_minimum in ("TLSv1.2", "TLSv1.3"):
        words.append("--tlsv" + offer.tls_minimum.removeprefix("TLSv"))
    if url.startswith("https://") and cafile:
        words += ["--cacert", cafile]
    if url.startswith("https://"):
        words += _client_certificate(route, "--")
    if exchange.method == "HEAD":
        words.append("--head")
    elif exchange.method != "GET":
        words += ["-X", exchange.method]
    if offer.tls_upgrade:
        words += ["--request-target", "*"]  # RFC 2817 §3.2: OPTIONS *, shows the 101
    probe_set = {"host", "user-agent", "accept"}
    headers = [
        "-H " + _shell_word(f"{name}: {value}")
        for name, value in exchange.request_headers
        if name.lower() not in probe_set
    ]
    if route.proxy_auth and not offer.quic:
        headers.insert(0, "--proxy-user " + _shell_word(_PROXY_USER))
    tail = ["--max-time", "5"] if offer.websocket else []  # after a 101 curl would wait
    tail += ["-o", "/dev/null", url]
    return " ".join([shlex.join(words), *headers, shlex.join(tail)])


def _shell_word(argument: str) -> str:
    """``argument`` quoted for a POSIX shell; ``${NAME}`` references left for it to expand."""
    if not references([("", argument)]):
        return shlex.quote(argument)
    # Inside double quotes only $, `, \ and " are special: escape all but the references.
    escaped = re.sub(r'[`\\"]', lambda m: "\\" + m[0], argument)
    escaped = re.sub(r"\$(?!\{[A-Za-z_][A-Za-z0-9_]*\})", r"\\$", escaped)
    return f'"{escaped}"'


_OPENSSL_FLAGS = {
    "TLSv1": "-tls1",
    "TLSv1.1": "-tls1_1",
    "TLSv1.2": "-tls1_2",
    "TLSv1.3": "-tls1_3",
}


# The proxy's credentials are never shown: the commands take them from the environment.
_PROXY_USER = "${UPGRADE_PROXY_USER}:${UPGRADE_PROXY_PASSWORD}"


def reproduce_commands(observation: Observation, *, cafile: str | None) -> list[str]:
    """curl and openssl commands that make the same exchanges by hand (through the
    route's proxy, when there is one: its credentials, if any, from the environment's
    ``UPGRADE_PROXY_USER`` and ``UPGRADE_PROXY_PASSWORD``)."""
    commands: list[str] = []
    route = observation.route
    for exchange in observation.exchanges:
        offer = exchange.offer
        if not exchange.url or offer is None:
            continue
        flag = _curl_version(offer)
        if flag is not None:
            commands.append(_curl(exchange, offer, cafile, flag, observation))
    https_exchange = next((e for e in observation.exchanges if e.url.startswith("https://")), None)
    if observation.handshakes and https_exchange is not None:
        parts = urlsplit(https_exchange.url)
        host = parts.hostname or ""
        address = observation.route.address
        # To the node when the probe went there, naming the name (SNI) as it did.
        on_node = address is not None and host == _resolved_name(observation)
        connect = address if address is not None and on_node else host
        host_port = f"{_bracketed(connect)}:{parts.port or 443}"  # s_client's own default: 4433
        for handshake in observation.handshakes:
            words = ["openssl", "s_client", "-connect", host_port]
            # The server name and ALPN as the handshake offered them (no SNI for an IP
            # literal, RFC 6066 §3): the command gets the answer the probe got.
            named = handshake.sni and not _is_ip(host)
            words += ["-servername", host] if named else ["-noservername"]
            words.append(_OPENSSL_FLAGS[handshake.version])
            if handshake.alpn:
                words += ["-alpn", ",".join(handshake.alpn)]
            if handshake.version in ("TLSv1", "TLSv1.1"):
                words += ["-cipher", "DEFAULT:@SECLEVEL=0"]
            if cafile:
                words += ["-CAfile", cafile]
            words += _client_certificate(route, "-")
            commands.append(shlex.join(words) + _openssl_proxy(route) + " </dev/null")
    return commands


def _openssl_proxy(route: Route) -> str:
    """``-proxy HOST:PORT`` (OpenSSL 1.1.0+), its credentials from the environment (3.0+)."""
    if route.proxy is None:
        return ""
    words = " -proxy " + shlex.quote(route.proxy.removeprefix("http://"))
    if route.proxy_auth:
        words += ' -proxy_user "${UPGRADE_PROXY_USER}" -proxy_pass env:UPGRADE_PROXY_PASSWORD'
    return words


def _client_certificate(route: Route, dash: str) -> list[str]:
    """The client certificate the probes offered, as curl (``--``) or openssl (``-``) takes it."""
    if route.client_cert is None:
        return []
    words = [f"{dash}cert", route.client_cert]
    if route.client_key is not None:
        words += [f"{dash}key", route.client_key]
    return words


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


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
