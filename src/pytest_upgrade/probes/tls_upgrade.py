"""The in-band TLS upgrade (RFC 2817): TLS started on the cleartext connection.

A 426 naming ``TLS/1.x`` tells the client to upgrade this connection as
RFC 2817 §3 describes (§4.2), which is what IPP clients and printers do. A
client for which a cleartext answer is unacceptable sends ``OPTIONS *`` with
``Upgrade: TLS/1.x`` and ``Connection: Upgrade`` first (§3.2). A server that
switches answers 101, the TLS handshake follows on the same connection, and
the server then continues with the response to ``OPTIONS *`` (§3.3). Only
then does the client send its real request, over TLS.

The probe records two exchanges: ``tls-upgrade`` (the ``OPTIONS *`` and its
101, or whatever came instead) and, after a 101, ``tls-upgraded`` (the
requirement's request over the upgraded connection, or why it failed).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from .._model import Exchange, FailureKind, Offer
from .connection import (
    BODY_LIMIT,
    USER_AGENT,
    Connection,
    Deadline,
    ProbeError,
    open_connection,
    recording,
)
from .endpoint import ClientTrust, Endpoint
from .http1 import http1_roundtrip

__all__ = ["TLS_UPGRADE", "TLS_UPGRADED", "tls_upgrade_exchanges"]

TLS_UPGRADE = "tls-upgrade"  # OPTIONS * with Upgrade: TLS/1.x, over cleartext
TLS_UPGRADED = "tls-upgraded"  # the request, over the connection upgraded to TLS


def tls_upgrade_exchanges(
    endpoint: Endpoint,
    *,
    token: str,
    tls_minimum: str,
    method: str,
    path: str,
    headers: Sequence[tuple[str, str]] = (),
    trust: ClientTrust,
    timeout: float,
    body_limit: int = BODY_LIMIT,
) -> tuple[Exchange, ...]:
    """Upgrade a cleartext connection to TLS in-band (RFC 2817 §3.2-3.3), then make the request.

    ``token`` is what Upgrade asks for ("TLS/1.2"); the handshake offers
    ``tls_minimum`` and every later version, and verifies the certificate
    against ``trust`` for the endpoint's host, as a connection to https would.
    """
    deadline = Deadline(timeout)
    # OPTIONS * names no resource (RFC 9112 §3.2.4): no base path.
    server = dataclasses.replace(endpoint, base_path="")
    asked = Offer(("1.1",), False, tls_upgrade=token)
    upgrade_headers = [
        ("Host", endpoint.authority),
        ("User-Agent", USER_AGENT),
        ("Upgrade", token),
        ("Connection", "Upgrade"),
        *headers,
    ]
    connection: Connection | None = None
    try:
        with recording(
            role=TLS_UPGRADE, endpoint=server, method="OPTIONS", path="", offer=asked
        ) as record:
            record["request_headers"] = tuple(upgrade_headers)
            connection = open_connection(endpoint, deadline, None)
            record["transport"] = connection.transport(endpoint.scheme)
            record["response"] = http1_roundtrip(
                connection, server, "OPTIONS", "*", upgrade_headers, "1.1", body_limit
            )
        upgrade = record["exchange"]
        assert isinstance(upgrade, Exchange)
        if connection is None or upgrade.response is None or upgrade.response.status != 101:
            return (upgrade,)
        return upgrade, _upgraded(
            connection, endpoint, token, tls_minimum, method, path, headers, trust, body_limit
        )
    finally:
        if connection is not None:
            connection.close()


def _upgraded(
    connection: Connection,
    endpoint: Endpoint,
    token: str,
    tls_minimum: str,
    method: str,
    path: str,
    headers: Sequence[tuple[str, str]],
    trust: ClientTrust,
    body_limit: int,
) -> Exchange:
    """After the 101: the TLS handshake, the answer to OPTIONS *, then the request."""
    offer = Offer(("1.1",), True, tls_minimum=tls_minimum, tls_upgrade=token)
    request_headers = [
        ("Host", endpoint.authority),
        ("User-Agent", USER_AGENT),
        ("Accept", "*/*"),
        *headers,
    ]
    with recording(
        role=TLS_UPGRADED, endpoint=endpoint, method=method, path=path, offer=offer
    ) as record:
        record["request_headers"] = tuple(request_headers)
        try:
            connection.start_tls(trust.context(minimum=tls_minimum), endpoint.host)
        except ProbeError as exc:
            # After a 101 a certificate that does not verify is the server's
            # fault in this exchange, not a reason the target cannot be tested.
            kind = FailureKind.PROTOCOL if exc.kind is FailureKind.CERTIFICATE else exc.kind
            raise ProbeError(kind, f"after the 101, the TLS handshake: {exc.message}") from None
        record["transport"] = connection.transport(endpoint.scheme)
        server = dataclasses.replace(endpoint, base_path="")
        try:
            # RFC 2817 §3.3: once TLS is up, the server answers OPTIONS * over it.
            http1_roundtrip(
                connection,
                server,
                "OPTIONS",
                "*",
                [("Host", endpoint.authority)],
                "1.1",
                body_limit,
                sent=True,
            )
        except ProbeError as exc:
            raise ProbeError(
                exc.kind, f"over TLS, the answer to OPTIONS * (RFC 2817 §3.3): {exc.message}"
            ) from None
        try:
            record["response"] = http1_roundtrip(
                connection, endpoint, method, path, request_headers, "1.1", body_limit
            )
        except ProbeError as exc:
            raise ProbeError(
                exc.kind, f"the request over the upgraded connection: {exc.message}"
            ) from None
    exchange = record["exchange"]
    assert isinstance(exchange, Exchange)
    return exchange
