"""Section 4, the facts of one h2 requirement gathered by hand versus the plugin's check.

By hand: the plugin's own reproduce commands (``curl --http1.1``,
``curl --http2``, ``openssl s_client -tls1`` and ``-tls1_1``), run one after
another; only their run time counts, not the reading of their output.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time

from _harness import Bench, HarnessError, Row, bundled_server, median_ms, ms
from _plugin import Plugin

from pytest_upgrade import Requirement
from pytest_upgrade.report.reproduce import reproduce_commands

TARGET_SPEEDUP = 3
NAME = "h2 facts by hand (runbook)"


def _by_hand(argvs: list[list[str]], env: dict[str, str]) -> None:
    outputs = []
    for argv in argvs:
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
            env=env,
            check=False,
        )
        outputs.append(done.stdout + done.stderr)
    # The facts: 426 over HTTP/1.1, 200 over HTTP/2, both old TLS versions refused.
    if "< HTTP/1.1 426" not in outputs[0] or "< HTTP/2 200" not in outputs[1]:
        raise HarnessError("the curl commands did not see 426 / HTTP/2 200")
    if any("Cipher is (NONE)" not in o and "alert" not in o for o in outputs[2:]):
        raise HarnessError("openssl s_client did not see TLS 1.0/1.1 refused")


def _kind(argv: list[str]) -> str:
    """``curl -sv --http2``, ``openssl s_client -tls1``: what a command asks for."""
    if argv[0] == "curl":
        return " ".join(argv[:3])
    return " ".join([*argv[:2], *(word for word in argv if word.startswith("-tls"))])


def run(bench: Bench) -> None:
    missing = [tool for tool in ("curl", "openssl") if shutil.which(tool) is None]
    for tool in missing:
        bench.report.add(Row("4", NAME, f"skipped: {tool} not installed"))
    if missing:
        return
    requirement = Requirement("h2", "/v2/orders")
    with bundled_server() as server, Plugin(server) as plugin:
        result = plugin.check(requirement)
        commands = reproduce_commands(result.observation, cafile=plugin.target.cafile)
        argvs = [shlex.split(c.removesuffix(" </dev/null")) for c in commands]
        _by_hand(argvs, bench.env)
        checks, hand = [], []
        for _ in range(bench.settings.runbook_iterations):
            t0 = time.perf_counter()
            plugin.check(requirement)
            t1 = time.perf_counter()
            _by_hand(argvs, bench.env)
            t2 = time.perf_counter()
            checks.append(t1 - t0)
            hand.append(t2 - t1)
    p, h = median_ms(checks), median_ms(hand)
    bench.report.add(
        Row(
            "4",
            f"h2 check vs {len(argvs)} runbook commands, serial (median of {len(hand)})",
            ms(p),
            ms(h),
            f"{h / p:.1f}x faster",
            f">= {TARGET_SPEEDUP}x faster",
            h / p >= TARGET_SPEEDUP,
        )
    )
    bench.report.note(
        "4: runbook = the plugin's own reproduce commands, one after another: "
        + "; ".join(_kind(argv) for argv in argvs)
        + ". Only the commands' run time is counted, not the reading of their output."
    )
