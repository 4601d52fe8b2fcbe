"""A live target: the demo app under ``hypercorn`` in a separate process.

Started as tests/conftest.py's ``live_server`` does: the listening sockets are
bound here (127.0.0.1, ports chosen by the kernel) and inherited by the child,
and a trustme CA signs its certificate.
"""

from __future__ import annotations

import pathlib
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

import trustme
from _harness import DEMO_APP


@dataclass
class LiveServer:
    https_url: str
    http_url: str
    cafile: str
    process: subprocess.Popen[bytes]
    sockets: list[socket.socket] = field(default_factory=list)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for sock in self.sockets:
            sock.close()


def start(workdir: pathlib.Path, workers: int = 1) -> LiveServer:
    workdir.mkdir(parents=True)
    shutil.copy(DEMO_APP, workdir / "live_app.py")
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(workdir / "ca.pem"))
    ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(
        str(workdir / "server.pem")
    )
    tls = socket.create_server(("127.0.0.1", 0), backlog=512)
    plain = socket.create_server(("127.0.0.1", 0), backlog=512)
    command = [
        sys.executable, "-m", "hypercorn", "live_app:app",
        "--certfile", "server.pem", "--keyfile", "server.pem",
        "--bind", f"fd://{tls.fileno()}", "--insecure-bind", f"fd://{plain.fileno()}",
        "--graceful-timeout", "1", "--workers", str(workers),
    ]  # fmt: skip
    # Its log goes to a file: a pipe nobody reads would fill and stall the server.
    with open(workdir / "hypercorn.log", "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            pass_fds=(tls.fileno(), plain.fileno()),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(
        f"https://127.0.0.1:{tls.getsockname()[1]}",
        f"http://127.0.0.1:{plain.getsockname()[1]}",
        str(workdir / "ca.pem"),
        process,
        [tls, plain],
    )
    try:
        _wait_until_serving(plain.getsockname()[1], process, workdir / "hypercorn.log")
    except BaseException:
        server.stop()
        raise
    return server


def _wait_until_serving(port: int, process: subprocess.Popen[bytes], log: pathlib.Path) -> None:
    """The socket accepts at once (it is ours); wait until hypercorn answers on it."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log.read_text(errors="replace")
            raise RuntimeError(f"hypercorn exited with {process.returncode}: {output}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                probe.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if probe.recv(16).startswith(b"HTTP/1.1"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("hypercorn did not answer within 20 s")
