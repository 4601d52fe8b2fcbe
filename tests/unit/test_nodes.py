"""Nodes without a network: --upgrade-resolve and resolve= parsed, names expanded into
nodes, the resolver's answers bounded, and a node's address in the connection spec."""

from __future__ import annotations

import datetime as dt
import pathlib
import socket
import threading
import time
from typing import Any

import pytest

from pytest_upgrade._model import HandshakeOutcome, TlsHandshake
from pytest_upgrade._nodes import (
    Answer,
    answers_from_json,
    answers_to_json,
    expand_nodes,
    names_to_resolve,
    parse_resolve,
    resolve_names,
)
from pytest_upgrade._targets import (
    Deployment,
    TargetLine,
    build_fleet,
    parse_addresses,
    parse_target_line,
)
from pytest_upgrade.glue.settings import Settings, read_settings
from pytest_upgrade.probes.endpoint import ClientTrust, Endpoint
from pytest_upgrade.probes.engine import host_of, probe_host
from pytest_upgrade.probes.spec import ConnectionSpec
from pytest_upgrade.probes.target import HandshakeCache, HandshakeProbe, Target
from support.observations import handshake


def _settings(values: dict[str, Any]) -> Settings:
    return read_settings(values, base_dir=pathlib.Path(), today=dt.date(2026, 12, 1), environ={})


# -- parsing --------------------------------------------------------------------------
def test_resolve_takes_curls_syntax_with_ipv6_in_brackets_or_not() -> None:
    assert parse_resolve("Pool.Example:8443:127.0.0.3,127.0.0.2,127.0.0.3") == (
        ("pool.example", 8443),
        ("127.0.0.3", "127.0.0.2"),
    )
    assert parse_resolve("pool.example:443:[::1],127.0.0.2") == (
        ("pool.example", 443),
        ("::1", "127.0.0.2"),
    )
    assert parse_resolve("pool.example:443:::1")[1] == ("::1",)


# A bad --upgrade-resolve value: what its error says.
BAD_RESOLVE = {
    "pool.example": "expected HOST:PORT:ADDR",
    "pool.example:443": "expected HOST:PORT:ADDR",
    "pool.example:443:": "expected HOST:PORT:ADDR",
    ":443:127.0.0.1": "expected HOST:PORT:ADDR",
    "pool.example:https:127.0.0.1": "PORT must be a number from 1 to 65535",
    "pool.example:0:127.0.0.1": "PORT must be a number",
    "pool.example:70000:127.0.0.1": "PORT must be a number",
    "pool.example:443:node1.example": "'node1.example' is not an IP address",
    "pool.example:443:[127.0.0.1]": "'[127.0.0.1]' is not an IP address",
    "pool.example:443:127.0.0.1,": "'' is not an IP address",
    "+pool.example:443:127.0.0.1": "curl's +, - and * forms are not supported",
    "*:443:127.0.0.1": "curl's +, - and * forms are not supported",
}


@pytest.mark.parametrize(("value", "message"), BAD_RESOLVE.items())
def test_a_bad_resolve_value_is_one_line_naming_it(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"\S") as raised:
        parse_resolve(value)
    text = str(raised.value)
    assert message in text
    assert "\n" not in text


def test_a_target_line_takes_resolve() -> None:
    line = parse_target_line("https://pool.example:8443 resolve=127.0.0.2,[::1]", where="f:1")
    assert line is not None
    assert line.resolve == ("127.0.0.2", "::1")
    with pytest.raises(ValueError, match=r"resolve=pool: 'pool' is not an IP address"):
        parse_target_line("https://pool.example resolve=pool", where="f:1")
    with pytest.raises(ValueError, match=r"resolve=ADDR\[,ADDR...\]"):
        parse_target_line("https://pool.example resolved=127.0.0.1", where="f:1")


def test_addresses_are_kept_once_in_order() -> None:
    assert parse_addresses("127.0.0.3, 127.0.0.2,127.0.0.3") == ("127.0.0.3", "127.0.0.2")


# -- options --------------------------------------------------------------------------
def test_resolve_option_gives_a_deployment_its_addresses_and_a_line_overrides_it() -> None:
    settings = _settings(
        {
            "--upgrade-target": ["https://pool.example:8443", "https://other.example:8443"],
            "--upgrade-resolve": ["pool.example:8443:127.0.0.2", "pool.example:8443:127.0.0.3"],
            "upgrade_targets": ["https://third.example resolve=127.0.0.9"],
        }
    )
    assert [d.addresses for d in settings.fleet] == [("127.0.0.2", "127.0.0.3"), (), ("127.0.0.9",)]
    assert settings.max_nodes == 16


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"--upgrade-target": ["https://pool.example:8443"], "--upgrade-resolve": ["x"]},
            "--upgrade-resolve: expected HOST:PORT:ADDR[,ADDR...], got 'x'",
        ),
        (
            {
                "--upgrade-target": ["https://pool.example:8443"],
                "--upgrade-resolve": ["pool.example:443:127.0.0.2"],
            },
            "--upgrade-resolve=pool.example:443:...: no deployment's https URL",
        ),
        ({"--upgrade-max-nodes": "0"}, "--upgrade-max-nodes: must be between 1 and 4096, got 0"),
        ({"upgrade_max_nodes": "many"}, "--upgrade-max-nodes: not a whole number: 'many'"),
    ],
)
def test_bad_node_options_are_usage_errors(values: dict[str, Any], message: str) -> None:
    with pytest.raises(pytest.UsageError) as raised:
        _settings(values)
    (text,) = raised.value.args
    assert message in text
    assert "\n" not in text


# -- expanding ------------------------------------------------------------------------
def _deployments() -> tuple[Deployment, ...]:
    return build_fleet(
        [
            TargetLine(("https://pool.example:8443", "http://pool.example:8080"), where="f:1"),
            TargetLine(("https://127.0.0.1:9443",), where="f:2"),
            TargetLine(("https://given.example",), where="f:3", resolve=("127.0.0.7",)),
            TargetLine(("https://lone.example",), where="f:4"),
        ],
        cafile=None,
    )


def test_only_names_without_given_addresses_are_looked_up() -> None:
    assert names_to_resolve(_deployments()) == [("pool.example", 8443), ("lone.example", 443)]


def test_every_address_is_a_node_and_one_address_keeps_the_deployment_as_it_was() -> None:
    answers = {
        ("pool.example", 8443): Answer(("127.0.0.2", "127.0.0.3", "::1")),
        ("lone.example", 443): Answer(("127.0.0.4",)),
    }
    nodes = expand_nodes(_deployments(), answers, max_nodes=16)
    assert [(d.name, d.node, d.target.address) for d in nodes] == [
        ("pool.example:8443", "127.0.0.2", "127.0.0.2"),
        ("pool.example:8443", "127.0.0.3", "127.0.0.3"),
        ("pool.example:8443", "::1", "::1"),
        ("127.0.0.1:9443", None, None),  # an IP literal: its own one node, as before
        ("given.example", None, "127.0.0.7"),
        ("lone.example", None, "127.0.0.4"),
    ]
    # The http URL on the same name goes to the node; SNI and Host keep the name.
    pool = nodes[2].target
    assert pool.http is not None
    spec = pool.spec_for(pool.http, 1.0)
    assert spec.peer == ("::1", 8080)
    assert spec.server_name == "pool.example"
    assert spec.endpoint.authority == "pool.example:8080"
    assert pool.route.address == "::1"


def test_an_http_url_on_another_host_is_connected_to_by_name() -> None:
    target = Target.from_urls(["https://pool.example", "http://legacy.example"])
    node = Target(target.https, target.http, target.trust, address="127.0.0.2")
    assert node.https is not None
    assert node.http is not None
    assert node.spec_for(node.https, 1.0).peer == ("127.0.0.2", 443)
    assert node.spec_for(node.http, 1.0).peer == ("legacy.example", 80)
    assert node.spec_for(node.http, 1.0).address is None


def test_a_name_without_address_is_an_error_of_its_own_and_too_many_ask_for_a_limit() -> None:
    answers = {
        ("pool.example", 8443): Answer(error="cannot resolve 'pool.example': Name unknown"),
        ("lone.example", 443): Answer(tuple(f"127.0.1.{n}" for n in range(17))),
    }
    with pytest.raises(ValueError, match="resolves to 17 addresses") as raised:
        expand_nodes(_deployments(), answers, max_nodes=16)
    assert str(raised.value) == (
        "f:4: lone.example resolves to 17 addresses, more than --upgrade-max-nodes (16):"
        " test them all with --upgrade-max-nodes=17, or name the nodes to test with"
        " --upgrade-resolve=lone.example:443:ADDR[,ADDR...]"
    )
    nodes = expand_nodes(_deployments(), answers, max_nodes=17)
    assert nodes[0].unresolved == "cannot resolve 'pool.example': Name unknown"
    assert len(nodes) == 1 + 1 + 1 + 17


def test_answers_travel_to_workers_as_plain_lists() -> None:
    answers = {("a.example", 443): Answer(("127.0.0.2",)), ("b.example", 80): Answer(error="x")}
    assert answers_from_json(answers_to_json(answers)) == answers
    assert answers_from_json(None) is None
    assert answers_from_json([["a", 1]]) is None


# -- the resolver ---------------------------------------------------------------------
def _resolver(table: dict[str, Any], delay: float = 0.0) -> Any:
    def resolve(host: str, port: int, **_: Any) -> list[Any]:
        time.sleep(delay if host == "slow.example" else 0)
        found = table[host]
        if isinstance(found, BaseException):
            raise found
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, 1, 6, "", (a, port)) for a in found
        ]

    return resolve


def test_answers_are_sorted_ipv4_first_and_deduplicated() -> None:
    table = {"pool.example": ["::1", "127.0.0.10", "127.0.0.9", "127.0.0.10", "::1"]}
    answers = resolve_names([("pool.example", 443)], timeout=1, resolver=_resolver(table))
    assert answers == {("pool.example", 443): Answer(("127.0.0.9", "127.0.0.10", "::1"))}


def test_a_hanging_resolver_costs_the_timeout_once_for_every_name() -> None:
    table: dict[str, Any] = {
        "slow.example": ["127.0.0.2"],
        "gone.example": socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
        "empty.example": [],
        **{f"n{i}.example": [f"127.0.2.{i}"] for i in range(20)},
    }
    names = [(host, 443) for host in table]
    started = time.monotonic()
    answers = resolve_names(names, timeout=0.5, resolver=_resolver(table, delay=30))
    assert time.monotonic() - started < 1.5  # one timeout for all, not one each
    assert (
        answers[("slow.example", 443)].error
        == "cannot resolve 'slow.example': no answer within 0.5 s"
    )
    assert answers[("gone.example", 443)].error == (
        "cannot resolve 'gone.example': Name or service not known"
    )
    assert (
        answers[("empty.example", 443)].error
        == "cannot resolve 'empty.example': no A or AAAA address"
    )
    assert answers[("n7.example", 443)] == Answer(("127.0.2.7",))
    assert any(t.name == "pytest-upgrade-dns" and t.daemon for t in threading.enumerate())


def test_localhost_resolves_through_the_system_resolver() -> None:
    answers = resolve_names([("localhost", 443)], timeout=5)
    assert answers[("localhost", 443)].error is None
    assert "127.0.0.1" in answers[("localhost", 443)].addresses


# -- where a node's probes go ---------------------------------------------------------
def test_a_spec_connects_to_the_address_and_names_the_name() -> None:
    spec = ConnectionSpec(
        Endpoint("https", "pool.example", 8443), ClientTrust(), 1.0, address="::1"
    )
    assert spec.peer == ("::1", 8443)
    assert spec.server_name == "pool.example"
    assert ConnectionSpec(Endpoint("https", "pool.example", 8443), ClientTrust(), 1.0).peer == (
        "pool.example",
        8443,
    )


def test_each_node_has_its_own_host_slots() -> None:
    target = Target.from_urls(["https://pool.example:8443"])
    node = Target(target.https, None, target.trust, address="127.0.0.3")
    assert host_of(node) == ("127.0.0.3", 8443)
    assert node.https is not None
    probe = HandshakeProbe(node.spec_for(node.https, 1.0), "TLSv1")
    assert probe_host(probe, node) == ("127.0.0.3", 8443)


class _Node(HandshakeProbe):
    """A node that accepts TLS 1.0 at 127.0.0.3 and refuses it elsewhere."""

    calls = 0

    def __call__(self) -> TlsHandshake:
        type(self).calls += 1
        bad = self.spec.address == "127.0.0.3"
        outcome = HandshakeOutcome.ACCEPTED if bad else HandshakeOutcome.REFUSED
        return handshake(self.version, outcome, self.spec.address or "")


def test_the_handshake_cache_answers_each_node_apart() -> None:
    cache = HandshakeCache()
    trust = ClientTrust()
    endpoint = Endpoint("https", "pool.example", 8443)
    answers = [
        cache.handshake(_Node(ConnectionSpec(endpoint, trust, 1.0, address=address), "TLSv1"))
        for address in ("127.0.0.2", "127.0.0.3", "127.0.0.2", "127.0.0.3")
    ]
    assert [a.outcome for a in answers] == [
        HandshakeOutcome.REFUSED,
        HandshakeOutcome.ACCEPTED,
        HandshakeOutcome.REFUSED,
        HandshakeOutcome.ACCEPTED,
    ]
    assert _Node.calls == 2  # asked once per node
    assert len(cache) == 2


# -- QUIC ------------------------------------------------------------------------------
@pytest.mark.parametrize("advertised", ['h3=":8443"', 'h3="pool.example:8443"'])
def test_an_h3_alternative_on_the_origins_host_goes_to_the_node(
    monkeypatch: pytest.MonkeyPatch, advertised: str
) -> None:
    """RFC 7838 §2.1: an empty alt-authority host is the origin's; the origin's own name
    too would resolve to any node, so the node probed is asked over QUIC as well."""
    from pytest_upgrade._requirements import parse_declared
    from pytest_upgrade.protocols import h3
    from support.observations import exchange, response

    answered = exchange("legacy", response(426, ("alt-svc", f"{advertised}; ma=60")))
    asked: list[tuple[str, int]] = []
    monkeypatch.setattr(h3, "quic_unavailable", lambda spec: None)
    monkeypatch.setattr(h3, "http1_exchange", lambda *a, **k: answered)
    monkeypatch.setattr(h3, "http2_exchange", lambda *a, **k: answered)

    def h3_exchange(spec: ConnectionSpec, request: Any, *, role: str, alternative: Any) -> Any:
        asked.append(alternative)
        return exchange(role, response(200, http_version="3"))

    monkeypatch.setattr(h3, "h3_exchange", h3_exchange)
    target = Target.from_urls(["https://pool.example:8443"])
    node = Target(target.https, None, target.trust, address="::1")
    probes = h3.H3.plan(parse_declared("h3 /"), node, 1.0)
    for probe in probes:
        probe()
    assert asked == [("::1", 8443)]


# -- the reports ----------------------------------------------------------------------
def _entry(node: str | None, verdict: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "nodeid": f"upgrade-requirements::test_requirement[h2 GET / @{node}]",
        "requirement": {
            "protocol": "h2",
            "path": "/",
            "method": "GET",
            "headers": {},
            "after": None,
        },
        "target": "https://pool.example:8443",
        "deployment": "pool",
        "verdict": verdict,
        "checks": [
            {"id": "tls-legacy-refused", "outcome": "failed" if verdict == "failed" else "passed"}
        ],
    }
    if node is not None:
        entry["node"] = node
    return entry


def test_the_roll_ups_count_a_deployments_failing_nodes() -> None:
    from pytest_upgrade.report.model import node_note

    entries: list[Any] = [_entry("192.0.2.11", "passed"), _entry("192.0.2.12", "failed")]
    assert node_note([*entries, _entry("192.0.2.13", "passed")]) == "1 of 3 nodes fails"
    assert node_note([*entries, _entry("192.0.2.13", "error")]) == "2 of 3 nodes fail"
    assert node_note([entries[0], _entry("192.0.2.13", "passed")]) == "all 2 nodes pass"
    assert node_note([_entry(None, "failed")]) == ""  # one node: nothing to count


def test_a_fingerprint_and_a_waiver_name_the_node() -> None:
    from pytest_upgrade._waivers import parse_waivers
    from pytest_upgrade.report.baseline import Fingerprint, fingerprints
    from pytest_upgrade.report.diff import compare_documents, render_diff_text

    bad: Any = _entry("192.0.2.12", "failed")
    assert fingerprints(bad) == [
        Fingerprint("pool", "192.0.2.12", "h2 GET /", "tls-legacy-refused")
    ]
    assert fingerprints(_entry(None, "failed"))[0].node == ""
    (waiver,) = parse_waivers(
        '[[waiver]]\ndeployment = "pool"\nrequirement = "h2 /"\nnode = "192.0.2.12"\n'
        'until = 2099-01-01\nreason = "OPS-1"\n',
        "w.toml",
    )
    assert waiver.covers(bad, "tls-legacy-refused")
    assert not waiver.covers(_entry("192.0.2.11", "failed"), "tls-legacy-refused")
    assert not waiver.covers(_entry(None, "failed"), "tls-legacy-refused")
    text = render_diff_text(compare_documents({"results": []}, {"results": [bad]}))
    assert "h2 GET / @192.0.2.12 [tls-legacy-refused]" in text
