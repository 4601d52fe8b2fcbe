"""An intermediate CA as the trust anchor (RFC 5280 §6.1): ``--upgrade-ca`` and ``ca=``.

The server's certificate is issued by an intermediate of a trustme root, and
the server sends the leaf and the intermediate, as servers do. Trusting only
the intermediate is enough for curl (``curl --cacert inter.pem`` succeeds)
and for the plugin's client contexts (``ssl.VERIFY_X509_PARTIAL_CHAIN``);
trusting the root works as before; trusting an unrelated CA does not.
"""

from __future__ import annotations

import json
import pathlib
import socket
import ssl
from collections.abc import Iterator

import pytest
import trustme

from pytest_upgrade.probes.endpoint import ClientTrust, Endpoint
from pytest_upgrade.probes.http1 import http1_exchange
from pytest_upgrade.probes.spec import ConnectionSpec, Request
from support.listening import accepting


class Chain:
    def __init__(self, directory: pathlib.Path) -> None:
        root = trustme.CA()
        intermediate = root.create_child_ca()
        leaf = intermediate.issue_cert("127.0.0.1")
        self.root, self.intermediate = directory / "root.pem", directory / "inter.pem"
        self.other = directory / "other.pem"
        self.server = directory / "server.pem"
        root.cert_pem.write_to_path(str(self.root))
        intermediate.cert_pem.write_to_path(str(self.intermediate))
        trustme.CA().cert_pem.write_to_path(str(self.other))
        leaf.private_key_and_cert_chain_pem.write_to_path(str(self.server))


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Chain:
    directory = tmp_path_factory.mktemp("chain")
    directory.chmod(0o700)
    return Chain(directory)


@pytest.fixture(scope="module")
def server(chain: Chain) -> Iterator[str]:
    """An HTTPS server sending leaf + intermediate, answering every request 200."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(chain.server))
    listener = socket.create_server(("127.0.0.1", 0))

    def answer(conn: socket.socket) -> None:
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.settimeout(5)
                tls.recv(65536)
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        except OSError:
            pass  # a refused handshake (the version probes) or a client that left

    with listener, accepting(listener, answer):
        yield f"https://127.0.0.1:{listener.getsockname()[1]}"


@pytest.mark.parametrize(
    ("anchor", "verified"), [("intermediate", True), ("root", True), ("other", False)]
)
def test_the_probes_trust_an_intermediate_as_anchor(
    chain: Chain, server: str, anchor: str, verified: bool
) -> None:
    trust = ClientTrust(str(getattr(chain, anchor)))
    spec = ConnectionSpec(Endpoint.from_url(server), trust, 5)
    exchange = http1_exchange(spec, Request("GET", "/"), role="upgraded")
    if verified:
        assert exchange.response is not None, exchange.failure
        assert exchange.response.status == 200
    else:
        assert exchange.failure is not None
        assert "certificate verify failed" in exchange.failure.message


SUITE = """
import pytest

@pytest.mark.requires_upgrade("HTTP/1.1", path="/")
def test_requirement(upgrade):
    pass
"""


def _upgraded(pytester: pytest.Pytester, *options: str) -> dict[str, object]:
    pytester.makepyfile(test_suite=SUITE)
    report = pytester.path / "report.json"
    pytester.runpytest(
        "-p", "no:cacheprovider", "--upgrade-timeout=5", f"--upgrade-report={report}", *options
    )
    (entry,) = json.loads(report.read_text())["results"]
    (upgraded,) = [e for e in entry["exchanges"] if e["role"] == "upgraded"]
    return upgraded  # type: ignore[no-any-return]


def test_an_intermediate_as_upgrade_ca(
    pytester: pytest.Pytester, chain: Chain, server: str
) -> None:
    # $ curl -sv --cacert inter.pem https://127.0.0.1:PORT/ -> HTTP/1.1 200 OK
    upgraded = _upgraded(
        pytester, f"--upgrade-target={server}", f"--upgrade-ca={chain.intermediate}"
    )
    assert upgraded["response"]["status"] == 200, upgraded  # type: ignore[index]


def test_an_intermediate_as_ca_on_a_targets_line(
    pytester: pytest.Pytester, chain: Chain, server: str
) -> None:
    targets = pytester.path / "targets.txt"
    targets.write_text(f"{server} ca={chain.intermediate}\n")
    upgraded = _upgraded(pytester, f"--upgrade-targets-file={targets}")
    assert upgraded["response"]["status"] == 200, upgraded  # type: ignore[index]
