"""The ``Upgrade`` and ``Connection`` fields of the 426 (RFC 9110 §7.8, §7.6.1)."""

from __future__ import annotations

from .._model import (
    Observation,
    Response,
    Severity,
)
from ..grammar import (
    parse_connection,
    parse_upgrade,
)
from ..protocols import protocol_for
from .evidence import intermediary
from .preconditions import ALL, show_field, the_426
from .registry import REFUSAL, Verdict
from .registry import check as _check


def _proxy_note(observation: Observation, response: Response, note: str) -> str:
    """``note`` (about a proxy in between) for a live target, with the Server/Via it shows."""
    if observation.bundled:
        return ""  # the bundled server runs the app with nothing in between
    shown = intermediary(response)
    return note + (f" The answer names {shown}." if shown else "")


def _header_check_applies(response: Response) -> str:
    """Why a header check cannot apply to ``response`` ("" when it can)."""
    if response.http_version == "2":
        # RFC 9113 §8.2.2: connection-specific fields are malformed in HTTP/2.
        return (
            "the 426 came over HTTP/2, which cannot carry Upgrade or Connection (RFC 9113 §8.2.2)"
        )
    return ""


@_check(
    "upgrade-present",
    Severity.MUST,
    "RFC 9110 §15.5.22, §7.8",
    "The 426 carries an Upgrade header field.",
    ALL,
    phase=REFUSAL,
)
def check_upgrade_present(observation: Observation) -> Verdict:
    response, reason = the_426(observation)
    if response is None:
        return Verdict.skip(reason)
    if why := _header_check_applies(response):
        return Verdict.skip(why)
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


def _upgrade_of_the_426(observation: Observation) -> tuple[Response, str] | Verdict:
    """The 426 and its combined Upgrade value, or the skip verdict saying why not."""
    response, reason = the_426(observation)
    if response is None:
        return Verdict.skip(reason)
    if why := _header_check_applies(response):
        return Verdict.skip(why)
    value = response.combined("upgrade")
    if value is None:
        return Verdict.skip("there is no Upgrade field (see upgrade-present)")
    return response, value


@_check(
    "upgrade-syntax",
    Severity.MUST,
    "RFC 9110 §7.8",
    'Upgrade parses as 1#protocol, protocol = protocol-name ["/" protocol-version].',
    ALL,
    phase=REFUSAL,
)
def check_upgrade_syntax(observation: Observation) -> Verdict:
    found = _upgrade_of_the_426(observation)
    if isinstance(found, Verdict):
        return found
    _, value = found
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
    ALL,
    phase=REFUSAL,
)
def check_upgrade_names_required(observation: Observation) -> Verdict:
    found = _upgrade_of_the_426(observation)
    if isinstance(found, Verdict):
        return found
    response, value = found
    return protocol_for(observation.requirement.protocol).judge_upgrade_field(
        observation, response, value
    )


@_check(
    "connection-upgrade",
    Severity.MUST,
    "RFC 9110 §7.8",
    "On an HTTP/1.x 426, Connection contains the upgrade option.",
    ALL,
    phase=REFUSAL,
)
def check_connection_upgrade(observation: Observation) -> Verdict:
    response, reason = the_426(observation)
    if response is None:
        return Verdict.skip(reason)
    if why := _header_check_applies(response):
        return Verdict.skip(why)
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
