"""What a probe offered, as data: its prose and the curl command built from it."""

from __future__ import annotations

import pytest

from pytest_upgrade._model import Offer, Requirement
from pytest_upgrade.report.reproduce import reproduce_commands
from support.observations import exchange, observation

# Every offer the probes make, with the prose reports show and curl's version option.
OFFERS = [
    (Offer(("1.1",), True, ("http/1.1",)), "HTTP/1.1 over TLS, ALPN http/1.1", "--http1.1"),
    (Offer(("1.0",), True, ("http/1.1",)), "HTTP/1.0 over TLS, ALPN http/1.1", "--http1.0"),
    (Offer(("1.1",), False), "HTTP/1.1 over cleartext", "--http1.1"),
    (Offer(("1.0",), False), "HTTP/1.0 over cleartext", "--http1.0"),
    (Offer(("2",), True, ("h2", "http/1.1")), "HTTP/2 over TLS, ALPN h2, http/1.1", "--http2"),
    (
        Offer(("2", "1.1"), True, ("h2", "http/1.1"), "TLSv1.3"),
        "HTTP/2 or HTTP/1.1 over TLS, ALPN h2, http/1.1, TLSv1.3 or later",
        "--http2 --tlsv1.3",
    ),
    (Offer(("2",), False), "HTTP/2 over cleartext with prior knowledge", "--http2-prior-knowledge"),
    (
        Offer(("1.1",), True, ("http/1.1",), websocket=True),
        "WebSocket handshake (RFC 6455, version 13) over TLS",
        "--http1.1",
    ),
    (
        Offer(("1.1",), False, websocket=True),
        "WebSocket handshake (RFC 6455, version 13) over cleartext",
        "--http1.1",
    ),
]


@pytest.mark.parametrize(("offer", "prose", "flags"), OFFERS)
def test_an_offer_reads_as_before_and_reproduces_with_curl(
    offer: Offer, prose: str, flags: str
) -> None:
    assert offer.describe() == prose
    scheme = "https" if offer.tls else "http"
    upgraded = exchange("upgraded", url=f"{scheme}://127.0.0.1:8443/", offered=prose, offer=offer)
    observed = observation(Requirement("h2"), upgraded, target="target")
    (command,) = reproduce_commands(observed, cafile=None)
    assert command.startswith(f"curl -sv {flags} ")
    assert ("--max-time 5" in command) is offer.websocket


def test_an_exchange_without_an_offer_has_no_curl_command() -> None:
    # A probe that could not be made (the target lacks the URL) records no offer.
    observed = observation(Requirement("h2"), exchange("upgraded", url="", offered=""))
    assert reproduce_commands(observed, cafile=None) == []


# Offers curl cannot make (an extended CONNECT, a TLS upgrade on a cleartext
# connection): their prose, and no curl command that would pretend to.
CURL_CANNOT = [
    (
        Offer(("2",), True, ("h2",), websocket=True),
        "WebSocket over HTTP/2 (RFC 8441 extended CONNECT) over TLS, ALPN h2",
    ),
    (
        Offer(("1.1",), True, tls_minimum="TLSv1.2", tls_upgrade="TLS/1.2"),
        "HTTP/1.1 over TLS started in-band on the cleartext connection (TLS/1.2, RFC 2817),"
        " TLSv1.2 or later",
    ),
]


@pytest.mark.parametrize(("offer", "prose"), CURL_CANNOT)
def test_an_offer_curl_cannot_make_has_no_curl_command(offer: Offer, prose: str) -> None:
    assert offer.describe() == prose
    connect = exchange(
        "websocket-h2",
        url="https://127.0.0.1:8443/ws",
        method="CONNECT",
        offered=prose,
        offer=offer,
    )
    observed = observation(Requirement("websocket"), connect)
    assert reproduce_commands(observed, cafile=None) == []


def test_the_in_band_tls_upgrade_request_reproduces_with_curl() -> None:
    """RFC 2817 §3.2: curl shows whether OPTIONS * with Upgrade: TLS/1.2 gets its 101."""
    offer = Offer(("1.1",), False, tls_upgrade="TLS/1.2")
    assert offer.describe() == "OPTIONS * with Upgrade: TLS/1.2 (RFC 2817 §3.2) over cleartext"
    upgrade = exchange(
        "tls-upgrade",
        url="http://127.0.0.1:8080",
        method="OPTIONS",
        offered=offer.describe(),
        request_headers=(
            ("Host", "127.0.0.1:8080"),
            ("Upgrade", "TLS/1.2"),
            ("Connection", "Upgrade"),
        ),
        offer=offer,
    )
    observed = observation(Requirement("TLS/1.2"), upgrade)
    assert reproduce_commands(observed, cafile=None) == [
        "curl -sv --http1.1 -X OPTIONS --request-target '*' -H 'Upgrade: TLS/1.2'"
        " -H 'Connection: Upgrade' -o /dev/null http://127.0.0.1:8080"
    ]
