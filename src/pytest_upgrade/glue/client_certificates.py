"""pytest wiring for client certificates (mTLS): ``--upgrade-client-cert`` and
``--upgrade-client-key`` (the ini values ``upgrade_client_cert`` and
``upgrade_client_key``).

The certificate (and its key, in the same PEM file or in the key file) is
offered in every handshake the probes make to a live target that asks for
one (``probes.client_cert``); a targets-file line's ``cert=``/``key=`` win
over them. Both files are checked once, when the run is configured: they
exist, they load, the key matches and needs no passphrase (``glue.settings``).
"""

from __future__ import annotations

import pytest

__all__: list[str] = []  # a pytest plugin: hooks only


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("upgrade")
    group.addoption(
        "--upgrade-client-cert",
        metavar="PEM",
        help="offer this client certificate (mTLS) in every handshake with --upgrade-target:"
        " the certificate and its private key in one PEM file, or the key in"
        " --upgrade-client-key (a key with a passphrase cannot be used).",
    )
    group.addoption(
        "--upgrade-client-key",
        metavar="PEM",
        help="the private key of --upgrade-client-cert, when it is in a file of its own.",
    )
    parser.addini("upgrade_client_cert", "client certificate (PEM) offered to live targets.")
    parser.addini("upgrade_client_key", "the key of upgrade_client_cert, in a file of its own.")
