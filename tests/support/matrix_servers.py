"""Start third-party servers on loopback for the server matrix.

The matrix is tests/integration/test_server_matrix*.py.

Each server runs in its own process with a configuration written into a
private temporary directory, listening on 127.0.0.1 ports chosen here. A
server is ready when every one of its ports accepts a TCP connection; if the
process exits first, or the deadline passes, starting fails with its stderr.
Stopping terminates the process and waits for it (then kills it).

Native servers (nginx, Apache httpd, Caddy, HAProxy) come from the operating
system's packages (.ci/run installs them where it can); a missing binary is a
skip with its name, never a pass. The certificate of every server is issued
for 127.0.0.1 by one throw-away trustme CA per session (the ``certificates``
fixture of tests/integration/conftest.py), which the plugin trusts through
``--upgrade-ca``.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
import trustme

START_TIMEOUT = 20.0


@dataclass
class Certificates:
    """A CA and a certificate for ``names`` (127.0.0.1), as files in a private directory."""

    directory: pathlib.Path
    names: tuple[str, ...] = ("127.0.0.1",)  # what the certificate is issued for
    ca: str = field(init=False)
    cert: str = field(init=False)
    key: str = field(init=False)
    chain: str = field(init=False)  # key and certificate in one file (HAProxy, websockets)

    def __post_init__(self) -> None:
        self.directory.chmod(0o700)
        authority = trustme.CA()
        leaf = authority.issue_cert(*self.names)
        self.ca = str(self.directory / "ca.pem")
        self.cert = str(self.directory / "cert.pem")
        self.key = str(self.directory / "key.pem")
        self.chain = str(self.directory / "chain.pem")
        authority.cert_pem.write_to_path(self.ca)
        leaf.cert_chain_pems[0].write_to_path(self.cert)
        for pem in leaf.cert_chain_pems[1:]:
            pem.write_to_path(self.cert, append=True)
        leaf.private_key_pem.write_to_path(self.key)
        leaf.private_key_and_cert_chain_pem.write_to_path(self.chain)
        for name in (self.key, self.chain):
            os.chmod(name, 0o600)


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports that were free a moment ago."""
    sockets = [socket.create_server(("127.0.0.1", 0)) for _ in range(count)]
    try:
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def binary(name: str, *more: str) -> str:
    """The path of the first of ``name``, ``more`` found, or skip the test naming them."""
    for candidate in (name, *more):
        found = shutil.which(candidate) or next(
            (
                str(path)
                for path in (
                    pathlib.Path("/usr/sbin") / candidate,
                    pathlib.Path("/sbin") / candidate,
                )
                if path.exists()
            ),
            None,
        )
        if found:
            return found
    pytest.skip(f"{name} is not installed (the server under test); .ci/run installs it with apt")


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Running:
    name: str
    process: subprocess.Popen[bytes]
    workdir: pathlib.Path
    ports: list[int]

    def stderr(self) -> str:
        path = self.workdir / "stderr.txt"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        stop(self.process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """End a server process: terminate it, and kill it after 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start(
    name: str,
    argv: Sequence[str],
    workdir: pathlib.Path,
    ports: Sequence[int],
    *,
    env: dict[str, str] | None = None,
) -> Running:
    """Run ``argv`` in ``workdir`` and wait until every port in ``ports`` accepts."""
    workdir.mkdir(parents=True, exist_ok=True)
    with (workdir / "stderr.txt").open("wb") as stderr:
        process = subprocess.Popen(
            list(argv),
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
            env={**os.environ, **(env or {})},
        )
    running = Running(name, process, workdir, list(ports))
    deadline = time.monotonic() + START_TIMEOUT
    waiting = list(ports)
    while waiting:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}: {running.stderr()}")
        if time.monotonic() > deadline:
            running.stop()
            raise RuntimeError(
                f"{name} did not listen within {START_TIMEOUT:g} s: {running.stderr()}"
            )
        waiting = [port for port in waiting if not _accepts(port)]
        if waiting:
            time.sleep(0.05)
    # A port taken by someone else between free_ports() and the bind also
    # "accepts"; the server that could not bind it exits. Look once more.
    time.sleep(0.1)
    if process.poll() is not None:
        raise RuntimeError(f"{name} exited with {process.returncode}: {running.stderr()}")
    return running


def caddy_site(port: int, certificates: Certificates, directives: str) -> str:
    """A Caddyfile: one HTTPS site on 127.0.0.1:``port`` (HTTP/1.1 and HTTP/2, no
    automatic HTTPS, no admin API) with ``directives`` (tab-indented lines)."""
    return f"""
{{
\tauto_https off
\tadmin off
\tservers {{
\t\tprotocols h1 h2
\t}}
}}
https://127.0.0.1:{port} {{
\t# The site address does not bind; without this Caddy listens on every interface.
\tbind 127.0.0.1
\ttls {certificates.cert} {certificates.key}
{directives}}}
"""


def start_caddy(workdir: pathlib.Path, caddyfile: str, port: int) -> Running:
    """Caddy (the Debian package) running ``caddyfile``, its state kept in ``workdir``."""
    executable = binary("caddy")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "Caddyfile").write_text(caddyfile)
    env = {"HOME": str(workdir), "XDG_DATA_HOME": str(workdir), "XDG_CONFIG_HOME": str(workdir)}
    argv = [executable, "run", "--config", str(workdir / "Caddyfile"), "--adapter", "caddyfile"]
    return start("Caddy", argv, workdir, [port], env=env)


NGINX_MAIN = """
daemon off;
master_process off;
worker_processes 1;
pid {w}/nginx.pid;
error_log {w}/error.log notice;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {w}/body;
  proxy_temp_path {w}/proxy;
  fastcgi_temp_path {w}/fastcgi;
  uwsgi_temp_path {w}/uwsgi;
  scgi_temp_path {w}/scgi;
{servers}
}}
"""


def start_nginx(workdir: pathlib.Path, servers: str, ports: Sequence[int]) -> Running:
    """nginx (the Debian package) in the foreground with ``servers`` as its http block."""
    executable = binary("nginx")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "nginx.conf").write_text(NGINX_MAIN.format(w=workdir, servers=servers))
    argv = [executable, "-p", str(workdir), "-c", str(workdir / "nginx.conf")]
    return start("nginx", [*argv, "-e", str(workdir / "error.log")], workdir, ports)


APACHE_MAIN = """
ServerRoot {w}
ServerName 127.0.0.1
{listen}
PidFile {w}/httpd.pid
ErrorLog {w}/error.log
LogLevel warn
{modules}
TypesConfig /dev/null
DocumentRoot {docs}
<Directory {docs}>
  Require all granted
</Directory>
{hosts}
"""
APACHE_MODULES_DIR = pathlib.Path("/usr/lib/apache2/modules")


def apache_ssl(certificates: Certificates) -> str:
    """A virtual host's mod_ssl lines: the certificate, TLS 1.2 and 1.3 only."""
    return (
        f"SSLEngine on\n  SSLCertificateFile {certificates.cert}\n"
        f"  SSLCertificateKeyFile {certificates.key}\n  SSLProtocol -all +TLSv1.2 +TLSv1.3"
    )


def serve_apache(
    workdir: pathlib.Path,
    hosts: str,
    ports: Sequence[int],
    modules: Sequence[str],
    documents: Sequence[str],
    *,
    needs: str,
) -> Iterator[Running]:
    """Apache httpd (the Debian package) in the foreground, listening on ``ports``, with
    ``hosts`` after the main configuration and the ``modules`` loaded (skipped with its
    name if mod_``needs`` is missing); each of ``documents`` (``dir/name``) holds
    ``{"ok": true}``. Stopped, and its documents removed, when the generator ends."""
    executable = binary("apache2", "httpd")
    if not (APACHE_MODULES_DIR / f"mod_{needs}.so").exists():
        pytest.skip(f"Apache httpd's mod_{needs} is not in {APACHE_MODULES_DIR}")
    # Run as root, httpd serves from children without privileges: the documents
    # live in a directory they can read (not below pytest's private temporary one).
    docs = pathlib.Path(tempfile.mkdtemp(prefix="apache-docs-"))
    try:
        docs.chmod(0o755)
        for document in documents:
            path = docs / document
            path.parent.mkdir(exist_ok=True)
            path.parent.chmod(0o755)
            path.write_text('{"ok": true}\n')
            path.chmod(0o644)
        conf = APACHE_MAIN.format(
            w=workdir,
            listen="\n".join(f"Listen 127.0.0.1:{port}" for port in ports),
            modules="\n".join(
                f"LoadModule {name}_module {APACHE_MODULES_DIR}/mod_{name}.so" for name in modules
            ),
            docs=docs,
            hosts=hosts,
        )
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "httpd.conf").write_text(conf)
        argv = [executable, "-f", str(workdir / "httpd.conf"), "-DFOREGROUND"]
        running = start("Apache httpd", argv, workdir, ports)
        try:
            yield running
        finally:
            running.stop()
    finally:
        shutil.rmtree(docs, ignore_errors=True)


H2_PROBLEM = (
    '{"type": "about:blank", "title": "Upgrade Required", "status": 426,'
    ' "detail": "This endpoint requires HTTP/2."}'
)


def nginx_h2_location(answer: str) -> str:
    """nginx's ``location = /v2/orders`` as an h2 requirement asks: over HTTP/1.x 426
    with ``Upgrade: HTTP/2.0``, ``Cache-Control: no-store`` and ``H2_PROBLEM``; over
    HTTP/2 200 with ``answer``."""
    return f"""
    location = /v2/orders {{
      default_type application/problem+json;
      if ($server_protocol != "HTTP/2.0") {{
        add_header Upgrade "HTTP/2.0" always;
        add_header Connection "Upgrade" always;
        add_header Cache-Control "no-store" always;
        return 426 '{H2_PROBLEM}';
      }}
      return 200 '{answer}';
    }}"""


def run_plugin(
    pytester: pytest.Pytester,
    targets: Sequence[str],
    cafile: str | None,
    test_source: str,
    *options: str,
) -> tuple[pytest.RunResult, dict[str, dict[str, Any]]]:
    """Run a marked suite against ``targets``; the result, and each check's JSON entry by id."""
    pytester.makepyfile(test_suite=test_source)
    report = pytester.path / "report.json"
    ca = [f"--upgrade-ca={cafile}"] if cafile else []
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--upgrade-timeout=5",
        *(f"--upgrade-target={url}" for url in targets),
        *ca,
        f"--upgrade-report={report}",
        *options,
    )
    return result, {check["id"]: check for check in report_entry(pytester)["checks"]}


def report_entry(pytester: pytest.Pytester) -> dict[str, Any]:
    """The one requirement's entry in the JSON report of the last ``run_plugin``."""
    (entry,) = json.loads((pytester.path / "report.json").read_text())["results"]
    return entry


def outcomes(checks: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {check_id: check["outcome"] for check_id, check in checks.items()}


def requirement_test(protocol: str, path: str, after: str | None = None) -> str:
    """A marked test with an empty body: the verdict is the plugin's alone."""
    deadline = f", after={after!r}" if after else ""
    return f"""
import pytest

@pytest.mark.requires_upgrade({protocol!r}, path={path!r}{deadline})
def test_requirement(upgrade):
    pass
"""


PYTHON = sys.executable
