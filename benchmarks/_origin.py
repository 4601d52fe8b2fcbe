"""The server of section 5 (latency), behind ``delay_proxy.py`` in its own process.

nginx (the Debian package) serves ``/v2/orders/...``: 426 with
``Upgrade: HTTP/2.0`` and a problem+json body over HTTP/1.1, 200 over HTTP/2,
TLS 1.2 and 1.3 only. Without nginx the demo app under hypercorn (``_live``)
stands in. The delaying proxy runs as its own process with one listening
port per simulated host, all forwarding to the one server.
"""

from __future__ import annotations

import contextlib
import json
import pathlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import trustme

HERE = pathlib.Path(__file__).resolve().parent

NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {w}/nginx.pid;
error_log {w}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {w}/body;
  proxy_temp_path {w}/proxy;
  fastcgi_temp_path {w}/fastcgi;
  uwsgi_temp_path {w}/uwsgi;
  scgi_temp_path {w}/scgi;
  server {{
    listen 127.0.0.1:{tls} ssl http2 backlog=1024;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    location /v2/orders/ {{
      default_type application/problem+json;
      if ($server_protocol != "HTTP/2.0") {{
        add_header Upgrade "HTTP/2.0" always;
        add_header Connection "Upgrade" always;
        add_header Cache-Control "no-store" always;
        return 426 '{problem}';
      }}
      return 200 '{{"ok": true}}';
    }}
  }}
}}
"""

PROBLEM = (
    '{"type": "about:blank", "title": "Upgrade Required", "status": 426,'
    ' "detail": "This endpoint requires HTTP/2 (HTTP/2.0); see the migration guide."}'
)


@dataclass
class Process:
    process: subprocess.Popen[bytes]
    extra: list[socket.socket] = field(default_factory=list)

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()  # the delay proxy's signal to end
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for sock in self.extra:
            sock.close()


@dataclass
class Origin:
    """The server behind the proxy: its TLS port, the CA to trust, what it is."""

    port: int
    cafile: str
    name: str
    stop: Callable[[], None]


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port: int = sock.getsockname()[1]
        return port


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: pathlib.Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listened on {port} within 20 s")


def start_origin(workdir: pathlib.Path) -> Origin:
    """nginx if installed, else hypercorn with the demo app (``_live``)."""
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if pathlib.Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        import _live  # noqa: PLC0415 (only without nginx)

        server = _live.start(workdir)
        port = int(server.https_url.rsplit(":", 1)[1])
        return Origin(port, server.cafile, "hypercorn (demo app)", server.stop)
    workdir.mkdir(parents=True)
    workdir.chmod(0o700)
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")  # localhost: the nodes of section 8
    cafile, cert, key = (str(workdir / n) for n in ("ca.pem", "cert.pem", "key.pem"))
    ca.cert_pem.write_to_path(cafile)
    leaf.cert_chain_pems[0].write_to_path(cert)
    leaf.private_key_pem.write_to_path(key)
    port = _free_port()
    conf = NGINX_CONF.format(w=workdir, tls=port, cert=cert, key=key, problem=PROBLEM)
    (workdir / "nginx.conf").write_text(conf)
    log = workdir / "stderr.txt"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                nginx,
                "-p",
                str(workdir),
                "-c",
                str(workdir / "nginx.conf"),
                "-e",
                str(workdir / "error.log"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )
    try:
        _wait_for_port(port, process, log)
    except BaseException:
        Process(process).stop()
        raise
    return Origin(port, cafile, "nginx", Process(process).stop)


def start_proxy(
    upstream: int,
    delay: float,
    listeners: int,
    lifetime: float,
    addresses: Sequence[str] = (),
) -> tuple[list[int], Process]:
    """``delay_proxy.py`` in its own process; the ports it listens on (with
    ``addresses``: one port, on each of them)."""
    argv = [
        sys.executable, str(HERE / "delay_proxy.py"),
        "--upstream", f"127.0.0.1:{upstream}", "--delay", str(delay),
        "--listeners", str(listeners), "--lifetime", str(lifetime),
    ]  # fmt: skip
    if addresses:
        argv += ["--addresses", ",".join(addresses)]
    process = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        Process(process).stop()
        raise RuntimeError("the delay proxy did not start")
    ports: list[int] = json.loads(line)["ports"]
    return ports, Process(process)
