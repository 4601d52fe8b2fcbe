"""The ``Upgrade`` and ``Connection`` fields of the 426 (RFC 9110 §7.8, §7.6.1)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from .._evidence import intermediary
from .._model import (
    Observation,
    Response,
    Severity,
)
from .._verdict import Verdict
from ..grammar import (
    parse_connection,
    parse_upgrade,
)
from ..protocols import REFUSED, protocol_for
from .preconditions import on_the_426, show_field
from .registry import CheckFunction, Phase
from .registry import check as _check


def _proxy_note(observation: Observation, response: Response, note: str) -> str:
    """``note`` (about a proxy in between) for a live target, with the Server/Via it shows."""
    if observation.bundled:
        return ""  # the bundled server runs the app with nothing in between
    shown = intermediary(response)
    return note + (f" The answer names {shown}." if shown else "")


@_check(
    "upgrade-present",
    Severity.MUST,
    "RFC 9110 §15.5.22, §7.8",
    "The 426 carries an Upgrade header field.",
    REFUSED,
    phase=Phase.REFUSAL,
)
@on_the_426(connection_fields=True)
def check_upgrade_present(observation: Observation, response: Response) -> Verdict:
    if response.combined("upgrade") is None:
        return Verdict.violated(
            "the 426 has no Upgrade field",
            expected="Upgrade: <the required protocol>",
            actual="no Upgrade field",
            diagnosis=(
                "A 426 must tell the client which protocol to switch to: the server MUST send an"
                " Upgrade field in a 426 response (RFC 9110 §15.5.22)."
                + _proxy_note(
                    observation,
                    response,
                    " If the app sends it, a proxy in between removed it (RFC 9110 §7.6.1 lets"
                    " proxies remove Upgrade; Caddy's reverse_proxy does): set it on 426 answers"
                    " at the proxy.",
                )
            ),
        )
    return Verdict.ok("the 426 has an Upgrade field", actual=show_field(response, "upgrade"))


UpgradeCheck = Callable[[Observation, Response, str], Verdict]


def _on_the_upgrade_field(judge: UpgradeCheck) -> CheckFunction:
    """Judge the 426's combined Upgrade value; skipped, with why, when there is none."""

    @on_the_426(connection_fields=True)
    @functools.wraps(judge)
    def check(observation: Observation, response: Response) -> Verdict:
        value = response.combined("upgrade")
        if value is None:
            return Verdict.skip("there is no Upgrade field (see upgrade-present)")
        return judge(observation, response, value)

    return check


@_check(
    "upgrade-syntax",
    Severity.MUST,
    "RFC 9110 §7.8",
    'Upgrade parses as 1#protocol, protocol = protocol-name ["/" protocol-version].',
    REFUSED,
    phase=Phase.REFUSAL,
)
@_on_the_upgrade_field
def check_upgrade_syntax(observation: Observation, response: Response, value: str) -> Verdict:
    parsed = parse_upgrade(value)
    if not parsed.valid:
        return Verdict.violated(
            "the Upgrade field is malformed: " + "; ".join(parsed.errors),
            expected='1#protocol, protocol = token ["/" token]',
            actual=f"Upgrade: {value}",
        )
    return Verdict.ok("the Upgrade field is well-formed", actual=f"Upgrade: {value}")


@_check(
    "upgrade-names-required",
    Severity.MUST,
    "RFC 9110 §7.8",
    "Upgrade lists a protocol that satisfies the requirement.",
    REFUSED,
    phase=Phase.REFUSAL,
)
@_on_the_upgrade_field
def check_upgrade_names_required(
    observation: Observation, response: Response, value: str
) -> Verdict:
    return protocol_for(observation.requirement.protocol).judge_upgrade_field(
        observation, response, value
    )


@_check(
    "connection-upgrade",
    Severity.MUST,
    "RFC 9110 §7.8",
    "On an HTTP/1.x 426, Connection contains the upgrade option.",
    REFUSED,
    phase=Phase.REFUSAL,
)
@on_the_426(connection_fields=True)
def check_connection_upgrade(observation: Observation, response: Response) -> Verdict:
    value = response.combined("connection")
    options = parse_connection(value).options if value is not None else ()
    expected = "Connection: upgrade"
    if "upgrade" in options:
        return Verdict.ok(
            "Connection contains upgrade",
            expected=expected,
            actual=show_field(response, "connection"),
        )
    return Verdict.violated(
        "Connection does not contain the upgrade option",
        expected=expected,
        actual=show_field(response, "connection"),
        diagnosis=(
            "A sender of Upgrade MUST also send the upgrade connection option (RFC 9110 §7.8);"
            " without it, intermediaries may forward Upgrade as an end-to-end field or drop it."
            + _proxy_note(
                observation,
                response,
                " A proxy in between replaces the app's Connection field with its own (nginx sends"
                " keep-alive, HAProxy removes it): add the option at the proxy (nginx: add_header"
                ' Connection "upgrade" always; HAProxy: http-response set-header Connection'
                " upgrade if { status 426 }).",
            )
        ),
    )
