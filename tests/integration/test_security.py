"""Security: private keys stay private, verification stays on, probes stay on the target."""

from __future__ import annotations

import json
import pathlib
import re
import socket
import stat
from typing import Any

import pytest
import trustme

from pytest_upgrade import BundledCA
from support import hostile
from support.apps import conftest_source

MARKED = """
import pytest

@pytest.mark.requires_upgrade({marker})
def test_it():
    pass
"""


def _mode(path: pathlib.Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_bundled_ca_directory_is_private_and_removed() -> None:
    ca = BundledCA()
    directory = ca.ca_pem.parent
    try:
        assert directory.name.startswith("pytest-upgrade-ca-")
        assert _mode(directory) == 0o700
        files = sorted(directory.iterdir())
        assert {f.name for f in files} >= {"ca.pem", "server.key"}
        for file in files:
            assert _mode(file) == 0o600, file
        assert b"PRIVATE KEY" in (directory / "server.key").read_bytes()
    finally:
        ca.close()
    assert not directory.exists()
    ca.close()  # idempotent


def test_bundled_ca_is_private_during_a_session_and_gone_after(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        conftest_source()
        + """

import json, stat


@pytest.fixture(autouse=True)
def _inspect_ca(request, upgrade_server):
    directory = upgrade_server.ca.ca_pem.parent
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in directory.iterdir()}
    (request.config.rootpath / "ca.json").write_text(json.dumps({
        "dir": str(directory),
        "dir_mode": stat.S_IMODE(directory.stat().st_mode),
        "files": modes,
    }))
"""
    )
    pytester.makepyfile(test_it=MARKED.format(marker='"h2", path="/v2/orders"'))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    seen = json.loads((pytester.path / "ca.json").read_text())
    assert seen["dir_mode"] == 0o700
    assert seen["files"], seen
    assert set(seen["files"].values()) == {0o600}, seen
    assert not pathlib.Path(seen["dir"]).exists()


def test_no_option_disables_certificate_verification(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    text = result.stdout.str()
    section = text[text.index("426 Upgrade Required compliance") :]
    section = section[: section.find("\n\n[pytest]") if "\n\n[pytest]" in section else None]
    options = set(re.findall(r"--upgrade-[a-z-]+", text))
    assert "--upgrade-ca" in options
    for option in options:
        assert not re.search(r"insecure|no-verify|verify|unsafe|skip-tls|ignore-cert", option)
    ini = re.findall(r"^  (upgrade_\w+)", text, flags=re.MULTILINE)
    assert "upgrade_ca" in ini
    for name in ini:
        assert not re.search(r"insecure|verify|unsafe", name), name
    assert not re.search(r"(?i)insecure|disable.*verif|no.verif", section)


@pytest.fixture(scope="module")
def zoo_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, str]:
    """A private CA, a certificate it issued for 127.0.0.1, and an unrelated CA."""
    where = tmp_path_factory.mktemp("security-certs")
    ca, other = trustme.CA(), trustme.CA()
    ca.cert_pem.write_to_path(str(where / "ca.pem"))
    other.cert_pem.write_to_path(str(where / "other.pem"))
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_and_cert_chain_pem.write_to_path(str(where / "server.pem"))
    return str(where / "ca.pem"), str(where / "server.pem"), str(where / "other.pem")


@pytest.mark.parametrize(
    ("trust", "env", "outcome"),
    [
        pytest.param("ca", {}, "passed", id="upgrade-ca-trusts-a-private-ca"),
        pytest.param("other", {}, "error", id="another-ca-is-not-trusted"),
        pytest.param(None, {"PYTHONHTTPSVERIFY": "0"}, "error", id="pythonhttpsverify-0-ignored"),
    ],
)
def test_verification_is_always_on(
    pytester: pytest.Pytester,
    zoo_ca: tuple[str, str, str],
    monkeypatch: pytest.MonkeyPatch,
    trust: str | None,
    env: dict[str, str],
    outcome: str,
) -> None:
    ca_pem, server_pem, other_pem = zoo_ca
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    tls = hostile.server_context(server_pem)
    pytester.makepyfile(test_it=MARKED.format(marker='"h2", path="/v2/orders"'))
    with hostile.zoo_server(hostile.legacy_only(hostile.answer_426), tls=tls) as server:
        args = ["-p", "no:cacheprovider", "--upgrade-timeout=5", f"--upgrade-target={server.url()}"]
        if trust is not None:
            args.append(f"--upgrade-ca={ca_pem if trust == 'ca' else other_pem}")
        result = pytester.runpytest_subprocess(*args) if env else pytester.runpytest(*args)
    if outcome == "passed":
        result.assert_outcomes(passed=1)
    else:
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(
            ["*cannot evaluate h2 GET /v2/orders: *certificate verify failed*"]
        )


def test_probes_connect_only_to_the_target(
    pytester: pytest.Pytester,
    zoo_ca: tuple[str, str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every protocol's probes, against a target redirecting elsewhere: only its host:port."""
    ca_pem, server_pem, _ = zoo_ca
    connected: list[Any] = []
    real_connect = socket.socket.connect

    def recording_connect(self: socket.socket, address: Any) -> Any:
        connected.append(address[:2] if isinstance(address, tuple) else address)
        return real_connect(self, address)

    tests = "import pytest\n" + "\n".join(
        f"""
@pytest.mark.requires_upgrade({marker!r}, path="/p")
def test_{n}():
    pass
"""
        for n, marker in enumerate(["h2", "h2c", "websocket", "TLS/1.2", "TLS/1.3", "HTTP/1.1"])
    )
    pytester.makepyfile(test_all=tests)
    tls = hostile.server_context(server_pem)
    with hostile.zoo_server(hostile.answer_426) as elsewhere:
        # wss:// so that a WebSocket client would follow; no probe may.
        location = f"wss://127.0.0.1:{elsewhere.port}/p"
        with (
            hostile.zoo_server(hostile.redirect_to(location), tls=tls) as https,
            hostile.zoo_server(hostile.redirect_to(location)) as http,
        ):
            monkeypatch.setattr(socket.socket, "connect", recording_connect)
            result = pytester.runpytest(
                "-p",
                "no:cacheprovider",
                "--upgrade-timeout=5",
                f"--upgrade-target={https.url('https')}",
                f"--upgrade-target={http.url('http')}",
                f"--upgrade-ca={ca_pem}",
            )
            monkeypatch.undo()
        assert elsewhere.connections == 0
    assert "INTERNALERROR" not in result.stdout.str()
    allowed = {("127.0.0.1", https.port), ("127.0.0.1", http.port)}
    assert connected, "no connection was recorded"
    assert set(connected) <= allowed, set(connected) - allowed
    tests_run = {k: v for k, v in result.parseoutcomes().items() if not k.startswith("warning")}
    assert sum(tests_run.values()) == 6
