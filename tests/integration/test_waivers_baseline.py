"""Switching the gate on where the fleet already fails: waivers, a baseline, the diff of two runs.

A fleet of live hypercorn servers: a compliant deployment and four failing
ones, one waived until next year, one waived until last month, one already
failing in the baseline, and one that fails only since the baseline.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

from support.apps import app_source

REQUIRE = "--upgrade-require=h2 /v2/orders"
AS_OF = "--upgrade-as-of=2026-12-01"
WAIVERS = """\
# the fleet's exceptions
[[waiver]]
checks = ["status-426"]
deployment = "legacy-eu"
requirement = "h2 /v2/orders"
until = 2027-06-30
reason = "OPS-1 old payment terminals"

[[waiver]]
deployment = "legacy-us"
requirement = "HTTP/2 /v2/orders"
until = 2026-11-01
reason = "OPS-2 migration"
"""


def _line(server, name: str) -> str:
    return f"{server.https_url} {server.http_url} ca={server.cafile} name={name}\n"


def _run(pytester: pytest.Pytester, targets: pathlib.Path, *args: str) -> pytest.RunResult:
    return pytester.runpytest(
        "-p", "no:cacheprovider", REQUIRE, AS_OF, f"--upgrade-targets-file={targets}", *args
    )  # fmt: skip


def _diff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_upgrade", "diff", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture
def fleet(live_server, pytester: pytest.Pytester) -> dict[str, pathlib.Path]:
    """The baseline's fleet and today's: the same names, "regressed" now failing."""
    good = live_server(app_source())
    bad = [live_server(app_source(legacy_status=200)) for _ in range(4)]
    names = ("legacy-eu", "legacy-us", "legacy-apac")
    common = _line(good, "good") + "".join(_line(s, n) for s, n in zip(bad, names, strict=False))
    before = pytester.path / "before.txt"
    before.write_text(common + _line(good, "regressed"))
    now = pytester.path / "now.txt"
    now.write_text(common + _line(bad[3], "regressed"))
    (pytester.path / "waivers.toml").write_text(WAIVERS)
    return {"before": before, "now": now}


def test_waived_known_expired_and_new(
    pytester: pytest.Pytester, fleet: dict[str, pathlib.Path]
) -> None:
    baseline = pytester.path / "baseline.json"
    first = _run(pytester, fleet["before"], f"--upgrade-report={baseline}")
    first.assert_outcomes(passed=2, failed=3)
    report = pytester.path / "now.json"
    html = pytester.path / "now.html"
    markdown = pytester.path / "now.md"
    result = _run(
        pytester, fleet["now"], "--upgrade-waivers=waivers.toml", f"--upgrade-baseline={baseline}",
        f"--upgrade-report={report}", f"--upgrade-html={html}", f"--upgrade-markdown={markdown}",
        "-rxf",
    )  # fmt: skip
    # One failure for the expired waiver, one for the regression; the rest waived/known.
    result.assert_outcomes(passed=1, failed=2, xfailed=2)
    result.stdout.fnmatch_lines(
        [
            "*XFAIL*legacy-eu h2 GET /v2/orders* - waived until 2027-06-30: OPS-1 old payment"
            " terminals (waivers.toml:2)",
            "*XFAIL*legacy-apac h2 GET /v2/orders* - failing since the baseline of 2026-12-01"
            " (status-426)",
        ],
        consecutive=False,
    )
    result.stdout.fnmatch_lines(["*upgrade waivers*", "*the failure stands: waiver expired on"
                                 " 2026-11-01: OPS-2 migration (waivers.toml:9)"])  # fmt: skip
    result.stdout.fnmatch_lines(
        ["KNOWN   h2 GET /v2/orders [[]status-426] (failing since the baseline of 2026-12-01*"]
    )
    result.stdout.fnmatch_lines(["FAILED  h2 GET /v2/orders [[]status-426] (waiver expired on*"])
    result.stdout.fnmatch_lines(["*requirements: 1 passed, 2 failed, 1 waived, 1 known*"])
    results = {r["deployment"]: r for r in json.loads(report.read_text())["results"]}
    assert {d: r["verdict"] for d, r in results.items()} == {
        "good": "passed",
        "legacy-eu": "waived",
        "legacy-us": "failed",
        "legacy-apac": "known",
        "regressed": "failed",
    }
    assert results["legacy-eu"]["waived"]["waivers"] == [
        {"where": "waivers.toml:2", "until": "2027-06-30", "reason": "OPS-1 old payment terminals"}
    ]
    assert results["legacy-apac"]["known"]["since"] == "2026-12-01"
    assert results["legacy-us"]["waiver_expired"][0]["until"] == "2026-11-01"
    page = html.read_text()
    assert 'value="waived"' in page
    assert 'value="known"' in page
    assert "1 waiver expires in the next 30 days" not in page  # 2027-06-30 is further
    assert "| 1 | 1 |" in markdown.read_text()
    # The diff of the two runs: the regression is the one new failure.
    done = _diff(str(baseline), str(report))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "regressed" in done.stdout.split("new failures", 1)[1].split("still failing", 1)[0]
    assert "1 new failure" in done.stdout
    same = _diff(str(report), str(report))
    assert same.returncode == 0, same.stdout + same.stderr


def test_the_same_under_xdist(pytester: pytest.Pytester, fleet: dict[str, pathlib.Path]) -> None:
    baseline = pytester.path / "baseline.json"
    _run(pytester, fleet["before"], f"--upgrade-report={baseline}").assert_outcomes(
        passed=2, failed=3
    )
    serial, parallel = pytester.path / "serial.json", pytester.path / "parallel.json"
    common = ("--upgrade-waivers=waivers.toml", f"--upgrade-baseline={baseline}")
    _run(pytester, fleet["now"], *common, f"--upgrade-report={serial}").assert_outcomes(
        passed=1, failed=2, xfailed=2
    )
    result = _run(pytester, fleet["now"], *common, "-n", "2", f"--upgrade-report={parallel}")
    result.assert_outcomes(passed=1, failed=2, xfailed=2)
    result.stdout.fnmatch_lines(["*requirements: 1 passed, 2 failed, 1 waived, 1 known*"])

    def verdicts(path: pathlib.Path) -> dict[str, str]:
        return {r["nodeid"]: r["verdict"] for r in json.loads(path.read_text())["results"]}

    assert verdicts(serial) == verdicts(parallel)
    # Two shards of the fleet, merged: the same verdicts again.
    lines = fleet["now"].read_text().splitlines(keepends=True)
    shards = []
    for n, part in enumerate((lines[:2], lines[2:])):
        targets = pytester.path / f"shard{n}.txt"
        targets.write_text("".join(part))
        shards.append(pytester.path / f"shard{n}.json")
        _run(pytester, targets, *common, f"--upgrade-report={shards[-1]}")
    merged = pytester.path / "merged.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest_upgrade", "merge", str(merged), *map(str, shards)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert verdicts(merged) == verdicts(serial)
