"""The zoo: hostile and broken targets, run through the plugin as users run it.

Each case starts a small loopback server from tests/support/hostile.py (over TLS with
a trustme certificate where the requirement needs https) and runs one
pytester session against it with ``--upgrade-target``: a marked test and a
declared requirement (``--upgrade-require``), two items. Every case must end
in a failed check or an error whose one-line cause names what went wrong, and
never in a pass, an INTERNALERROR, a traceback from inside the plugin, or a
hang: each item takes at most ``--upgrade-timeout`` + 1 s.

The malformed-field and problem-body cases are hypercorn apps (tests/support/apps.py)
under the bundled server.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import pathlib
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import trustme

from support import hostile
from support.apps import conftest_source

# The probe timeout of each session. A target that answers gets the plugin's
# default: its answer is what the case is about, and on a loaded machine the
# Python servers of the zoo may need more than a second to give it (the
# 10,000-header case missed 1 s under load). Only a target that stays silent
# on purpose gets a short one, since the case then waits all of it; where the
# same target must also serve the upgraded probe, a middle one.
TIMEOUT = 5.0
SILENT_TIMEOUT = 1.0
STALL_TIMEOUT = 3.0

MARKED = """
import pytest

@pytest.mark.requires_upgrade({marker})
def test_zoo():
    pass
"""

# Records each item's duration (setup + call + teardown) for the time bound.
TIMING_HOOK = """

import json as _json


class _Timer:
    def __init__(self, config):
        self.config = config
        self.durations = {}

    def pytest_runtest_logreport(self, report):
        self.durations[report.nodeid] = self.durations.get(report.nodeid, 0.0) + report.duration

    def pytest_sessionfinish(self, session):
        path = self.config.rootpath / "durations.json"
        path.write_text(_json.dumps(self.durations))


def pytest_configure(config):
    config.pluginmanager.register(_Timer(config), "zoo-timer")
"""

# A traceback entry in the plugin's code: 'File ".../pytest_upgrade/x.py", line N'
# (Python) or '.../pytest_upgrade/x.py:N: in f' and '...py:N: Error' (pytest).
# A PytestUpgradeWarning's location in the warnings summary is not one.
_PLUGIN_FRAME = re.compile(
    r'pytest_upgrade[/\\]\w+\.py(?:", line \d+|:\d+: (?!PytestUpgradeWarning))'
)


@dataclass
class Certs:
    ca: trustme.CA
    ca_pem: str
    good: str  # 127.0.0.1, issued by ca
    other_host: str  # other.example, issued by ca
    expired: str  # 127.0.0.1, expired yesterday
    self_signed: str  # 127.0.0.1, its own issuer


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    where = tmp_path_factory.mktemp("zoo-certs")
    ca = trustme.CA()
    ca_pem = where / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    now = dt.datetime.now(dt.UTC)
    issued = {
        "good": ca.issue_cert("127.0.0.1"),
        "other_host": ca.issue_cert("other.example"),
        "expired": ca.issue_cert(
            "127.0.0.1",
            not_before=now - dt.timedelta(days=30),
            not_after=now - dt.timedelta(days=1),
        ),
    }
    paths = {}
    for name, cert in issued.items():
        path = where / f"{name}.pem"
        cert.private_key_and_cert_chain_pem.write_to_path(str(path))
        paths[name] = str(path)
    hostile.self_signed_pem(str(where / "self_signed.pem"))
    return Certs(ca, str(ca_pem), self_signed=str(where / "self_signed.pem"), **paths)


@dataclass
class Run:
    result: pytest.RunResult
    elapsed: float
    durations: dict[str, float]
    items: int

    @property
    def text(self) -> str:
        return "\n".join(self.result.outlines + self.result.errlines)


def run_session(
    pytester: pytest.Pytester,
    *args: str,
    marker: str,
    require: str | None,
    conftest: str = "",
    timeout: float = TIMEOUT,
) -> Run:
    pytester.makeconftest(conftest + TIMING_HOOK)
    pytester.makepyfile(test_zoo=MARKED.format(marker=marker))
    options = ["-p", "no:cacheprovider", f"--upgrade-timeout={timeout:g}", *args]
    if require is not None:
        options.append(f"--upgrade-require={require}")
    start = time.monotonic()
    result = pytester.runpytest(*options)
    elapsed = time.monotonic() - start
    durations_file = pytester.path / "durations.json"
    durations = json.loads(durations_file.read_text()) if durations_file.exists() else {}
    return Run(result, elapsed, durations, items=1 if require is None else 2)


def has_line(run: Run, pattern: str) -> bool:
    return any(fnmatch.fnmatch(line, pattern) for line in run.text.splitlines())


def assert_honest(run: Run, expect: str, causes: list[str], *, timeout: float = TIMEOUT) -> None:
    """Every item ended as ``expect`` ("failed" or "error"), bounded, with its cause shown."""
    text = run.text
    assert "INTERNALERROR" not in text, text
    assert "Traceback (most recent call last)" not in text, text
    assert not _PLUGIN_FRAME.search(text), f"a frame from inside the plugin:\n{text}"
    outcomes = run.result.parseoutcomes()
    assert "passed" not in outcomes, text
    assert "skipped" not in outcomes, text
    keys = {"error": ("errors",), "failed": ("failed",), "either": ("errors", "failed")}[expect]
    assert sum(outcomes.get(key, 0) for key in keys) == run.items, text
    # The compliance summary names each requirement's verdict.
    verdicts = {"error": ("ERROR   ",), "failed": ("FAILED  ",), "either": ("ERROR   ", "FAILED  ")}
    summary = [line for line in text.splitlines() if line.startswith(verdicts[expect])]
    assert len(summary) == run.items, text
    for pattern in causes:
        assert has_line(run, pattern), f"no line matches {pattern!r}:\n{text}"
    # Never a hang: each item within two probe timeouts (its probes run
    # concurrently, so a hostile target costs one) and a second of scheduling
    # on a loaded machine, the run within the items' bounds plus the session's
    # own start and end.
    assert len(run.durations) == run.items, run.durations
    for nodeid, duration in run.durations.items():
        assert duration <= 2 * timeout + 1, f"{nodeid} took {duration:.2f} s"
    assert run.elapsed <= run.items * 2 * timeout + 5, f"the run took {run.elapsed:.2f} s"
    for line in summary:  # shown with -s, and collected for the issue's closing note
        print(f"[zoo] {line}")
    for pattern in causes:
        print(f"[zoo]   cause: {pattern}")


# -- the zoo over TLS (h2 requirements) and cleartext (h2c) ------------------------


@dataclass(frozen=True)
class Case:
    behaviour: Callable[..., Any]
    expect: str  # "failed", "error" or "either" (when timing decides close vs reset)
    causes: tuple[str, ...]
    tls: bool = True
    timeout: float = TIMEOUT


def stalled_legacy_answer(behaviour: Callable[..., Any]) -> Case:
    """A legacy answer that starts and stalls: a timeout is not evidence either way
    (issue 35), so the test cannot be evaluated."""
    return Case(
        hostile.legacy_only(behaviour),
        "error",
        ("*cannot evaluate h2 GET /v2/orders: legacy probe*no answer within 3 s*",),
        timeout=STALL_TIMEOUT,
    )


H2_MARKER = '"h2", path="/v2/orders"'
H2C_MARKER = '"h2c", path="/v2/orders"'


def run_trusting(
    pytester: pytest.Pytester,
    certs: Certs,
    server: hostile.ZooServer,
    *,
    marker: str = H2_MARKER,
    require: str = "h2 /x",
) -> Run:
    """A session against ``server`` over TLS, the zoo's private CA given."""
    return run_session(
        pytester,
        f"--upgrade-target={server.url()}",
        f"--upgrade-ca={certs.ca_pem}",
        marker=marker,
        require=require,
    )


ZOO = {
    "accepts-and-never-answers": Case(
        hostile.silent,
        "error",
        ("*cannot evaluate h2 GET /v2/orders: the target did not answer*no answer within 1 s*",),
        timeout=SILENT_TIMEOUT,
    ),
    "accepts-and-never-answers-cleartext": Case(
        hostile.silent,
        "error",
        ("*cannot evaluate h2c GET /v2/orders: the target did not answer*no answer within 1 s*",),
        tls=False,
        timeout=SILENT_TIMEOUT,
    ),
    "status-line-then-stall": stalled_legacy_answer(hostile.status_then_stall),
    "drips-one-byte-a-second": stalled_legacy_answer(hostile.drip),
    # Closing with the ClientHello unread resets the connection, or not,
    # depending on timing: a refused handshake (status-426 fails) or no
    # answer at all (an error); either names the cause.
    "closes-right-after-accept": Case(
        hostile.close_at_once,
        "either",
        ("*TLS handshake*",),
    ),
    "closes-right-after-accept-cleartext": Case(
        hostile.close_at_once,
        "error",
        ("*cannot evaluate h2c GET /v2/orders: the target gave no HTTP answer*",),
        tls=False,
    ),
    "resets-mid-response": Case(
        hostile.legacy_only(hostile.reset_mid_response),
        "failed",
        ("*✘ status-426 [[]must*", "*actual:*reset by the peer*"),
    ),
    "resets-at-once-cleartext": Case(
        hostile.reset_at_once,
        "error",
        ("*cannot evaluate h2c GET /v2/orders: the target gave no HTTP answer*reset*",),
        tls=False,
    ),
    "ssh-banner-on-tls-port": Case(
        hostile.ssh_banner,
        "error",
        ("*cannot evaluate h2 GET /v2/orders: *did not answer with TLS*",),
    ),
    # The banner is no status line; the probes wait out the timeout for one.
    "ssh-banner-cleartext": Case(
        hostile.ssh_banner,
        "error",
        ("*cannot evaluate h2c GET /v2/orders: the target gave no HTTP answer*",),
        tls=False,
        timeout=SILENT_TIMEOUT,
    ),
    "random-bytes-cleartext": Case(
        hostile.random_bytes,
        "error",
        ("*cannot evaluate h2c GET /v2/orders: the target gave no HTTP answer*invalid*",),
        tls=False,
    ),
    "tls-alert-on-cleartext-port": Case(
        hostile.tls_alert,
        "error",
        ("*cannot evaluate h2c GET /v2/orders: the target gave no HTTP answer*invalid*",),
        tls=False,
    ),
    "cleartext-on-tls-port": Case(
        hostile.cleartext_on_tls_port,
        "error",
        ("*cannot evaluate h2 GET /v2/orders: *did not answer with TLS*cleartext port*",),
    ),
    "1-mb-header-line": Case(
        hostile.legacy_only(hostile.huge_header_line),
        "failed",
        ("*✘ status-426 [[]must*", "*actual:*invalid HTTP/1.x response*"),
    ),
    "10000-headers": Case(
        hostile.legacy_only(hostile.many_headers),
        "failed",
        ("*✘ status-426 [[]must*", "*actual:*invalid HTTP/1.x response*"),
    ),
}


@pytest.mark.parametrize("name", list(ZOO))
def test_zoo(pytester: pytest.Pytester, certs: Certs, name: str) -> None:
    case = ZOO[name]
    tls = hostile.server_context(certs.good) if case.tls else None
    marker, require = (H2_MARKER, "h2 /x") if case.tls else (H2C_MARKER, "h2c /x")
    with hostile.zoo_server(case.behaviour, tls=tls) as server:
        args = [f"--upgrade-target={server.url('https' if case.tls else 'http')}"]
        if case.tls:
            args.append(f"--upgrade-ca={certs.ca_pem}")
        run = run_session(pytester, *args, marker=marker, require=require, timeout=case.timeout)
    assert_honest(run, case.expect, list(case.causes), timeout=case.timeout)


# -- bounded reads: bodies that do not end ----------------------------------------


@pytest.mark.parametrize(
    "behaviour",
    [
        pytest.param(hostile.huge_body, id="50-mb-body"),
        pytest.param(hostile.endless_chunked, id="chunked-body-never-ends"),
    ],
)
def test_body_reads_are_bounded_and_never_pass(
    pytester: pytest.Pytester, certs: Certs, behaviour: Callable[..., Any]
) -> None:
    tls = hostile.server_context(certs.good)
    with hostile.zoo_server(hostile.legacy_only(behaviour), tls=tls) as server:
        run = run_trusting(pytester, certs, server)
        sent = server.sent
    # The probes read 1 MiB of body and then close: the server could not push
    # much more than that plus the socket buffers, nowhere near 50 MB.
    assert sent < 16 * 1000 * 1000, f"the server sent {sent} bytes"
    # A 426 whose body could not be read whole is not a pass: the problem
    # document was never seen.
    assert_honest(run, "failed", ["*problem-body*"])


# -- certificates ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cert", "with_ca", "cause"),
    [
        pytest.param("other_host", True, "*certificate verify failed*mismatch*", id="other-host"),
        pytest.param("expired", True, "*certificate verify failed*expired*", id="expired"),
        pytest.param(
            "self_signed", False, "*certificate verify failed*self*signed*", id="self-signed"
        ),
        pytest.param(
            "good", False, "*certificate verify failed*--upgrade-ca=PEM*", id="private-ca-not-given"
        ),
        # Advice that fits the cause: a CA given is never told to be given.
        pytest.param(
            "expired", True, "*expired (renew the server's certificate: no CA*", id="expired-advice"
        ),
        pytest.param(
            "other_host", True, "*(the certificate is not issued for 127.0.0.1*", id="name-advice"
        ),
        pytest.param(
            "self_signed", True, "*(the CA file given, *ca.pem, does not issue it*", id="ca-advice"
        ),
    ],
)
def test_untrusted_certificate_is_an_error(
    pytester: pytest.Pytester, certs: Certs, cert: str, with_ca: bool, cause: str
) -> None:
    tls = hostile.server_context(getattr(certs, cert))
    with hostile.zoo_server(hostile.legacy_only(hostile.answer_426), tls=tls) as server:
        args = [f"--upgrade-target={server.url()}"]
        if with_ca:
            args.append(f"--upgrade-ca={certs.ca_pem}")
        run = run_session(pytester, *args, marker=H2_MARKER, require="h2 /x")
    assert_honest(run, "error", [f"*cannot evaluate h2 GET /v2/orders: {cause}"])


def test_trusted_private_ca_passes(pytester: pytest.Pytester, certs: Certs) -> None:
    """The control for the zoo: the same server with a good certificate is compliant."""
    tls = hostile.server_context(certs.good)
    with hostile.zoo_server(hostile.legacy_only(hostile.answer_426), tls=tls) as server:
        run = run_trusting(pytester, certs, server)
    run.result.assert_outcomes(passed=2)


# -- redirects: never followed ------------------------------------------------------


@pytest.fixture
def elsewhere() -> Iterator[hostile.ZooServer]:
    """A second listener that no probe may ever contact."""
    with hostile.zoo_server(hostile.answer_426) as server:
        yield server


def test_redirect_loop_is_not_followed(pytester: pytest.Pytester, certs: Certs) -> None:
    """Every answer is a 308 to the same URL (wss:// so that a WebSocket client could follow)."""
    tls = hostile.server_context(certs.good)
    port: list[int] = []  # known once the server listens

    def loop(conn: Any) -> None:
        hostile.redirect_to(f"wss://127.0.0.1:{port[0]}/ws")(conn)

    with hostile.zoo_server(loop, tls=tls) as server:
        port.append(server.port)
        run = run_trusting(pytester, certs, server, marker='"websocket", path="/ws"')
        connections = server.connections
    assert_honest(run, "failed", ["*✘ status-426*308, not 426*"])
    # websocket: a plain GET, a handshake, one over HTTP/2 (RFC 8441) and a version
    # probe; h2: HTTP/1.1, HTTP/2, TLS 1.0 and TLS 1.1. A client following the loop comes back.
    assert connections <= 4 + 4, f"{connections} connections: a probe followed the redirect loop"


@pytest.mark.parametrize(
    ("scheme", "location_scheme"),
    [
        ("https", "https"),
        ("https", "wss"),
        ("http", "http"),
        ("http", "ws"),
    ],
)
def test_redirect_to_another_host_is_not_followed(
    pytester: pytest.Pytester,
    certs: Certs,
    elsewhere: hostile.ZooServer,
    scheme: str,
    location_scheme: str,
) -> None:
    """Probes never leave the target: a 308 elsewhere is a finding, not a hop."""
    tls = hostile.server_context(certs.good) if scheme == "https" else None
    location = f"{location_scheme}://127.0.0.1:{elsewhere.port}/ws"
    with hostile.zoo_server(hostile.redirect_to(location), tls=tls) as server:
        require = "h2 /x" if scheme == "https" else "HTTP/1.1 /x"
        args = [f"--upgrade-target={server.url(scheme)}"]
        if tls is not None:
            args.append(f"--upgrade-ca={certs.ca_pem}")
        run = run_session(pytester, *args, marker='"websocket", path="/ws"', require=require)
        reached = server.connections
    assert reached > 0
    assert elsewhere.connections == 0, f"a probe followed the redirect to {location}"
    assert_honest(run, "failed", ["*✘ status-426*308, not 426*"])


# -- malformed fields and problem bodies (hypercorn apps) ----------------------------

DEEP = 100_000

MALFORMED: dict[str, tuple[dict[str, Any], tuple[str, ...], tuple[str, ...]]] = {
    "upgrade-malformed": (
        {"upgrade": 'HTTP/2.0, "h2", /, HTTP/ 2'},
        (),
        ("*✘ upgrade-syntax [[]must*",),
    ),
    "upgrade-empty-list": ({"upgrade": ", ,"}, (), ("*✘ upgrade-syntax [[]must*",)),
    "connection-malformed": (
        {"connection": "keep-alive; upgrade"},
        (),
        ("*✘ connection-upgrade [[]must*",),
    ),
    "content-type-malformed": (
        {"content_type": "application/problem+json; charset"},
        ("--upgrade-strict",),
        ("*⚠ problem-media-type [[]should*",),
    ),
    "problem-body-invalid-json": (
        {"body": '{"status": 426, "title": "Upgrade Required",'},
        (),
        ("*✘ problem-body [[]must*", "*actual:*invalid JSON at line 1 column*"),
    ),
    "problem-body-nested-too-deep": (
        {"body": '{"a": ' * DEEP + "1" + "}" * DEEP},
        (),
        ("*✘ problem-body [[]must*",),
    ),
    "problem-body-array-nested-too-deep": (
        {"body": "[" * DEEP + "]" * DEEP},
        (),
        ("*✘ problem-body [[]must*",),
    ),
    "problem-body-nested-just-parseable": (
        {"body": '{"status": 400, "a": ' + '{"a": ' * 900 + "1" + "}" * 901},
        (),
        ("*✘ problem-body [[]must*",),
    ),
    "problem-body-lone-surrogates": (
        {"body": '{"status": 400, "title": "\\ud800", "detail": "\\udfff HTTP/2"}'},
        (),
        ("*✘ problem-body [[]must*status is 400*",),
    ),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_refusal(pytester: pytest.Pytester, name: str) -> None:
    behaviour, options, lines = MALFORMED[name]
    report = pytester.path / "report.json"
    run = run_session(
        pytester,
        *options,
        f"--upgrade-report={report}",
        marker=H2_MARKER,
        require="h2 /x",
        conftest=conftest_source(**behaviour),
    )
    assert_honest(run, "failed", list(lines))
    document = json.loads(report.read_text())
    assert {entry["verdict"] for entry in document["results"]} == {"failed"}


@pytest.mark.parametrize(
    ("deprecation", "sunset", "lines"),
    [
        pytest.param(
            "true",
            "next tuesday",
            ["*⚠ deprecation-header [[]should*", "*✘ sunset-header [[]must*"],
            id="draft-deprecation-and-garbage-sunset",
        ),
        pytest.param(
            "@not-a-number",
            "Tue, 31 Feb 2099 00:00:00 GMT",
            ["*⚠ deprecation-header [[]should*", "*✘ sunset-header [[]must*"],
            id="bad-sf-date-and-impossible-date",
        ),
        pytest.param(
            "@99999999999999999999",
            "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT",
            ["*deprecation-header*", "*✘ sunset-header [[]must*"],
            id="overflowing-date-and-two-sunsets",
        ),
    ],
)
def test_malformed_deprecation_and_sunset(
    pytester: pytest.Pytester, deprecation: str, sunset: str, lines: list[str]
) -> None:
    app = conftest_source(
        legacy_status=200,
        extra_headers=[("deprecation", deprecation), ("sunset", sunset)],
    )
    marker = '"h2", path="/v2/orders", after="2099-01-01"'
    run = run_session(
        pytester,
        "--upgrade-as-of=2026-01-01",
        marker=marker,
        require="h2 /x after=2099-01-01",
        conftest=app,
    )
    assert_honest(run, "failed", lines)


def test_report_paths_are_plain(tmp_path: pathlib.Path) -> None:
    """The plugin-frame pattern matches what a leaked traceback would show."""
    assert _PLUGIN_FRAME.search('  File "/x/src/pytest_upgrade/_probes.py", line 3')
    assert not _PLUGIN_FRAME.search(f"--cacert {tmp_path}/pytest-upgrade-ca-x/ca.pem")


def test_a_host_resetting_every_connection_cannot_be_evaluated(
    pytester: pytest.Pytester, certs: Certs
) -> None:
    # Issue 35: the resets were read as a refusal of TLS 1.2 (upgraded-succeeds failed).
    tls = hostile.server_context(certs.good)
    with hostile.zoo_server(hostile.reset_at_once, tls=tls) as server:
        run = run_trusting(
            pytester, certs, server, marker='"TLS/1.2", path="/v2/orders"', require="TLS/1.2 /x"
        )
    assert_honest(run, "error", ["*cannot evaluate TLS/1.2 GET /v2/orders: *"], timeout=TIMEOUT)
