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

from .._model import Exchange, FailureKind, Offer
from .connection import USER_AGENT, Connection, Deadline, ProbeError, open_connection
from .exchange import recording
from .http1 import http1_headers, http1_roundtrip
from .spec import ConnectionSpec, Request

__all__ = ["tls_upgrade_exchanges"]


def tls_upgrade_exchanges(
    spec: ConnectionSpec,
    request: Request,
    *,
    token: str,
    tls_minimum: str,
    role: str,
    upgraded_role: str,
) -> tuple[Exchange, ...]:
    """Upgrade a cleartext connection to TLS in-band (RFC 2817 §3.2-3.3), then make the request.

    ``token`` is what Upgrade asks for ("TLS/1.2"); the handshake offers
    ``tls_minimum`` and every later version, and verifies the certificate
    against the spec's trust for its server name, as a connection to https would.
    ``role`` names the exchange of OPTIONS * asking for the upgrade, ``upgraded_role``
    the request's over the connection upgraded to TLS.
    """
    deadline = Deadline(spec.timeout)
    # OPTIONS * names no resource (RFC 9112 §3.2.4): no base path.
    server = dataclasses.replace(spec.endpoint, base_path="")
    asked = Offer(("1.1",), False, tls_upgrade=token)
    options = Request(
        "OPTIONS",
        "*",
        (
            ("Host", spec.endpoint.authority),
            ("User-Agent", USER_AGENT),
            ("Upgrade", token),
            ("Connection", "Upgrade"),
            *request.headers,
        ),
    )
    connection: Connection | None = None
    try:
        with recording(role=role, url=server.url(""), method="OPTIONS", offer=asked) as record:
            record.request_headers = options.headers
            connection = open_connection(spec, deadline)
            record.transport = connection.transport(spec.endpoint.scheme)
            record.response = http1_roundtrip(connection, server, options, spec.limits)
        upgrade = record.exchange()
        if connection is None or upgrade.response is None or upgrade.response.status != 101:
            return (upgrade,)
        return upgrade, _upgraded(
            connection, spec, request, token=token, tls_minimum=tls_minimum, role=upgraded_role
        )
    finally:
        if connection is not None:
            connection.close()


def _upgraded(
    connection: Connection,
    spec: ConnectionSpec,
    request: Request,
    *,
    token: str,
    tls_minimum: str,
    role: str,
) -> Exchange:
    """After the 101: the TLS handshake, the answer to OPTIONS *, then the request."""
    offer = Offer(("1.1",), True, tls_minimum=tls_minimum, tls_upgrade=token)
    endpoint = spec.endpoint
    sent = request.but(headers=http1_headers(endpoint, request))
    url = endpoint.url(request.path)
    with recording(role=role, url=url, method=request.method, offer=offer) as record:
        record.request_headers = sent.headers
        try:
            connection.start_tls(spec.trust.context(minimum=tls_minimum), spec.server_name)
        except ProbeError as exc:
            # After a 101 a certificate that does not verify is the server's
            # fault in this exchange, not a reason the target cannot be tested.
            kind = FailureKind.PROTOCOL if exc.kind is FailureKind.CERTIFICATE else exc.kind
            raise ProbeError(kind, f"after the 101, the TLS handshake: {exc.message}") from None
        record.transport = connection.transport(endpoint.scheme)
        server = dataclasses.replace(endpoint, base_path="")
        options = Request("OPTIONS", "*", (("Host", endpoint.authority),))
        try:
            # RFC 2817 §3.3: once TLS is up, the server answers OPTIONS * over it.
            http1_roundtrip(connection, server, options, spec.limits, sent=True)
        except ProbeError as exc:
            raise ProbeError(
                exc.kind, f"over TLS, the answer to OPTIONS * (RFC 2817 §3.3): {exc.message}"
            ) from None
        try:
            record.response = http1_roundtrip(connection, endpoint, sent, spec.limits)
        except ProbeError as exc:
            raise ProbeError(
                exc.kind, f"the request over the upgraded connection: {exc.message}"
            ) from None
    return record.exchange()
