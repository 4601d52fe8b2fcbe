"""A proxy's failure is an error, never a verdict on the target; the route in the reports
and the reproduce commands (hand-built observations, no sockets)."""

from __future__ import annotations

import dataclasses

from pytest_upgrade._model import (
    FailureKind,
    HandshakeOutcome,
    Offer,
    Outcome,
    Requirement,
    Route,
)
from pytest_upgrade.judge import RequirementVerdict, evaluate
from pytest_upgrade.report.model import shown_target, targets
from pytest_upgrade.report.reproduce import reproduce_commands
from pytest_upgrade.report.results import result_to_json
from pytest_upgrade.report.summary import summary_lines
from support.observations import HTTPS, exchange, failure, handshake, observation, response

H2 = Requirement("h2", "/v2/orders")
REFUSED = "proxy http://proxy.corp:3128: refused the tunnel to 127.0.0.1:8443 (403 Forbidden)"
LEGACY_OFFER = Offer(("1.1",), True, ("http/1.1",))
UPGRADED_OFFER = Offer(("2",), True, ("h2",))


def _through_proxy(*, auth: bool = False):  # type: ignore[no-untyped-def]
    seen = observation(
        H2,
        exchange("legacy", response(426, ("upgrade", "h2")), offer=LEGACY_OFFER),
        exchange("upgraded", response(200, http_version="2"), offer=UPGRADED_OFFER),
    )
    return dataclasses.replace(seen, route=Route(proxy="http://proxy.corp:3128", proxy_auth=auth))


def test_a_proxy_failure_is_an_error_naming_the_proxy_and_no_check_is_judged() -> None:
    seen = observation(
        H2,
        exchange("legacy", failure(FailureKind.PROXY, REFUSED), offer=LEGACY_OFFER),
        exchange("upgraded", response(200, http_version="2"), offer=UPGRADED_OFFER),
    )
    result = evaluate(seen)
    assert result.verdict is RequirementVerdict.ERROR
    assert result.error == f"legacy probe (HTTP/1.1 over TLS, ALPN http/1.1): {REFUSED}"
    assert result.findings
    assert {f.outcome for f in result.findings} == {Outcome.SKIPPED}
    assert all(f.message == f"not judged: {REFUSED}" for f in result.findings)
    assert result.not_run == ()  # nothing the target should have done is counted as not run


def test_a_timeout_through_the_proxy_is_the_proxys_too() -> None:
    timed_out = "proxy http://proxy.corp:3128: no answer to CONNECT within 5 s"
    seen = observation(H2, exchange("legacy", failure(FailureKind.PROXY, timed_out)))
    assert evaluate(seen).verdict is RequirementVerdict.ERROR


def test_the_json_entry_has_a_route_only_when_not_direct() -> None:
    through = result_to_json(evaluate(_through_proxy(auth=True)))
    assert through["route"] == {"proxy": "http://proxy.corp:3128"}  # proxy_auth is not shown
    direct = result_to_json(evaluate(dataclasses.replace(_through_proxy(), route=Route())))
    assert "route" not in direct


def test_reproduce_commands_tunnel_through_the_proxy() -> None:
    commands = reproduce_commands(_through_proxy(), cafile=None)
    assert commands
    for command in commands:
        assert command.startswith("curl -sv --http")
        assert " --proxy http://proxy.corp:3128 --proxytunnel " in command
        assert "--proxy-user" not in command


def test_reproduce_commands_read_the_proxy_credentials_from_the_environment() -> None:
    (command, *_) = reproduce_commands(_through_proxy(auth=True), cafile=None)
    assert '--proxy-user "${UPGRADE_PROXY_USER}:${UPGRADE_PROXY_PASSWORD}"' in command


def test_openssl_commands_take_the_proxy() -> None:
    seen = dataclasses.replace(
        _through_proxy(auth=True), handshakes=(handshake("TLSv1", HandshakeOutcome.REFUSED),)
    )
    openssl = [c for c in reproduce_commands(seen, cafile=None) if c.startswith("openssl")]
    assert openssl == [
        "openssl s_client -connect 127.0.0.1:8443 -noservername -tls1 -cipher"
        " DEFAULT:@SECLEVEL=0 -proxy proxy.corp:3128"
        ' -proxy_user "${UPGRADE_PROXY_USER}" -proxy_pass env:UPGRADE_PROXY_PASSWORD </dev/null'
    ]


def test_the_reports_say_through_proxy() -> None:
    entry = {"target": HTTPS, "route": {"proxy": "http://proxy.corp:3128"}}
    assert shown_target(entry) == f"{HTTPS} through proxy proxy.corp:3128"  # type: ignore[arg-type]
    assert targets([entry, {"target": "https://b.example"}]) == [  # type: ignore[list-item]
        f"{HTTPS} through proxy proxy.corp:3128",
        "https://b.example",
    ]


def test_the_compliance_section_names_the_proxy() -> None:
    def line(target: str, proxy: str | None) -> dict[str, object]:
        route = {"route": {"proxy": proxy}} if proxy else {}
        return {"nodeid": target, "verdict": "passed", "target": target, "summary": "", **route}

    one = [line("a", "http://p:1"), line("b", "http://p:1")]
    assert summary_lines(one, show_all=False)[-1] == "probed through proxy p:1"  # type: ignore[arg-type]
    mixed = [line("a", "http://p:1"), line("b", None)]
    assert summary_lines(mixed, show_all=False)[-1] == "probed through proxy p:1 (1 of 2)"  # type: ignore[arg-type]
    assert not any("proxy" in s for s in summary_lines([line("b", None)], show_all=False))  # type: ignore[list-item]


def test_a_node_through_the_proxy_is_asked_for_with_connect_to() -> None:
    seen = dataclasses.replace(
        observation(
            H2,
            exchange("legacy", response(426), url="https://api.example/", offer=LEGACY_OFFER),
            target="https://api.example",
        ),
        route=Route(address="192.0.2.11", proxy="http://proxy.corp:3128"),
    )
    (command,) = reproduce_commands(seen, cafile=None)
    # curl leaves the name to the proxy (--resolve would not apply): --connect-to.
    assert "--connect-to api.example:443:192.0.2.11:443" in command
    assert "--resolve" not in command
