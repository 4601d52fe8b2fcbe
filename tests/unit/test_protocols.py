"""The protocol registry: one declaration per protocol, and everything else derived from it."""

from __future__ import annotations

import ssl

import pytest

from pytest_upgrade._model import Requirement
from pytest_upgrade.checks.catalogue import REGISTRY
from pytest_upgrade.protocols import ENFORCEABLE, PROTOCOLS, TOKENS, protocol_for
from support.observations import exchange, observation, response


def test_every_name_belongs_to_one_protocol() -> None:
    names = [name.casefold() for p in PROTOCOLS.values() for name in p.names]
    assert len(names) == len(set(names))
    assert tuple(PROTOCOLS) == TOKENS


def test_every_plan_records_a_legacy_and_an_upgraded_exchange() -> None:
    for protocol in PROTOCOLS.values():
        assert protocol.roles[:2] == ("legacy", "upgraded"), protocol.token


def test_enforceable_protocols_are_those_that_declare_enforcement() -> None:
    assert ENFORCEABLE == ("h2", "h2c", "TLS/1.2", "TLS/1.3", "HTTP/1.1")
    assert protocol_for("websocket").enforce is None
    assert protocol_for("websocket").websocket_client


def test_tls_requirements_set_the_server_minimum() -> None:
    assert protocol_for("TLS/1.3").server_tls_minimum is ssl.TLSVersion.TLSv1_3
    assert protocol_for("TLS/1.2").server_tls_minimum is ssl.TLSVersion.TLSv1_2
    assert protocol_for("h2").server_tls_minimum is None


def test_an_unregistered_protocol_is_an_error_not_http11() -> None:
    with pytest.raises(KeyError, match=r"unregistered protocol 'h9'.*'h2'"):
        protocol_for("h9")
    upgraded = exchange("upgraded", response(200), offered="")
    observed = observation(Requirement("h9"), upgraded, target="target")
    with pytest.raises(KeyError, match="unregistered protocol 'h9'"):
        REGISTRY["upgraded-protocol"].function(observed)
