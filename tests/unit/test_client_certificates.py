"""Client certificates (mTLS) as configured: the files checked once, the trust that
offers them in every context, the targets-file fields, the reports and reproduce commands."""

from __future__ import annotations

import dataclasses
import pathlib
import socket
import ssl
import threading

import pytest
import trustme
from cryptography.hazmat.primitives import serialization

from pytest_upgrade._model import HandshakeOutcome, Offer, Requirement, Route
from pytest_upgrade._targets import TargetLine, build_fleet, parse_target_line
from pytest_upgrade.glue.settings import client_certificate
from pytest_upgrade.probes.client_cert import check_client_certificate
from pytest_upgrade.probes.endpoint import ClientTrust, offered_certificate
from pytest_upgrade.report.reproduce import reproduce_commands
from pytest_upgrade.report.results import route_to_json
from support.observations import exchange, handshake, observation


class Files:
    """A client CA, a client certificate and key in every layout, in a private directory."""

    def __init__(self, directory: pathlib.Path) -> None:
        directory.chmod(0o700)
        self.directory = directory
        self.ca = trustme.CA()
        leaf = self.ca.issue_cert("client@example.test")
        other = self.ca.issue_cert("other@example.test")
        self.combined = self._write("client.pem", leaf.private_key_and_cert_chain_pem.bytes())
        self.cert = self._write("client.crt", leaf.cert_chain_pems[0].bytes())
        self.key = self._write("client.key", leaf.private_key_pem.bytes())
        self.key_text = leaf.private_key_pem.bytes().decode()
        self.other_key = self._write("other.key", other.private_key_pem.bytes())
        self.junk = self._write("junk.pem", b"not a certificate\n")

    def _write(self, name: str, data: bytes) -> str:
        path = self.directory / name
        path.write_bytes(data)
        path.chmod(0o600)
        return str(path)

    def encrypted_key(self) -> str:
        key = serialization.load_pem_private_key(self.key_text.encode(), password=None)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
        return self._write("encrypted.key", pem)


@pytest.fixture
def files(tmp_path: pathlib.Path) -> Files:
    (tmp_path / "keys").mkdir()
    return Files(tmp_path / "keys")


def _problem(cert: str, key: str | None = None, option: str = "--upgrade-client-cert") -> str:
    with pytest.raises(ValueError, match=f"^{option}|^--upgrade-client-key|^key=") as caught:
        check_client_certificate(cert, key, option=option)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_certificate_and_key_in_one_file_or_two_load(files: Files) -> None:
    check_client_certificate(files.combined, None, option="--upgrade-client-cert")
    check_client_certificate(files.cert, files.key, option="--upgrade-client-cert")


def test_a_missing_file_is_named(files: Files) -> None:
    missing = str(files.directory / "nope.pem")
    assert _problem(missing) == f"--upgrade-client-cert: no such file: {missing}"
    assert _problem(files.cert, missing) == f"--upgrade-client-key: no such file: {missing}"
    assert _problem(files.cert, missing, "cert=") == f"key=: no such file: {missing}"


def test_a_certificate_without_its_key_says_where_the_key_goes(files: Files) -> None:
    assert _problem(files.cert) == (
        f"--upgrade-client-cert: no PEM private key in {files.cert},"
        " or give the key with --upgrade-client-key"
    )
    assert _problem(files.junk) == f"--upgrade-client-cert: no PEM certificate in {files.junk}"
    assert "no PEM certificate" in _problem(files.key)


def test_a_key_of_another_certificate_is_refused_without_showing_it(files: Files) -> None:
    message = _problem(files.cert, files.other_key)
    assert message == (
        "--upgrade-client-cert: the private key does not match the certificate"
        f" ({files.cert} and {files.other_key})"
    )
    assert "PRIVATE KEY" not in message


def test_a_key_with_a_passphrase_is_a_usage_error_not_a_prompt(files: Files) -> None:
    encrypted = files.encrypted_key()
    message = _problem(files.cert, encrypted)
    assert message.startswith(
        f"--upgrade-client-cert: the private key in {encrypted} is encrypted with a passphrase,"
        " and no passphrase can be given"
    )
    assert "ENCRYPTED" not in message
    assert files.key_text[40:60] not in message


def test_the_options_are_checked_once_as_the_run_is_configured(files: Files) -> None:
    assert client_certificate({}) is None
    assert client_certificate({"upgrade_client_cert": "", "upgrade_client_key": ""}) is None
    assert client_certificate({"--upgrade-client-cert": files.combined}) == (files.combined, None)
    given = {"--upgrade-client-cert": files.cert, "upgrade_client_key": files.key}
    assert client_certificate(given) == (files.cert, files.key)
    # The command line wins over the ini file.
    given = {"--upgrade-client-cert": files.combined, "upgrade_client_cert": files.junk}
    assert client_certificate(given) == (files.combined, None)
    with pytest.raises(pytest.UsageError, match="give --upgrade-client-cert=PEM too"):
        client_certificate({"--upgrade-client-key": files.key})
    with pytest.raises(pytest.UsageError, match=r"^--upgrade-client-cert: no PEM private key in"):
        client_certificate({"upgrade_client_cert": files.cert})


def test_a_targets_line_names_its_certificate_from_the_files_directory(files: Files) -> None:
    line = parse_target_line(
        "https://a.example cert=client.crt key=client.key", where="t:1", base_dir=files.directory
    )
    assert line is not None
    assert (line.cert, line.key) == (files.cert, files.key)
    line = parse_target_line(
        "https://a.example cert=client.pem", where="t:1", base_dir=files.directory
    )
    assert line is not None
    assert (line.cert, line.key) == (files.combined, None)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ("cert=nope.pem", "cert=nope.pem: no such file: "),
        ("key=client.key", "key= is the key of a cert=: give cert=PEM on the line too"),
        ("cert=client.crt", "cert=: no PEM private key in "),
        ("cert=client.crt key=other.key", "cert=: the private key does not match"),
    ],
)
def test_a_bad_certificate_field_is_named(files: Files, fields: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(")):
        parse_target_line(f"https://a.example {fields}", where="t:1", base_dir=files.directory)


def test_a_fleet_shares_one_trust_per_ca_and_certificate(files: Files) -> None:
    lines = [
        TargetLine(("https://a.example",)),
        TargetLine(("https://b.example",)),
        TargetLine(("https://c.example",), cert=files.cert, key=files.key),
        TargetLine(("https://d.example",), cert=files.cert, key=files.key),
        TargetLine(("https://e.example",), cafile=files.junk),
    ]
    a, b, c, d, e = build_fleet(lines, cafile=None, client_cert=(files.combined, None))
    assert a.target.trust is b.target.trust
    assert (a.target.trust.cert, a.target.trust.key) == (files.combined, None)
    assert c.target.trust is d.target.trust is not a.target.trust
    assert (c.target.trust.cert, c.target.trust.key) == (files.cert, files.key)
    # A line's own CA with the run's certificate is a trust of its own.
    assert e.target.trust not in (a.target.trust, c.target.trust)
    assert e.target.trust.cert == files.combined
    assert c.target.route == Route(client_cert=files.cert, client_key=files.key)
    assert build_fleet(lines[:1], cafile=None)[0].target.route == Route()


def test_a_key_needs_its_certificate() -> None:
    with pytest.raises(ValueError, match="needs its certificate"):
        ClientTrust(None, key="client.key")


def _serve_once(
    context: ssl.SSLContext, seen: list[object]
) -> tuple[socket.socket, threading.Thread]:
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn, context.wrap_socket(conn, server_side=True) as tls:
            seen.append(tls.getpeercert())
            tls.sendall(b"ok")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


def test_every_context_of_the_trust_offers_the_certificate(files: Files) -> None:
    server_ca = trustme.CA()
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ca.issue_cert("127.0.0.1").configure_cert(server)
    files.ca.configure_trust(server)
    server.verify_mode = ssl.CERT_REQUIRED
    cafile = str(files.directory / "server-ca.pem")
    server_ca.cert_pem.write_to_path(cafile)
    trust = ClientTrust(cafile, files.cert, files.key)
    for context in (
        trust.context(("h2",)),
        trust.context(minimum="TLSv1.2"),
        trust.alike().context(),
    ):
        assert offered_certificate(context) == files.cert
        seen: list[object] = []
        listener, thread = _serve_once(server, seen)
        with (
            listener,
            socket.create_connection(listener.getsockname(), timeout=5) as sock,
            context.wrap_socket(sock, server_hostname="127.0.0.1") as tls,
        ):
            assert tls.recv(2) == b"ok"
        thread.join(5)
        assert ("email", "client@example.test") in seen[0]["subjectAltName"]  # type: ignore[index]
    assert offered_certificate(ClientTrust(cafile).context()) is None


def test_quic_loads_the_same_chain_in_either_layout(files: Files) -> None:
    configuration_module = pytest.importorskip("aioquic.quic.configuration")
    from pytest_upgrade.probes.quic import load_quic_certificate

    for cert, key in ((files.combined, None), (files.cert, files.key)):
        configuration = configuration_module.QuicConfiguration(is_client=True)
        load_quic_certificate(configuration, cert, key)
        expected = ssl.PEM_cert_to_DER_cert(pathlib.Path(files.cert).read_text())
        from cryptography.hazmat.primitives.serialization import Encoding

        assert configuration.certificate.public_bytes(Encoding.DER) == expected
        assert configuration.private_key.public_key() == configuration.certificate.public_key()


def test_reports_and_reproduce_commands_name_the_files_never_their_content(files: Files) -> None:
    offer = Offer(("1.1",), True, ("http/1.1",))
    legacy = exchange("legacy", url="https://a.example/v2", offer=offer)
    route = Route(client_cert=files.cert, client_key=files.key)
    tls10 = handshake("TLSv1", HandshakeOutcome.REFUSED)
    observed = dataclasses.replace(
        observation(Requirement("h2"), legacy, handshakes=(tls10,)), route=route
    )
    curl, openssl = reproduce_commands(observed, cafile=None)
    assert f"--cert {files.cert} --key {files.key}" in curl
    assert f"-cert {files.cert} -key {files.key}" in openssl
    alone = dataclasses.replace(observed, route=Route(client_cert=files.combined))
    assert f"-cert {files.combined} <" in reproduce_commands(alone, cafile=None)[1]
    assert route_to_json(route) == {"client_cert": files.cert, "client_key": files.key}
    assert route_to_json(Route(client_cert=files.combined)) == {"client_cert": files.combined}
    assert route_to_json(Route()) == {}
