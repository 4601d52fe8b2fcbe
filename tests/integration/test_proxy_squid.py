"""Every TCP probe through a real egress proxy: squid (Debian's package) on a loopback port.

Two squids, one open and one asking for Basic credentials (its basic_ncsa_auth
helper, an htpasswd file in a private temp dir); both allow CONNECT to any
port of a loopback address (squid's default allows CONNECT to 443 only) and
nothing else. Taken by hand before the test was written:

    $ curl -so /dev/null -w '%{http_code}' --proxy http://127.0.0.1:P --proxytunnel URL
    000   (the auth squid: its 407 to CONNECT; with ci:s3cret@ in the proxy URL: 200)

What shows that the probes went through it is squid's own access log: a
``CONNECT 127.0.0.1:PORT`` line per tunnel, for the https and the http port.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from support.connect_proxies import closed_port
from support.matrix_servers import Running, binary, free_ports, start
from support.protocol_apps import protocol_app_source

USER, PASSWORD = "ci", "s3cret-p@ss"

SQUID_CONF = """
http_port 127.0.0.1:{port}
pid_filename {w}/squid.pid
cache_log {w}/cache.log
access_log stdio:{w}/access.log
cache deny all
cache_mem 8 MB
coredump_dir {w}
shutdown_lifetime 0 seconds
acl loopback_dst dst 127.0.0.0/8 ::1
http_access deny !loopback_dst
{auth}
http_access deny all
"""
OPEN = "http_access allow all"
AUTH = """
auth_param basic program {helper} {w}/htpasswd
auth_param basic realm pytest-upgrade
auth_param basic children 1
acl authed proxy_auth REQUIRED
http_access allow authed
"""

REQUIREMENTS = (
    "h2 /both",  # TLS with ALPN, and cleartext
    "TLS/1.2 /secure",  # the TLS-version handshakes, the RFC 2817 probe
    "h2c /internal",  # cleartext h2c and prior knowledge
    "websocket /ws",  # the RFC 6455 handshake (and RFC 8441 over h2)
    "HTTP/1.1 /legacy",  # HTTP/1.0 written by hand
)


@dataclass
class Squid:
    running: Running
    port: int
    workdir: pathlib.Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tunnels_since(self, before: int) -> list[str]:
        """The tunnels logged after the first ``before``: squid logs one when it closes,
        a moment after the client (an earlier run's kept-alive ones when its session
        ended); wait until the log stops growing."""
        seen = self.tunnels()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            time.sleep(0.3)
            now = self.tunnels()
            if now == seen:
                break
            seen = now
        return seen[before:]

    def tunnels(self) -> list[str]:
        """The CONNECT requests squid logged (``CONNECT 127.0.0.1:PORT``), with their status."""
        path = self.workdir / "access.log"
        lines = path.read_text().splitlines() if path.exists() else []
        return [
            f"{words[5]} {words[6]} {words[3].split('/')[-1]}"
            for words in (line.split() for line in lines)
            if len(words) > 6 and words[5] == "CONNECT"
        ]


def _helper() -> str:
    for path in ("/usr/lib/squid/basic_ncsa_auth", "/usr/lib/squid3/basic_ncsa_auth"):
        if os.path.exists(path):
            return path
    pytest.skip("squid's basic_ncsa_auth helper is not installed (apt package squid)")


def _start_squid(workdir: pathlib.Path, *, auth: bool) -> Squid:
    executable = binary("squid")
    (port,) = free_ports(1)
    auth_lines = OPEN
    if auth:
        digest = subprocess.run(
            ["openssl", "passwd", "-apr1", "-stdin"],
            input=PASSWORD,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        (workdir / "htpasswd").write_text(f"{USER}:{digest}\n")
        auth_lines = AUTH.format(helper=_helper(), w=workdir)
    (workdir / "squid.conf").write_text(SQUID_CONF.format(port=port, w=workdir, auth=auth_lines))
    if os.geteuid() == 0:
        shutil.chown(workdir, "proxy")
        for path in workdir.iterdir():
            shutil.chown(path, "proxy")
    argv = [executable, "-N", "-f", str(workdir / "squid.conf")]
    return Squid(start("squid", argv, workdir, [port]), port, workdir)


@contextlib.contextmanager
def _running_squid(*, auth: bool) -> Iterator[Squid]:
    # A private directory of its own under /tmp: started as root, squid runs as its
    # cache_effective_user (Debian: proxy), who cannot enter pytest's root-only
    # temporary directories.
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="pytest-upgrade-squid-"))
    try:
        squid = _start_squid(workdir, auth=auth)
        try:
            yield squid
        finally:
            squid.running.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def squid() -> Iterator[Squid]:
    with _running_squid(auth=False) as running:
        yield running


@pytest.fixture(scope="module")
def squid_auth() -> Iterator[Squid]:
    with _running_squid(auth=True) as running:
        yield running


@pytest.fixture
def target(live_server: Any) -> Any:
    return live_server(protocol_app_source())


def _run(
    pytester: pytest.Pytester, target: Any, *args: str, requirements: tuple[str, ...] = REQUIREMENTS
) -> tuple[pytest.RunResult, dict[str, Any]]:
    report = pytester.path / "report.json"
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--upgrade-timeout=5",
        f"--upgrade-target={target.https_url}",
        f"--upgrade-target={target.http_url}",
        f"--upgrade-ca={target.cafile}",
        f"--upgrade-report={report}",
        "-rA",
        *args,
        *(f"--upgrade-require={line}" for line in requirements),
    )
    document = json.loads(report.read_text()) if report.exists() else {}
    return result, document


def _outcomes(document: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Each requirement's check outcomes, by the requirement's line."""
    return {
        f"{e['requirement']['protocol']} {e['requirement']['method']} {e['requirement']['path']}": {
            c["id"]: c["outcome"] for c in e["checks"]
        }
        for e in document["results"]
    }


def _status_of(curl: str, env: dict[str, str] | None = None) -> str:
    """The HTTP status a reproduce command's curl gets (its ``-w '%{http_code}'``)."""
    shown = subprocess.run(
        ["bash", "-c", curl.replace("-o /dev/null", "-o /dev/null -w '%{http_code}'")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=env,
    )
    assert shown.stdout, shown.stderr
    return shown.stdout


def _tail(target: Any) -> str:
    """The https URL of ``h2 /both`` without its scheme."""
    return target.https_url.removeprefix("https://") + "/both"


def _ports(target: Any) -> tuple[str, str]:
    return target.https_url.rsplit(":", 1)[1], target.http_url.rsplit(":", 1)[1]


def test_every_tcp_probe_goes_through_squid_and_the_origin_is_judged(
    pytester: pytest.Pytester, squid: Squid, target: Any
) -> None:
    _, direct = _run(pytester, target, "--upgrade-proxy=none")
    before = len(squid.tunnels_since(0))
    result, document = _run(pytester, target, f"--upgrade-proxy={squid.url}")
    # The origin's own answers are judged: every check's outcome is the direct run's
    # (hypercorn answers an unknown WebSocket version with a bare 400: websocket-version
    # fails; it does not perform RFC 2817: tls-upgrade-performed warns).
    assert _outcomes(document) == _outcomes(direct)
    assert _outcomes(document)["websocket GET /ws"]["websocket-version"] == "failed"
    result.assert_outcomes(passed=len(REQUIREMENTS) - 1, failed=1, warnings=1)
    tls, plain = _ports(target)
    tunnels = squid.tunnels_since(before)
    # Every probe's connection is a tunnel of squid's, to the https and the http port.
    assert {line.split()[1] for line in tunnels} == {f"127.0.0.1:{tls}", f"127.0.0.1:{plain}"}
    assert all(line.endswith("/200") or line.endswith(" 200") for line in tunnels), tunnels
    # Each connection the probes opened is a tunnel (the TLS version handshakes' too);
    # a kept-alive one carries later requests through the same tunnel.
    exchanges = [x for e in document["results"] for x in e["exchanges"]]
    opened = sum(x["reused"] is False for x in exchanges)
    assert opened >= 10
    assert len(tunnels) >= opened
    assert any(x["reused"] for x in exchanges)
    result.stdout.fnmatch_lines(
        [f"upgrade: {target.https_url} and {target.http_url} through proxy 127.0.0.1:{squid.port}"]
    )
    result.stdout.fnmatch_lines([f"probed through proxy 127.0.0.1:{squid.port}"])
    for entry in document["results"]:
        assert entry["route"] == {"proxy": squid.url}
        commands = entry["reproduce"]
        assert commands
        assert all(f"--proxy {squid.url} --proxytunnel" in c for c in commands if "curl" in c)
    handshakes = [
        c for e in document["results"] for c in e["reproduce"] if c.startswith("openssl s_client")
    ]
    assert handshakes
    assert all(f"-proxy 127.0.0.1:{squid.port}" in c for c in handshakes)


def test_the_reproduce_commands_go_through_squid_too(
    pytester: pytest.Pytester, squid: Squid, target: Any
) -> None:
    _, document = _run(pytester, target, f"--upgrade-proxy={squid.url}", requirements=("h2 /both",))
    (entry,) = document["results"]
    curl = next(c for c in entry["reproduce"] if "--http1.1" in c and "https://" in c)
    assert curl.endswith(f"{target.https_url}/both")
    before = len(squid.tunnels_since(0))
    assert _status_of(curl) == "426"  # the origin's own answer, through the tunnel
    tls, _ = _ports(target)
    assert [t.split()[1] for t in squid.tunnels_since(before)] == [f"127.0.0.1:{tls}"]
    # openssl s_client -proxy too (the TLS 1.0 handshake, which hypercorn refuses).
    _, document = _run(
        pytester, target, f"--upgrade-proxy={squid.url}", requirements=("TLS/1.2 /secure",)
    )
    (entry,) = document["results"]
    openssl = next(c for c in entry["reproduce"] if c.startswith("openssl") and "-tls1 " in c)
    before = len(squid.tunnels_since(0))
    subprocess.run(["bash", "-c", openssl], capture_output=True, timeout=30, check=False)
    assert [t.split()[1] for t in squid.tunnels_since(before)] == [f"127.0.0.1:{tls}"]


def test_basic_credentials_from_the_url_never_printed(
    pytester: pytest.Pytester, squid_auth: Squid, target: Any
) -> None:
    userinfo = f"{USER}:{PASSWORD.replace('@', '%40')}"
    proxy = f"http://{userinfo}@127.0.0.1:{squid_auth.port}"
    result, document = _run(
        pytester,
        target,
        f"--upgrade-proxy={proxy}",
        "--upgrade-html=r.html",
        "--upgrade-markdown=r.md",
    )
    result.assert_outcomes(passed=len(REQUIREMENTS) - 1, failed=1, warnings=1)
    assert squid_auth.tunnels()
    seen = [
        result.stdout.str(),
        result.stderr.str(),
        json.dumps(document),
        (pytester.path / "r.html").read_text(),
        (pytester.path / "r.md").read_text(),
    ]
    # The HTML and Markdown headlines name the target with the way there.
    through = f"{target.https_url} and {target.http_url} through proxy 127.0.0.1:{squid_auth.port}"
    assert through in seen[3]  # the HTML page
    assert through in seen[4]  # the Markdown summary
    for text in seen:
        assert PASSWORD not in text
        assert "s3cret" not in text
        assert f"{USER}:" not in text
    commands = [c for e in document["results"] for c in e["reproduce"]]
    assert all(
        '--proxy-user "${UPGRADE_PROXY_USER}:${UPGRADE_PROXY_PASSWORD}"' in c
        for c in commands
        if c.startswith("curl")
    )
    # The commands work once the reader exports the credentials.
    curl = next(c for c in commands if "--http1.1" in c and c.endswith("https://" + _tail(target)))
    env = {**os.environ, "UPGRADE_PROXY_USER": USER, "UPGRADE_PROXY_PASSWORD": PASSWORD}
    assert _status_of(curl, env) == "426"


@pytest.mark.parametrize(
    ("userinfo", "said"),
    [
        ("", "the proxy requires credentials and none were given"),
        (f"{USER}:n0t-it@", "the proxy credentials given were refused"),
    ],
)
def test_missing_or_wrong_credentials_are_an_error_naming_the_proxy(
    pytester: pytest.Pytester, squid_auth: Squid, target: Any, userinfo: str, said: str
) -> None:
    proxy = f"http://{userinfo}127.0.0.1:{squid_auth.port}"
    result, document = _run(
        pytester, target, f"--upgrade-proxy={proxy}", requirements=("h2 /both",)
    )
    result.assert_outcomes(errors=1)
    (entry,) = document["results"]
    assert entry["verdict"] == "error"
    assert (
        f"proxy http://127.0.0.1:{squid_auth.port}: refused the tunnel to 127.0.0.1:"
        in (entry["error"])
    )
    assert "(407 Proxy Authentication Required)" in entry["error"]
    assert said in entry["error"]
    assert "n0t-it" not in result.stdout.str()
    assert "n0t-it" not in json.dumps(document)
    assert not entry["checks"] or all(c["outcome"] != "failed" for c in entry["checks"])


def test_the_environment_names_the_proxy_and_no_proxy_leaves_it_out(
    pytester: pytest.Pytester, squid: Squid, target: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("https_proxy", "http_proxy", "all_proxy", "no_proxy", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", squid.url)
    before = len(squid.tunnels_since(0))
    both = ("h2 /both", "h2c /internal")  # the https URL's probes, and the http URL's
    result, document = _run(pytester, target, requirements=both)
    result.assert_outcomes(passed=2)
    assert [e["route"] for e in document["results"]] == [{"proxy": squid.url}] * 2
    tls, plain = _ports(target)
    # The deployment's http URL goes the way of its https one.
    assert {t.split()[1] for t in squid.tunnels_since(before)} == {
        f"127.0.0.1:{tls}",
        f"127.0.0.1:{plain}",
    }
    for leave_out in (("NO_PROXY", "localhost,127.0.0.0/8"), ("no_proxy", "127.0.0.1")):
        monkeypatch.setenv(*leave_out)
        before = len(squid.tunnels_since(0))
        result, document = _run(pytester, target, requirements=("h2 /both",))
        result.assert_outcomes(passed=1)
        assert "route" not in document["results"][0]
        assert squid.tunnels_since(before) == []
        monkeypatch.delenv(leave_out[0])
    # --upgrade-proxy=none: direct, whatever the environment says.
    before = len(squid.tunnels_since(0))
    result, document = _run(pytester, target, "--upgrade-proxy=none", requirements=("h2 /both",))
    result.assert_outcomes(passed=1)
    assert squid.tunnels_since(before) == []


def test_a_targets_line_names_its_proxy(
    pytester: pytest.Pytester, squid: Squid, live_server: Any
) -> None:
    proxied = live_server(protocol_app_source())
    direct = live_server(protocol_app_source())
    targets = pytester.path / "targets.txt"
    targets.write_text(
        f"{proxied.https_url} ca={proxied.cafile} name=proxied proxy={squid.url}\n"
        f"{direct.https_url} ca={direct.cafile} name=direct proxy=none\n"
    )
    before = len(squid.tunnels_since(0))
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        f"--upgrade-targets-file={targets}",
        f"--upgrade-proxy={squid.url}",  # the line's proxy=none wins for "direct"
        "--upgrade-require=h2 /both",
    )
    result.assert_outcomes(passed=2)
    tls, _ = _ports(proxied)
    assert {t.split()[1] for t in squid.tunnels_since(before)} == {f"127.0.0.1:{tls}"}


def test_h3_is_skipped_through_a_proxy(
    pytester: pytest.Pytester, squid: Squid, target: Any
) -> None:
    result, _document = _run(
        pytester, target, f"--upgrade-proxy={squid.url}", requirements=("h3 /both",)
    )
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        [f"*HTTP/3 (QUIC, over UDP) cannot go through the HTTP proxy 127.0.0.1:{squid.port}*"]
    )


def test_under_xdist(pytester: pytest.Pytester, squid: Squid, target: Any) -> None:
    before = len(squid.tunnels_since(0))
    result, document = _run(
        pytester, target, f"--upgrade-proxy={squid.url}", "-p", "xdist", "-n", "2"
    )
    result.assert_outcomes(passed=len(REQUIREMENTS) - 1, failed=1)
    assert all(e["route"] == {"proxy": squid.url} for e in document["results"])
    opened = [x for e in document["results"] for x in e["exchanges"] if x["reused"] is False]
    assert len(opened) >= 10
    assert len(squid.tunnels_since(before)) >= len(opened)


def test_a_name_is_left_to_the_proxy_and_a_given_node_is_asked_for(
    pytester: pytest.Pytester, squid: Squid, target: Any
) -> None:
    tls, _ = _ports(target)
    by_name = f"https://localhost:{tls}"  # the live server's certificate names localhost too
    common = (
        "-p",
        "no:cacheprovider",
        f"--upgrade-target={by_name}",
        f"--upgrade-ca={target.cafile}",
        f"--upgrade-proxy={squid.url}",
        "--upgrade-require=h2 /both",
    )
    before = len(squid.tunnels_since(0))
    pytester.runpytest(*common).assert_outcomes(passed=1)
    # Not resolved here: squid is asked for the name.
    assert {t.split()[1] for t in squid.tunnels_since(before)} == {f"localhost:{tls}"}
    before = len(squid.tunnels_since(0))
    report = pytester.path / "node.json"
    result = pytester.runpytest(
        *common, f"--upgrade-resolve=localhost:{tls}:127.0.0.1", f"--upgrade-report={report}"
    )
    result.assert_outcomes(passed=1)
    # A node given: the tunnel goes to its address; SNI and verification keep the name.
    assert {t.split()[1] for t in squid.tunnels_since(before)} == {f"127.0.0.1:{tls}"}
    (entry,) = json.loads(report.read_text())["results"]
    assert entry["route"] == {"address": "127.0.0.1", "proxy": squid.url}
    curl = next(c for c in entry["reproduce"] if "--http1.1" in c)
    assert f"--connect-to localhost:{tls}:127.0.0.1:{tls}" in curl
    before = len(squid.tunnels_since(0))
    assert _status_of(curl) == "426"
    assert [t.split()[1] for t in squid.tunnels_since(before)] == [f"127.0.0.1:{tls}"]


def test_a_target_squid_cannot_reach_is_an_error_naming_the_proxy(
    pytester: pytest.Pytester, squid: Squid
) -> None:
    port = closed_port()
    report = pytester.path / "report.json"
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        f"--upgrade-target=https://127.0.0.1:{port}",
        f"--upgrade-proxy={squid.url}",
        "--upgrade-require=h2 /",
        f"--upgrade-report={report}",
    )
    result.assert_outcomes(errors=1)
    (entry,) = json.loads(report.read_text())["results"]
    # squid answers CONNECT with 503 when the target refuses it.
    assert f"proxy {squid.url}: refused the tunnel to 127.0.0.1:{port} (503 " in entry["error"]
    assert "the proxy could not reach the target" in entry["error"]
