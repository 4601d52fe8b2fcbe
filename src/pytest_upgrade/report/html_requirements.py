"""The HTML report's requirements: each one's verdict, exchanges, checks and reproduce
commands; the same checks as a fragment for pytest-html's table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .html_markup import esc, filter_attributes
from .html_scale import summary_article
from .model import (
    describe,
    not_run,
    route_facts,
    verdict,
)
from .results import days_text
from .schema import Entry
from .verdicts import CHECK_MARKS, VERDICT_MARKS
from .waived import gate_notes

__all__ = ["checks_fragment", "pytest_html_fragment", "requirements_section"]


# -- per requirement ---------------------------------------------------------------


def requirements_section(
    entries: Sequence[Entry],
    anchors: Sequence[str],
    full: Callable[[Entry], bool] = lambda entry: True,
) -> str:
    """Every requirement's article: in full, or (a large run's, html_scale) one line."""
    articles = [
        _requirement(e, a) if full(e) else summary_article(e, a)
        for e, a in zip(entries, anchors, strict=True)
    ]
    return f'<section id="requirements"><h2>Details</h2>{"".join(articles)}</section>'


def _requirement(entry: Entry, anchor: str) -> str:
    v = verdict(entry)
    is_open = " open" if v in ("failed", "error", "warned") else ""
    facts = [f"test <code>{esc(entry.get('nodeid', ''))}</code>"]
    if entry.get("outcome"):
        facts.append(f"test outcome {esc(entry['outcome'])}")
    if entry.get("target"):
        facts.append(f"target {esc(entry['target'])}")
    facts += [esc(fact) for fact in route_facts(entry)]
    requirement = entry.get("requirement", {})
    if requirement.get("after"):
        when = days_text(entry.get("days_left"))
        facts.append(
            f"deadline {esc(requirement['after'])}"
            + (f", as of {esc(entry.get('as_of'))}: {esc(when)}" if when else "")
        )
    if requirement.get("headers"):
        headers = ", ".join(f"{k}: {val}" for k, val in requirement["headers"].items())
        facts.append(f"headers {esc(headers)}")
    body = [f'<p class="nodeid">{" · ".join(facts)}</p>']
    if entry.get("error"):
        body.append(f'<p class="error"><b>Error:</b> {esc(entry["error"])}</p>')
    mention = " (must-checks not run)" if (incomplete := not_run(entry)) else ""
    if incomplete:
        body.append(f'<p class="error"><b>Not checked:</b> {esc(incomplete)}</p>')
    body += gate_notes(entry)
    body.append(_exchanges(entry))
    body.append(checks_fragment(entry, anchor))
    return (
        f'<article class="requirement" id="{anchor}" {filter_attributes(entry)}>'
        f"<details{is_open}><summary>"
        f'<span class="badge {v}">{VERDICT_MARKS[v]} {v}{mention}</span> '
        f"<h3>{esc(describe(entry))}</h3></summary>"
        f'<div class="body">{"".join(body)}</div></details></article>'
    )


def _exchanges(entry: Entry) -> str:
    exchanges = entry.get("exchanges", ())
    handshakes = entry.get("handshakes", ())
    if not exchanges and not handshakes:
        return ""
    rows = []
    for exchange in exchanges:
        response, failure = exchange.get("response"), exchange.get("failure")
        if response:
            answer = esc(response.get("status_line", response.get("status", "")))
            headers = response.get("headers", ())
            if headers:
                lines = "\n".join(f"{name}: {value}" for name, value in headers)
                answer += (
                    f"<details><summary>{len(headers)} header field(s)</summary>"
                    f"<pre>{esc(lines)}</pre></details>"
                )
        elif failure:
            answer = (
                f"{esc(failure.get('message', ''))} <small>({esc(failure.get('kind'))})</small>"
            )
        else:
            answer = "nothing recorded"
        negotiated = ", ".join(
            str(value)
            for value in (exchange.get("tls_version"), exchange.get("alpn") and
                          f"ALPN {exchange.get('alpn')}")
            if value
        )  # fmt: skip
        rows.append(
            f'<tr><td data-label="probe">{esc(exchange.get("role", ""))}</td>'
            f'<td data-label="request" class="mono">{esc(exchange.get("method", ""))}'
            f" {esc(exchange.get('url', ''))}</td>"
            f'<td data-label="offered">{esc(exchange.get("offered", ""))}</td>'
            f'<td data-label="negotiated">{esc(negotiated)}</td>'
            f'<td data-label="answer">{answer}</td></tr>'
        )
    for handshake in handshakes:
        rows.append(
            f'<tr><td data-label="probe">tls</td>'
            f'<td data-label="request">{esc(handshake.get("version", ""))} handshake</td>'
            '<td data-label="offered"></td><td data-label="negotiated"></td>'
            f'<td data-label="answer">{esc(handshake.get("outcome", ""))}'
            f" ({esc(handshake.get('detail', ''))})</td></tr>"
        )
    return (
        "<h4>Exchanges</h4>"
        '<div class="scroll"><table class="stack exchanges">'
        '<thead><tr><th scope="col">probe</th><th scope="col">request</th>'
        '<th scope="col">offered</th><th scope="col">negotiated</th>'
        f'<th scope="col">answer</th></tr></thead><tbody>{"".join(rows)}</tbody>'
        "</table></div>"
    )


def checks_fragment(entry: Entry, anchor: str, *, copy_button: bool = True) -> str:
    """Every check of one requirement with its evidence, and the reproduce commands."""
    rows = []
    for check in entry.get("checks", ()):
        outcome = str(check.get("outcome", ""))
        details = "".join(
            f'<div class="detail"><b>{key}:</b> {esc(check[key])}</div>'
            for key in ("expected", "actual", "diagnosis")
            if check.get(key)
        )
        rows.append(
            f'<tr id="{anchor}-{esc(check.get("id", ""))}" data-outcome="{esc(outcome)}">'
            f'<td data-label="outcome" class="outcome {esc(outcome)}">'
            f"{CHECK_MARKS.get(outcome, '?')}&nbsp;{esc(outcome)}</td>"
            f'<td data-label="check"><code>{esc(check.get("id", ""))}</code></td>'
            f'<td data-label="severity">{esc(check.get("severity", ""))}</td>'
            f'<td data-label="result">{esc(check.get("message", ""))}{details}</td>'
            f'<td data-label="RFC">{esc(check.get("rfc", ""))}</td></tr>'
        )
    parts = []
    if rows:
        parts.append(
            "<h4>Checks</h4>"
            '<div class="scroll"><table class="stack checks">'
            '<thead><tr><th scope="col">outcome</th><th scope="col">check</th>'
            '<th scope="col">severity</th><th scope="col">result</th>'
            f'<th scope="col">RFC</th></tr></thead><tbody>{"".join(rows)}</tbody>'
            "</table></div>"
        )
    commands = entry.get("reproduce", ())
    if commands:
        block = f"{anchor}-reproduce"
        button = (
            f'<button type="button" data-copy="{block}"'
            f' aria-label="Copy the reproduce commands of {esc(describe(entry))}">Copy</button>'
            '<span class="copied" role="status" aria-live="polite"></span>'
        )
        parts.append(
            "<h4>Reproduce</h4>"
            f'<div class="repro"><pre><code id="{block}">{esc(chr(10).join(commands))}</code></pre>'
            f"{button if copy_button else ''}</div>"
        )
    return "".join(parts)


def pytest_html_fragment(entries: Sequence[Entry], prefix: str) -> str:
    """What a test's row in a pytest-html report shows: each requirement's checks.

    One line of markup (pytest-html's log area keeps line breaks), styled
    inline (its page does not have this report's style sheet) and without the
    copy button (its page does not run this report's script).
    """
    blocks = []
    for n, entry in enumerate(entries, 1):
        v = verdict(entry)
        blocks.append(
            f'<div class="upgrade-requirement" data-verdict="{v}">'
            f"<p><b>{VERDICT_MARKS[v]} {v}</b> {esc(describe(entry))}</p>"
            f"{checks_fragment(entry, f'{prefix}-{n}', copy_button=False)}</div>"
        )
    return (
        '<div class="upgrade-compliance" style="white-space: normal; font-family: sans-serif">'
        f"<h3>upgrade compliance</h3>{''.join(blocks)}</div>"
    )
